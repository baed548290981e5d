// HTTP as the Engine API routes see it, independent of the server library:
// a request with a streamed body, and a response written whole or streamed.
#pragma once

#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/error.h"
#include "base/json.h"

namespace berth::api {

struct Request {
  std::string method;  // GET, POST, …
  std::string path;    // without the /v1.xx prefix and the query
  std::string api_version;  // "1.41" when the client asked for one
  std::multimap<std::string, std::string> query;  // a key may repeat (changes=…&changes=…)
  std::map<std::string, std::string> headers;  // names lower-cased
  std::map<std::string, std::string> params;   // from the route pattern: {name}
  // Reads the next piece of the body into buf; 0 at the end.
  std::function<Result<size_t>(char* buf, size_t size)> read_body;

  std::string query_value(const std::string& key, const std::string& fallback = "") const;
  std::vector<std::string> query_values(const std::string& key) const;
  bool query_flag(const std::string& key) const;  // "1", "true"
};

// A connection taken over for a raw stream: the socket, and what the client
// sent beyond the request already.
struct Hijacked {
  int fd = -1;
  std::string pending;
};

class ResponseWriter {
 public:
  virtual ~ResponseWriter() = default;
  // A complete response.
  using Headers = std::map<std::string, std::string>;
  virtual Result<void> send(int status, const std::string& content_type, std::string_view body, const Headers& headers = {}) = 0;
  // Starts a streamed (chunked) response; then write() pieces and finish().
  virtual Result<void> begin_stream(int status, const std::string& content_type, const Headers& headers = {}) = 0;
  virtual Result<void> write(std::string_view data) = 0;
  virtual Result<void> finish() = 0;
  virtual bool started() const = 0;
  // Takes the connection over (attach, exec): answers "101 UPGRADED" when the
  // client asked to upgrade, else 200, then belongs to the handler, which
  // leaves the socket open; the server closes it after the handler returns.
  virtual Result<Hijacked> hijack(const std::string& content_type) = 0;

  Result<void> json(int status, const Json& body) { return send(status, "application/json", body.dump() + "\n"); }
};

// The status code for an error from below, by its errno: ENOENT 404 ("No
// such image"), EBUSY/EEXIST 409 (conflicts), EINVAL 400 (bad input), else 500.
int status_for(const Error& error);

}  // namespace berth::api
