// Between a hijacked client connection (attach, exec start) and a shim:
// the client's stdin to the process, its output back, multiplexed as the
// Engine API frames it unless the process has a tty.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "base/error.h"

namespace berth::api {

struct RelayOptions {
  bool stdin = false;        // forward what the client sends
  bool stdin_once = false;   // close the process's stdin when the client's ends
  bool tty = false;          // raw output instead of frames
  std::string detach_keys;   // bytes that end the attach (not the process); empty: none
};

// Runs until the process ends, the client goes away or detaches. Returns
// the exit status when the process ended (the shim reported it).
std::optional<int> relay_streams(int client_fd, const std::string& pending, int shim_fd, const RelayOptions& options);

// Watches input for the detach sequence, holding back a partial match.
class DetachScanner {
 public:
  explicit DetachScanner(std::string keys) : keys_(std::move(keys)) {}
  // Appends what should go on to out; true once the keys were typed.
  bool feed(std::string_view data, std::string& out);

 private:
  std::string keys_;
  size_t matched_ = 0;
};

// Docker's --detach-keys syntax ("ctrl-p,ctrl-q", "a,ctrl-@") as bytes.
Result<std::string> parse_detach_keys(const std::string& text);

}  // namespace berth::api
