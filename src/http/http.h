// HTTP as handlers see it, independent of the server library: a request
// with a streamed body, and a response written whole, streamed, or from a file.
#pragma once

#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/error.h"
#include "base/json.h"

namespace berth::http {

struct Request {
  std::string method;  // GET, POST, …
  std::string path;    // without the query, %-decoded
  std::string api_version;  // set by the Engine API router: "1.41" when the client asked for one
  std::multimap<std::string, std::string> query;  // a key may repeat (changes=…&changes=…)
  std::map<std::string, std::string> headers;  // names lower-cased
  std::map<std::string, std::string> params;   // from the route pattern: {name}
  // Reads the next piece of the body into buf; 0 at the end.
  std::function<Result<size_t>(char* buf, size_t size)> read_body;

  std::string query_value(const std::string& key, const std::string& fallback = "") const;
  std::vector<std::string> query_values(const std::string& key) const;
  bool query_flag(const std::string& key) const;  // "1", "true"
};

// Decodes %XX and '+' in a query component.
std::string url_decode(std::string_view text);

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
  // A response of length bytes of the file fd from offset (sendfile(2)).
  virtual Result<void> send_file(int status, const std::string& content_type, int fd, uint64_t offset, uint64_t length,
                                 const Headers& headers = {}) = 0;
  virtual bool started() const = 0;
  // Takes the connection over (attach, exec): answers "101 UPGRADED" when the
  // client asked to upgrade, else 200, then belongs to the handler, which
  // leaves the socket open; the server closes it after the handler returns.
  virtual Result<Hijacked> hijack(const std::string& content_type) = 0;

  Result<void> json(int status, const Json& body) { return send(status, "application/json", body.dump() + "\n"); }
};

}  // namespace berth::http
