// The daemon's HTTP/1.1 server on a unix socket (Boost.Beast), one thread
// per connection so that long streams (events, logs, attach) block nobody.
#pragma once

#include <atomic>
#include <string>

#include "api/router.h"
#include "base/error.h"
#include "base/unique_fd.h"

namespace berth::api {

class HttpServer {
 public:
  explicit HttpServer(const Router& router) : router_(router) {}

  // Binds the socket (replacing a stale one), mode 0660, group "berth" when it exists.
  Result<void> listen(const std::string& socket_path);
  // Accepts until stop() is called from a signal handler or another thread.
  void run();
  void stop();

 private:
  const Router& router_;
  UniqueFd listener_;
  std::string socket_path_;
  std::atomic<bool> stopping_{false};
};

}  // namespace berth::api
