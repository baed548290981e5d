#include "api/stream_relay.h"

#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "base/file.h"
#include "shim/protocol.h"

namespace berth::api {

Result<std::string> parse_detach_keys(const std::string& text) {
  std::string out;
  size_t start = 0;
  while (start <= text.size()) {
    size_t comma = text.find(',', start);
    std::string key = text.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
    if (key.size() == 1) {
      out += key[0];
    } else if (key.size() == 6 && key.starts_with("ctrl-")) {
      char c = key[5];
      if (c >= 'a' && c <= 'z') out += static_cast<char>(c - 'a' + 1);
      else if (c == '@') out += '\0';
      else if (c >= '[' && c <= '_') out += static_cast<char>(c - '[' + 27);
      else return fail("Invalid detach keys (" + text + ") provided", EINVAL);
    } else {
      return fail("Invalid detach keys (" + text + ") provided", EINVAL);
    }
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  return out;
}

bool DetachScanner::feed(std::string_view data, std::string& out) {
  for (char c : data) {
    if (!keys_.empty() && c == keys_[matched_]) {
      if (++matched_ == keys_.size()) return true;
      continue;
    }
    out.append(keys_, 0, matched_);
    matched_ = 0;
    if (!keys_.empty() && c == keys_[0]) {
      matched_ = 1;
      continue;
    }
    out += c;
  }
  return false;
}

std::optional<int> relay_streams(int client_fd, const std::string& pending, int shim_fd, const RelayOptions& options) {
  DetachScanner scanner(options.stdin ? options.detach_keys : "");
  bool reading_client = true;
  auto from_client = [&](std::string_view data) -> bool {  // false: detached
    if (!options.stdin) return true;
    std::string forward;
    bool detached = scanner.feed(data, forward);
    if (!forward.empty()) (void)shim::write_frame(shim_fd, shim::kStdin, forward);
    return !detached;
  };
  if (!pending.empty() && !from_client(pending)) return std::nullopt;
  std::string input;
  char buf[65536];
  for (;;) {
    pollfd fds[2] = {{shim_fd, POLLIN, 0}, {client_fd, static_cast<short>(reading_client ? POLLIN : 0), 0}};
    if (::poll(fds, 2, -1) < 0) {
      if (errno == EINTR) continue;
      return std::nullopt;
    }
    if (fds[1].revents & (POLLIN | POLLHUP | POLLERR)) {
      ssize_t n = ::read(client_fd, buf, sizeof buf);
      if (n > 0) {
        if (!from_client(std::string_view(buf, static_cast<size_t>(n)))) return std::nullopt;
      } else if (n == 0 || errno != EINTR) {
        // The client closed its side (docker does at once when it sends no
        // stdin): output still goes back.
        if (n < 0) return std::nullopt;
        reading_client = false;
        if (options.stdin && options.stdin_once) (void)shim::write_frame(shim_fd, shim::kStdin, "");
      }
    }
    if (fds[0].revents & (POLLIN | POLLHUP | POLLERR)) {
      ssize_t n = ::read(shim_fd, buf, sizeof buf);
      if (n <= 0) return std::nullopt;
      input.append(buf, static_cast<size_t>(n));
      while (auto frame = shim::take_frame(input)) {
        if (frame->type == shim::kExit) return std::atoi(frame->payload.c_str());
        if (frame->type != shim::kStdout && frame->type != shim::kStderr) continue;
        std::string out = options.tty ? std::string() : shim::frame_header(frame->type, frame->payload.size());
        out += frame->payload;
        if (!write_all(client_fd, out)) return std::nullopt;
      }
    }
  }
}

}  // namespace berth::api
