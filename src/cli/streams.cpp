#include "cli/streams.h"

#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <memory>
#include <thread>

#include "api/stream_relay.h"
#include "base/file.h"

namespace berth::cli {

void FrameSplitter::feed(std::string_view data) {
  buffer_.append(data);
  size_t at = 0;
  while (buffer_.size() - at >= 8) {
    uint32_t size = 0;
    for (int i = 4; i < 8; ++i) size = (size << 8) | static_cast<unsigned char>(buffer_[at + i]);
    if (buffer_.size() - at - 8 < size) break;
    int fd = buffer_[at] == 2 ? 2 : 1;
    (void)write_all(fd, std::string_view(buffer_).substr(at + 8, size));
    at += 8 + size;
  }
  buffer_.erase(0, at);
}

Result<bool> pump_streams(api::Client::Hijacked& connection, const StreamOptions& options) {
  int sock = connection.fd.get();
  auto detached = std::make_shared<std::atomic<bool>>(false);
  if (options.stdin) {
    auto scanner = std::make_shared<api::DetachScanner>(TRY(api::parse_detach_keys(options.detach_keys)));
    // A thread of its own: a blocking read of our stdin must not hold up output.
    std::thread([sock, scanner, detached] {
      char buf[32768];
      for (;;) {
        ssize_t n = ::read(0, buf, sizeof buf);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) break;
        std::string forward;
        bool detach = scanner->feed(std::string_view(buf, static_cast<size_t>(n)), forward);
        if (!write_all(sock, forward)) break;
        if (detach) {
          *detached = true;
          ::shutdown(sock, SHUT_RDWR);
          return;
        }
      }
      ::shutdown(sock, SHUT_WR);
    }).detach();
  } else {
    ::shutdown(sock, SHUT_WR);
  }
  FrameSplitter splitter;
  auto output = [&](std::string_view data) {
    if (options.tty) (void)write_all(1, data);
    else splitter.feed(data);
  };
  output(connection.pending);
  char buf[65536];
  for (;;) {
    ssize_t n = ::read(sock, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && *detached) return true;
    if (n < 0) return fail_errno("read from the daemon");
    if (n == 0) return detached->load();
    output(std::string_view(buf, static_cast<size_t>(n)));
  }
}

RawTerminal::RawTerminal(int fd) : fd_(fd) {
  termios t{};
  if (!::isatty(fd) || ::tcgetattr(fd, &t) != 0) return;
  saved_ = t;
  ::cfmakeraw(&t);
  ::tcsetattr(fd, TCSANOW, &t);
}

RawTerminal::~RawTerminal() {
  if (saved_) ::tcsetattr(fd_, TCSANOW, &*saved_);
}

std::optional<std::pair<int, int>> terminal_size(int fd) {
  winsize ws{};
  if (!::isatty(fd) || ::ioctl(fd, TIOCGWINSZ, &ws) != 0) return std::nullopt;
  return std::make_pair(static_cast<int>(ws.ws_row), static_cast<int>(ws.ws_col));
}

}  // namespace berth::cli
