#include "runtime/console.h"

#include <fcntl.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <termios.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>

namespace berth::runtime {

Result<Pty> open_pty(const std::optional<oci::ConsoleSize>& size) {
  Pty pty;
  pty.master = UniqueFd(::open("/dev/ptmx", O_RDWR | O_NOCTTY | O_CLOEXEC));
  if (!pty.master) return fail_errno("open /dev/ptmx");
  if (::unlockpt(pty.master.get()) != 0) return fail_errno("unlockpt");
  char name[128];
  if (::ptsname_r(pty.master.get(), name, sizeof name) != 0) return fail_errno("ptsname");
  pty.slave_path = name;
  pty.slave = UniqueFd(::open(name, O_RDWR | O_NOCTTY | O_CLOEXEC));
  if (!pty.slave) return fail_errno("open " + pty.slave_path);
  if (size) {
    winsize ws{};
    ws.ws_row = static_cast<unsigned short>(size->height);
    ws.ws_col = static_cast<unsigned short>(size->width);
    if (::ioctl(pty.master.get(), TIOCSWINSZ, &ws) != 0) return fail_errno("set console size");
  }
  return pty;
}

Result<void> attach_controlling_terminal(int slave_fd) {
  if (::setsid() < 0 && errno != EPERM) return fail_errno("setsid");
  if (::ioctl(slave_fd, TIOCSCTTY, 0) != 0) return fail_errno("set controlling terminal");
  for (int fd = 0; fd < 3; ++fd)
    if (::dup2(slave_fd, fd) < 0) return fail_errno("dup2 terminal");
  return {};
}

Result<void> send_fd(int socket_fd, int fd, const std::string& name) {
  char control[CMSG_SPACE(sizeof(int))] = {};
  iovec iov{const_cast<char*>(name.data()), name.size()};
  msghdr msg{};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  msg.msg_control = control;
  msg.msg_controllen = sizeof control;
  cmsghdr* cmsg = CMSG_FIRSTHDR(&msg);
  cmsg->cmsg_level = SOL_SOCKET;
  cmsg->cmsg_type = SCM_RIGHTS;
  cmsg->cmsg_len = CMSG_LEN(sizeof(int));
  std::memcpy(CMSG_DATA(cmsg), &fd, sizeof fd);
  while (::sendmsg(socket_fd, &msg, MSG_NOSIGNAL) < 0)
    if (errno != EINTR) return fail_errno("send terminal to console socket");
  return {};
}

Result<UniqueFd> receive_fd(int socket_fd) {
  char buf[4096];
  char control[CMSG_SPACE(sizeof(int))] = {};
  iovec iov{buf, sizeof buf};
  msghdr msg{};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  msg.msg_control = control;
  msg.msg_controllen = sizeof control;
  ssize_t n;
  while ((n = ::recvmsg(socket_fd, &msg, MSG_CMSG_CLOEXEC)) < 0)
    if (errno != EINTR) return fail_errno("receive terminal");
  cmsghdr* cmsg = CMSG_FIRSTHDR(&msg);
  if (n == 0 || !cmsg || cmsg->cmsg_type != SCM_RIGHTS) return fail("receive terminal: no descriptor in message");
  int fd;
  std::memcpy(&fd, CMSG_DATA(cmsg), sizeof fd);
  return UniqueFd(fd);
}

Result<UniqueFd> connect_unix(const std::string& path) {
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  if (path.size() >= sizeof addr.sun_path) return fail("console socket path too long: " + path);
  std::memcpy(addr.sun_path, path.c_str(), path.size());
  UniqueFd fd(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (!fd) return fail_errno("socket");
  if (::connect(fd.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) return fail_errno("connect to console socket " + path);
  return fd;
}

}  // namespace berth::runtime
