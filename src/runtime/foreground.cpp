#include "runtime/foreground.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/signalfd.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#include <optional>

#include "base/file.h"
#include "base/subprocess.h"
#include "base/unique_fd.h"

namespace berth::runtime {

namespace {

// Puts the caller's terminal in raw mode for as long as it lives.
class RawTerminal {
 public:
  explicit RawTerminal(int fd) : fd_(fd) {
    if (!::isatty(fd) || ::tcgetattr(fd, &saved_) != 0) return;
    termios raw = saved_;
    ::cfmakeraw(&raw);
    active_ = ::tcsetattr(fd, TCSANOW, &raw) == 0;
  }
  ~RawTerminal() {
    if (active_) ::tcsetattr(fd_, TCSANOW, &saved_);
  }

 private:
  int fd_;
  termios saved_{};
  bool active_ = false;
};

void copy_window_size(int from, int to) {
  winsize ws;
  if (::ioctl(from, TIOCGWINSZ, &ws) == 0) ::ioctl(to, TIOCSWINSZ, &ws);
}

// Copies what is readable from in to out; false at end of input.
bool pump(int in, int out) {
  char buf[16384];
  ssize_t n = ::read(in, buf, sizeof buf);
  if (n <= 0) return n < 0 && (errno == EAGAIN || errno == EINTR);
  (void)write_all(out, std::string_view(buf, static_cast<size_t>(n)));
  return true;
}

}  // namespace

Result<int> wait_foreground(pid_t pid, int pty_master) {
  sigset_t forwarded;
  sigfillset(&forwarded);
  for (int s : {SIGKILL, SIGSTOP, SIGCHLD, SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGTTIN, SIGTTOU, SIGTSTP}) sigdelset(&forwarded, s);
  sigset_t old;
  ::sigprocmask(SIG_BLOCK, &forwarded, &old);
  UniqueFd sigfd(::signalfd(-1, &forwarded, SFD_CLOEXEC | SFD_NONBLOCK));
  if (!sigfd) return fail_errno("signalfd");
  UniqueFd pidfd(TRY(pidfd_open(pid)));

  std::optional<RawTerminal> raw;
  bool stdin_open = pty_master >= 0;
  if (pty_master >= 0) {
    raw.emplace(0);
    copy_window_size(0, pty_master);
    ::fcntl(pty_master, F_SETFL, ::fcntl(pty_master, F_GETFL) | O_NONBLOCK);
  }
  for (;;) {
    pollfd fds[4] = {{pidfd.get(), POLLIN, 0}, {sigfd.get(), POLLIN, 0}, {pty_master, POLLIN, 0}, {stdin_open ? 0 : -1, POLLIN, 0}};
    if (::poll(fds, 4, -1) < 0) {
      if (errno == EINTR) continue;
      return fail_errno("poll");
    }
    if (fds[1].revents & POLLIN) {
      signalfd_siginfo info;
      while (::read(sigfd.get(), &info, sizeof info) == sizeof info) {
        if (info.ssi_signo == SIGWINCH && pty_master >= 0)
          copy_window_size(0, pty_master);
        else
          ::kill(pid, static_cast<int>(info.ssi_signo));
      }
    }
    if (fds[2].revents & (POLLIN | POLLHUP)) pump(pty_master, 1);
    if (fds[3].revents & (POLLIN | POLLHUP)) stdin_open = pump(0, pty_master);
    if (fds[0].revents & POLLIN) break;
  }
  // What the process wrote just before exiting is still in the pty.
  if (pty_master >= 0) {
    char buf[16384];
    ssize_t n;
    while ((n = ::read(pty_master, buf, sizeof buf)) > 0) (void)write_all(1, std::string_view(buf, static_cast<size_t>(n)));
  }
  int wstatus = 0;
  while (::waitpid(pid, &wstatus, 0) < 0)
    if (errno != EINTR) return fail_errno("wait for container process");
  ::sigprocmask(SIG_SETMASK, &old, nullptr);
  return exit_status_from_wait(wstatus);
}

}  // namespace berth::runtime
