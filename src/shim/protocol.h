// What berthd and berth-shim say to each other over the shim's socket:
// frames as in the Engine API's multiplexed streams (a type byte, three
// zero bytes, a big-endian 32-bit length, the payload), with a few types
// of our own for control.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "base/error.h"

namespace berth::shim {

enum FrameType : uint8_t {
  kStdin = 0,    // to the process; an empty payload closes its stdin
  kStdout = 1,   // from the process (a tty's output is all stdout)
  kStderr = 2,
  kExit = 3,     // the process ended: payload is its exit status in decimal
  kResize = 4,   // "rows cols"
  kControl = 6,  // a JSON request: {"op":"start"|"subscribe"|"kill", …}
  kReply = 7,    // a JSON answer: {"pid":N} or {"error":"…"}
};

struct Frame {
  uint8_t type = 0;
  std::string payload;
};

constexpr size_t kFrameHeaderSize = 8;

std::string frame_header(uint8_t type, size_t size);
Result<void> write_frame(int fd, uint8_t type, std::string_view payload);
// One whole frame; nullopt when the peer closed the connection between frames.
Result<std::optional<Frame>> read_frame(int fd);
// Takes a whole frame off the front of buffer, if there is one.
std::optional<Frame> take_frame(std::string& buffer);

// Where the shim of a container (or of an exec) keeps its socket and status.
inline constexpr const char* kSocketName = "shim.sock";
inline constexpr const char* kExitFileName = "exit.json";

// Connects to the shim socket in dir (by a /proc/self/fd path, so the
// directory's length does not matter).
Result<int> connect_shim(const std::string& dir);

}  // namespace berth::shim
