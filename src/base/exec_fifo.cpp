#include "base/exec_fifo.h"

#include <fcntl.h>
#include <poll.h>
#include <unistd.h>

#include "base/subprocess.h"
#include "base/unique_fd.h"

namespace berth {

Result<void> release_exec_fifo(const std::string& fifo_path, pid_t pid) {
  UniqueFd fifo(::open(fifo_path.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC));
  if (!fifo) return fail_errno("open exec fifo");
  UniqueFd pidfd(TRY(pidfd_open(pid)));
  pollfd fds[2] = {{fifo.get(), POLLIN, 0}, {pidfd.get(), POLLIN, 0}};
  while (::poll(fds, 2, -1) < 0)
    if (errno != EINTR) return fail_errno("poll");
  char byte;
  if (!(fds[0].revents & POLLIN) || ::read(fifo.get(), &byte, 1) != 1) return fail("container process exited before start");
  ::unlink(fifo_path.c_str());
  std::string failure;
  pollfd hangup{fifo.get(), POLLIN, 0};
  while (::poll(&hangup, 1, -1) >= 0 || errno == EINTR) {
    char buf[4096];
    ssize_t n = ::read(fifo.get(), buf, sizeof buf);
    if (n > 0) failure.append(buf, static_cast<size_t>(n));
    if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR)) break;
  }
  if (!failure.empty()) return fail(failure);
  return {};
}

}  // namespace berth
