// Engine API routing: method + path pattern to a handler, with Docker's
// version prefix (/v1.41/...) stripped and errors as {"message": …}.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "api/http.h"

namespace berth::api {

using Handler = std::function<Result<void>(Request&, ResponseWriter&)>;

class Router {
 public:
  // pattern: literal segments and at most one parameter, "{name}" for one
  // segment or "{name*}" for several ("/images/{name*}/json" matches
  // "/images/localhost:5000/a/b:tag/json").
  void add(const std::string& method, const std::string& pattern, Handler handler);

  // Routes a request whose path may carry the version prefix; an error from
  // the handler becomes Docker's JSON error with its status.
  void dispatch(Request& request, ResponseWriter& response) const;

 private:
  struct Route {
    std::string method, prefix, param, suffix;
    bool has_param = false, multi_segment = false;
    Handler handler;
  };
  std::vector<Route> routes_;
};

// Splits "/v1.41/images/json" into "1.41" and "/images/json".
std::pair<std::string, std::string> split_version(std::string_view path);

// Decodes %XX and '+' in a query component.
std::string url_decode(std::string_view text);

}  // namespace berth::api
