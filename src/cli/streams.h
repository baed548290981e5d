// The CLI's side of a container's streams: a hijacked connection's output
// to our stdout/stderr (split from Docker's frames unless there is a tty),
// our stdin to it, and the terminal in raw mode.
#pragma once

#include <termios.h>

#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include "api/client.h"
#include "base/error.h"

namespace berth::cli {

// Splits Docker's multiplexed frames into stdout and stderr as they come.
class FrameSplitter {
 public:
  void feed(std::string_view data);

 private:
  std::string buffer_;
};

struct StreamOptions {
  bool tty = false;
  bool stdin = false;  // send our stdin (then close the write side at its end)
  std::string detach_keys;  // "ctrl-p,ctrl-q": typed on stdin, they end the stream
};

// Copies until the daemon ends the stream; true when the user detached.
Result<bool> pump_streams(api::Client::Hijacked& connection, const StreamOptions& options);

// Puts the terminal on fd in raw mode until destroyed (nothing if not a tty).
class RawTerminal {
 public:
  explicit RawTerminal(int fd);
  ~RawTerminal();
  RawTerminal(const RawTerminal&) = delete;
  RawTerminal& operator=(const RawTerminal&) = delete;

 private:
  int fd_;
  std::optional<termios> saved_;
};

// The terminal's size as "h","w" for /resize; nullopt when not a tty.
std::optional<std::pair<int, int>> terminal_size(int fd);

}  // namespace berth::cli
