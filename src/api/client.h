// The Engine API client the CLI uses: HTTP/1.1 over a unix socket, with
// streamed request and response bodies.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "base/error.h"
#include "base/json.h"
#include "base/unique_fd.h"

namespace berth::api {

struct ClientResponse {
  int status = 0;
  std::map<std::string, std::string> headers;  // names lower-cased
  std::string body;                              // when not streamed
};

class Client {
 public:
  // socket: a path, or "unix:///path" as DOCKER_HOST spells it.
  explicit Client(std::string socket);
  ~Client();

  using Query = std::vector<std::pair<std::string, std::string>>;
  using BodySource = std::function<Result<size_t>(char* buf, size_t size)>;
  using BodySink = std::function<Result<void>(std::string_view)>;

  // One request. With on_data, the response body is handed over as it
  // arrives instead of collected.
  Result<ClientResponse> request(const std::string& method, const std::string& path, const Query& query = {},
                                 std::string_view body = {}, const std::string& content_type = "",
                                 const BodySink& on_data = nullptr, const BodySource& body_source = nullptr);

  // A request whose connection then carries a raw stream (attach, exec
  // start): the socket and whatever of the stream came with the headers.
  // A non-2xx answer becomes the daemon's message.
  struct Hijacked {
    UniqueFd fd;
    std::string pending;
  };
  Result<Hijacked> hijack(const std::string& path, const Query& query = {}, std::string_view json_body = {});

  // request() that turns a non-2xx status into the daemon's message.
  Result<Json> get_json(const std::string& path, const Query& query = {});

  const std::string& socket_path() const { return socket_; }
  // A header sent with every request of this client (X-Registry-Auth).
  void set_header(const std::string& name, const std::string& value) { headers_[name] = value; }

 private:
  std::string socket_;
  std::map<std::string, std::string> headers_;
};

// The daemon's {"message": …} of an error response, or the status text.
Error response_error(const ClientResponse& response);

std::string url_encode(std::string_view text);

}  // namespace berth::api
