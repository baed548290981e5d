#include "shim/shim.h"

#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <iterator>
#include <vector>

#include "base/exec_fifo.h"
#include "base/file.h"
#include "runtime/container.h"
#include "shim/flags.h"
#include "shim/protocol.h"
#include "shim/server.h"

namespace berth::shim {

namespace {

struct Options {
  std::string id;
  std::string bundle;
  std::string runtime_root;
  std::string state_dir;
  ServeOptions serve;
  bool open_stdin = false;
  std::string exec_process;  // process.json: this shim runs an exec
};

constexpr const char* kConsoleSocket = "console.sock";
constexpr int kReadyFd = 3;

std::string exec_fifo(const Options& options) { return options.runtime_root + "/" + options.id + "/exec.fifo"; }

struct Pipe {
  UniqueFd read, write;
  static Result<Pipe> make() {
    int fds[2];
    if (::pipe2(fds, O_CLOEXEC) != 0) return fail_errno("pipe");
    return Pipe{UniqueFd(fds[0]), UniqueFd(fds[1])};
  }
};

Result<UniqueFd> listen_unix(const char* name) {
  UniqueFd fd(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (!fd) return fail_errno("socket");
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::strncpy(addr.sun_path, name, sizeof addr.sun_path - 1);
  ::unlink(name);
  if (::bind(fd.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) return fail_errno(std::string("bind ") + name);
  if (::listen(fd.get(), 64) != 0) return fail_errno("listen");
  return fd;
}

// The pty master the runtime sends over the console socket.
Result<UniqueFd> receive_console(int listener) {
  UniqueFd conn(::accept4(listener, nullptr, nullptr, SOCK_CLOEXEC));
  if (!conn) return fail_errno("accept console socket");
  char data[64];
  iovec iov{data, sizeof data};
  alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int))];
  msghdr msg{};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  msg.msg_control = control;
  msg.msg_controllen = sizeof control;
  if (::recvmsg(conn.get(), &msg, MSG_CMSG_CLOEXEC) < 0) return fail_errno("receive the pty master");
  cmsghdr* cmsg = CMSG_FIRSTHDR(&msg);
  if (!cmsg || cmsg->cmsg_type != SCM_RIGHTS) return fail("the runtime sent no pty master");
  int fd;
  std::memcpy(&fd, CMSG_DATA(cmsg), sizeof fd);
  ::unlink(kConsoleSocket);
  return UniqueFd(fd);
}

// The process's stdio: the ends it inherits, and the shim's in `ours`. With
// a tty the runtime makes a pty instead, and sends its master to console.
struct ChildStdio {
  UniqueFd in, out, err, console;

  static Result<ChildStdio> make(const Options& options, StdioEnds& ours) {
    ChildStdio child;
    if (options.serve.tty) {
      child.console = TRY(listen_unix(kConsoleSocket));
      child.in = TRY(open_file("/dev/null", O_RDWR));
      child.out.reset(::dup(child.in.get()));
      child.err.reset(::dup(child.in.get()));
      return child;
    }
    if (options.open_stdin) {
      auto in = TRY(Pipe::make());
      child.in = std::move(in.read);
      ours.in = std::move(in.write);
    } else {
      child.in = TRY(open_file("/dev/null", O_RDONLY));
    }
    auto out = TRY(Pipe::make());
    auto err = TRY(Pipe::make());
    ours.out = std::move(out.read);
    child.out = std::move(out.write);
    ours.err = std::move(err.read);
    child.err = std::move(err.write);
    return child;
  }

