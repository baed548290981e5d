// An HTTP/1.1 server (Boost.Beast) on a unix socket (berthd) or a TCP
// address (berth-registry), one thread per connection so that long streams
// (events, logs, attach, blobs) block nobody.
#pragma once

#include <signal.h>

#include <atomic>
#include <functional>
#include <memory>
#include <string>

#include "base/error.h"
#include "base/unique_fd.h"
#include "http/http.h"

namespace boost::asio::ssl {
class context;
}

namespace berth::http {

using Dispatch = std::function<void(Request&, ResponseWriter&)>;

class HttpServer {
 public:
  // headers go on every response (the Engine API's Api-Version, the
  // registry's Docker-Distribution-API-Version).
  HttpServer(Dispatch dispatch, ResponseWriter::Headers headers) : dispatch_(std::move(dispatch)), headers_(std::move(headers)) {}

  // Binds the socket (replacing a stale one), mode 0660, group "berth" when it exists.
  Result<void> listen(const std::string& socket_path);
  // Binds "HOST:PORT" (an IPv4 address, "localhost", or "[v6]:PORT").
  Result<void> listen_tcp(const std::string& address);
  // Serves HTTPS with this PEM certificate (chain) and key; raw streams
  // (hijack) are not served over TLS.
  Result<void> use_tls(const std::string& cert_path, const std::string& key_path);
  // The port listen_tcp bound (useful with port 0).
  int port() const;
  // Accepts until stop() is called from a signal handler or another thread.
  void run();
  // run() until one of the signals (blocked in every thread) comes.
  void run_until(const sigset_t& signals);
  void stop();

 private:
  Dispatch dispatch_;
  ResponseWriter::Headers headers_;
  UniqueFd listener_;
  int family_ = 0;
  std::string socket_path_;
  std::shared_ptr<boost::asio::ssl::context> tls_;
  std::atomic<bool> stopping_{false};
};

}  // namespace berth::http
