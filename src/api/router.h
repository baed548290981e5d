// Engine API routing: method + path pattern to a handler, with Docker's
// version prefix (/v1.41/...) stripped and errors as {"message": …}.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "http/http.h"

namespace berth::api {

using http::Hijacked;
using http::Request;
using http::ResponseWriter;
using http::url_decode;


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

// The status code for an error from below, by its errno: ENOENT 404 ("No
// such image"), EBUSY/EEXIST 409 (conflicts), EINVAL 400 (bad input), else 500.
int status_for(const Error& error);

}  // namespace berth::api