  runtime::Stdio fds() const { return {in.get(), out.get(), err.get()}; }
  const char* console_socket() const { return console ? kConsoleSocket : ""; }
};

// berthd's specs have no hooks, so berth-shim starts the container by its
// exec fifo alone, with no runtime code (runtime::Runtime::start would run
// poststart hooks too).
Result<pid_t> create_container(const Options& options, StdioEnds& ours) {
  auto child = TRY(ChildStdio::make(options, ours));
  runtime::Runtime runtime(options.runtime_root);
  runtime::CreateOptions create{.bundle = options.bundle, .stdio = child.fds()};
  create.console_socket = child.console_socket();
  pid_t pid = TRY(runtime.create(options.id, create));
  if (child.console) {
    auto master = receive_console(child.console.get());
    if (!master) {
      (void)runtime.remove(options.id, /*force=*/true);
      return std::unexpected(master.error());
    }
    ours.master = std::move(*master);
  }
  return pid;
}

// An exec's process is made on start, so attached clients miss nothing.
Result<pid_t> start_exec(const Options& options, StdioEnds& ours) {
  auto child = TRY(ChildStdio::make(options, ours));
  auto text = TRY(read_file(options.exec_process));
  runtime::ExecOptions exec{.process = TRY_CTX(oci::parse_process(text), options.exec_process), .stdio = child.fds()};
  exec.console_socket = child.console_socket();
  exec.detach = true;
  pid_t pid = TRY(runtime::Runtime(options.runtime_root).exec(options.id, exec));
  if (child.console) ours.master = TRY(receive_console(child.console.get()));
  return pid;
}

// Becomes berth-shim (beside this executable), which holds no runtime code:
// the container's shim then keeps under 1 MiB resident. Returns only if the
// exec failed.
void become_serving_shim(const Options& options, const UniqueFd& listener, const StdioEnds& ours, pid_t pid) {
  auto passed = [](const UniqueFd& fd) {  // kept open across the exec, by number
    if (fd) ::fcntl(fd.get(), F_SETFD, 0);
    return std::to_string(fd.get());
  };
  char self[PATH_MAX];
  ssize_t n = ::readlink("/proc/self/exe", self, sizeof self);
  std::string dir = std::string(self, static_cast<size_t>(std::max<ssize_t>(n, 0)));
  std::vector<std::string> args = {dir.substr(0, dir.rfind('/') + 1) + "berth-shim",
                                   "--state-dir", options.state_dir,
                                   "--pid", std::to_string(pid),
                                   "--exec-fifo", exec_fifo(options),
                                   "--listener", passed(listener),
                                   "--stdin", passed(ours.in),
                                   "--stdout", passed(ours.out),
                                   "--stderr", passed(ours.err),
                                   "--master", passed(ours.master)};
  std::ranges::copy(serve_flags(options.serve), std::back_inserter(args));
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  ::execv(argv[0], argv.data());
  (void)write_all(2, "berth-shim-start: cannot run " + args[0] + ": " + std::strerror(errno) + "; serving in its place\n");
}

Result<Options> parse_options(int argc, char** argv) {
  Options o;
  TRY(parse_flags(argc, argv,
                  {{"--id", &o.id}, {"--bundle", &o.bundle}, {"--runtime-root", &o.runtime_root}, {"--state-dir", &o.state_dir},
                   {"--exec", &o.exec_process}},
                  {{"--stdin", &o.open_stdin}}, o.serve));
  if (o.id.empty() || o.bundle.empty() || o.runtime_root.empty() || o.state_dir.empty())
    return fail("--id, --bundle, --runtime-root and --state-dir are required");
  return o;
}

}  // namespace

int shim_main(int argc, char** argv) {
  auto parsed = parse_options(argc, argv);
  if (!parsed) {
    (void)write_all(2, "berth-shim-start: " + parsed.error().message() + "\n");
    return 2;
  }
  const Options options = std::move(*parsed);
  // berthd started us in a session of our own. The container's process
  // becomes our child when the runtime's setup process exits.
  ::prctl(PR_SET_CHILD_SUBREAPER, 1);
  ::signal(SIGPIPE, SIG_IGN);
  ::signal(SIGHUP, SIG_IGN);
  ::signal(SIGINT, SIG_IGN);
  // Blocked before any process is made, for the shim's signalfd.
  sigset_t sigchld;
  sigemptyset(&sigchld);
  sigaddset(&sigchld, SIGCHLD);
  ::sigprocmask(SIG_BLOCK, &sigchld, nullptr);
  ::close_range(kReadyFd + 1, ~0U, 0);
  ::fcntl(kReadyFd, F_SETFD, FD_CLOEXEC);  // not for the container
  auto report = [](const std::string& line) {
    (void)write_all(kReadyFd, line + "\n");
    ::close(kReadyFd);
  };
  auto prepared = [&]() -> Result<UniqueFd> {
    if (::chdir(options.state_dir.c_str()) != 0) return fail_errno("cannot enter " + options.state_dir);
    // Opened here only to fail before the container is made.
    if (!options.serve.log_path.empty()) TRY(JsonLogWriter::open(options.serve.log_path, options.serve.log_options));
    return listen_unix(kSocketName);
  }();
  if (!prepared) {
    report("error " + prepared.error().message());
    return 1;
  }
  StdioEnds ours;
  Starter start = [&](StdioEnds& stdio) { return start_exec(options, stdio); };
  pid_t pid = 0;
  if (options.exec_process.empty()) {
    auto created = create_container(options, ours);
    if (!created) {
      report("error " + created.error().message());
      return 1;
    }
    pid = *created;
    report("ok " + std::to_string(pid));
    become_serving_shim(options, *prepared, ours, pid);
    start = start_by_exec_fifo(exec_fifo(options), pid);
  } else {
    report("ok 0");
  }
  if (auto served = serve(options.serve, std::move(*prepared), std::move(ours), pid, start); !served) {
    (void)write_all(2, "berth-shim-start: " + served.error().message() + "\n");
    return 1;
  }
  return 0;
}

}  // namespace berth::shim
