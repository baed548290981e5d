#include "runtime/sync.h"

#include <sys/socket.h>

#include <cstring>

namespace berth::runtime {

namespace {
constexpr size_t kHeader = 1 + sizeof(int64_t);
constexpr size_t kMaxMessage = 8192;
}  // namespace

Result<std::pair<SyncSocket, SyncSocket>> SyncSocket::make_pair() {
  int fds[2];
  if (::socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, fds) != 0) return fail_errno("socketpair");
  return std::pair{SyncSocket(UniqueFd(fds[0])), SyncSocket(UniqueFd(fds[1]))};
}

Result<void> SyncSocket::send(SyncType type, int64_t value, std::string_view text) const {
  char buf[kMaxMessage];
  size_t text_len = std::min(text.size(), kMaxMessage - kHeader);
  buf[0] = static_cast<char>(type);
  std::memcpy(buf + 1, &value, sizeof value);
  std::memcpy(buf + kHeader, text.data(), text_len);
  while (::send(fd_.get(), buf, kHeader + text_len, MSG_NOSIGNAL) < 0) {
    if (errno != EINTR) return fail_errno("sync send");
  }
  return {};
}

Result<SyncMessage> SyncSocket::receive() const {
  char buf[kMaxMessage];
  ssize_t n;
  while ((n = ::recv(fd_.get(), buf, sizeof buf, 0)) < 0) {
    if (errno != EINTR) return fail_errno("sync receive");
  }
  if (n == 0) return fail("container process exited during setup");
  if (static_cast<size_t>(n) < kHeader) return fail("sync receive: short message");
  SyncMessage message;
  message.type = static_cast<SyncType>(buf[0]);
  std::memcpy(&message.value, buf + 1, sizeof message.value);
  message.text.assign(buf + kHeader, static_cast<size_t>(n) - kHeader);
  return message;
}

Result<SyncMessage> SyncSocket::expect(SyncType type) const {
  auto message = TRY(receive());
  if (message.type == SyncType::kError) return fail(message.text, static_cast<int>(message.value));
  if (message.type != type) return fail("sync: unexpected message " + std::to_string(static_cast<int>(message.type)));
  return message;
}

}  // namespace berth::runtime
