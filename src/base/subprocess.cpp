#include "base/subprocess.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "base/file.h"
#include "base/unique_fd.h"

extern char** environ;

namespace berth {

int exit_status_from_wait(int wstatus) {
  if (WIFEXITED(wstatus)) return WEXITSTATUS(wstatus);
  if (WIFSIGNALED(wstatus)) return 128 + WTERMSIG(wstatus);
  return 255;
}

Result<int> pidfd_open(pid_t pid) {
  int fd = static_cast<int>(::syscall(SYS_pidfd_open, pid, 0));
  if (fd < 0) return fail_errno("pidfd_open " + std::to_string(pid));
  return fd;
}

static std::vector<char*> c_strings(const std::vector<std::string>& strings) {
  std::vector<char*> out;
  for (const auto& s : strings) out.push_back(const_cast<char*>(s.c_str()));
  out.push_back(nullptr);
  return out;
}

Result<CommandResult> run_command(const Command& command) {
  int in_pipe[2], out_pipe[2] = {-1, -1};
  if (::pipe2(in_pipe, O_CLOEXEC) != 0) return fail_errno("pipe");
  UniqueFd in_read(in_pipe[0]), in_write(in_pipe[1]);
  if (command.capture_stdout && ::pipe2(out_pipe, O_CLOEXEC) != 0) return fail_errno("pipe");
  UniqueFd out_read(out_pipe[0]), out_write(out_pipe[1]);

  auto argv = c_strings(command.args);
  std::vector<char*> envp;
  if (command.env) envp = c_strings(*command.env);
  char** env = command.env ? envp.data() : environ;

  pid_t pid = ::fork();
  if (pid < 0) return fail_errno("fork");
  if (pid == 0) {
    ::dup2(in_read.get(), 0);
    if (out_write) ::dup2(out_write.get(), 1);
    ::signal(SIGPIPE, SIG_DFL);
    if (command.path.find('/') == std::string::npos)
      ::execvpe(command.path.c_str(), argv.data(), env);
    else
      ::execve(command.path.c_str(), argv.data(), env);
    ::_exit(127);
  }
  in_read.reset();
  out_write.reset();
  // A hook may exit without reading its stdin; that is not an error.
  auto old = ::signal(SIGPIPE, SIG_IGN);
  (void)write_all(in_write.get(), command.stdin_data);
  ::signal(SIGPIPE, old);
  in_write.reset();

  CommandResult result;
  auto pidfd_result = pidfd_open(pid);
  UniqueFd pidfd(pidfd_result ? *pidfd_result : -1);
  auto deadline = command.timeout ? std::chrono::steady_clock::now() + *command.timeout
                                  : std::chrono::steady_clock::time_point::max();
  bool exited = false;
  while (!exited) {
    pollfd fds[2] = {{pidfd.get(), POLLIN, 0}, {out_read.get(), POLLIN, 0}};
    int wait_ms = -1;
    if (command.timeout) {
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
      wait_ms = static_cast<int>(std::max<long>(0, left.count()));
    }
    int n = ::poll(fds, out_read ? 2 : 1, wait_ms);
    if (n < 0 && errno != EINTR) return fail_errno("poll");
    if (n == 0) {
      ::kill(pid, SIGKILL);
      result.timed_out = true;
      break;
    }
    if (out_read && (fds[1].revents & (POLLIN | POLLHUP))) {
      char buf[4096];
      ssize_t got = ::read(out_read.get(), buf, sizeof buf);
      if (got > 0) result.output.append(buf, static_cast<size_t>(got));
      else out_read.reset();
    }
    if (fds[0].revents & POLLIN) exited = true;
  }
  if (out_read) result.output += read_fd(out_read.get()).value_or("");
  int wstatus = 0;
  while (::waitpid(pid, &wstatus, 0) < 0) {
    if (errno != EINTR) return fail_errno("waitpid");
  }
  result.status = exit_status_from_wait(wstatus);
  return result;
}

}  // namespace berth
