#include "shim/protocol.h"

#include <fcntl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstring>

#include "base/file.h"
#include "base/unique_fd.h"

namespace berth::shim {

std::string frame_header(uint8_t type, size_t size) {
  std::string header(kFrameHeaderSize, '\0');
  header[0] = static_cast<char>(type);
  for (int i = 0; i < 4; ++i) header[4 + i] = static_cast<char>((size >> (8 * (3 - i))) & 0xff);
  return header;
}

Result<void> write_frame(int fd, uint8_t type, std::string_view payload) {
  std::string frame = frame_header(type, payload.size());
  frame.append(payload);
  return write_all(fd, frame);
}

namespace {

// Reads exactly size bytes; false at EOF before the first byte.
Result<bool> read_exact(int fd, char* buf, size_t size) {
  size_t done = 0;
  while (done < size) {
    ssize_t n = ::read(fd, buf + done, size - done);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return fail_errno("read from shim");
    if (n == 0) {
      if (done == 0) return false;
      return fail("shim connection closed in the middle of a frame", EPIPE);
    }
    done += static_cast<size_t>(n);
  }
  return true;
}

uint32_t frame_size(const char* header) {
  uint32_t size = 0;
  for (int i = 0; i < 4; ++i) size = (size << 8) | static_cast<unsigned char>(header[4 + i]);
  return size;
}

}  // namespace

Result<std::optional<Frame>> read_frame(int fd) {
  char header[kFrameHeaderSize];
  if (!TRY(read_exact(fd, header, sizeof header))) return std::nullopt;
  Frame frame{static_cast<uint8_t>(header[0]), std::string(frame_size(header), '\0')};
  if (!frame.payload.empty() && !TRY(read_exact(fd, frame.payload.data(), frame.payload.size())))
    return fail("shim connection closed in the middle of a frame", EPIPE);
  return frame;
}

std::optional<Frame> take_frame(std::string& buffer) {
  if (buffer.size() < kFrameHeaderSize) return std::nullopt;
  uint32_t size = frame_size(buffer.data());
  if (buffer.size() < kFrameHeaderSize + size) return std::nullopt;
  Frame frame{static_cast<uint8_t>(buffer[0]), buffer.substr(kFrameHeaderSize, size)};
  buffer.erase(0, kFrameHeaderSize + size);
  return frame;
}

Result<int> connect_shim(const std::string& dir) {
  UniqueFd dir_fd(::open(dir.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
  if (!dir_fd) return fail_errno("open " + dir);
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::string path = "/proc/self/fd/" + std::to_string(dir_fd.get()) + "/" + kSocketName;
  std::memcpy(addr.sun_path, path.c_str(), path.size());
  UniqueFd fd(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (!fd) return fail_errno("socket");
  if (::connect(fd.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) return fail_errno("connect to the shim in " + dir);
  return fd.release();
}

}  // namespace berth::shim
