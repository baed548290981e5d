#include "shim/shim.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <map>
#include <memory>
#include <optional>
#include <vector>

#include "base/clock.h"
#include "base/exec_fifo.h"
#include "base/file.h"
#include "base/json.h"
#include "base/unique_fd.h"
#include "shim/json_log.h"
#include "shim/protocol.h"

namespace berth::shim {

namespace {

struct Options {
  std::string id;
  std::string bundle;
  std::string runtime;
  std::string runtime_root;
  std::string state_dir;
  std::string log_path;  // the json-file log; none for an exec
  uint64_t log_max_size = 0;
  int log_max_files = 1;
  bool tty = false;
  bool open_stdin = false;
  bool fifo_start = false;   // the spec has no poststart hooks: start without the runtime
  std::string exec_process;  // process.json: this shim runs an exec
};

constexpr const char* kConsoleSocket = "console.sock";
constexpr const char* kRuntimeLog = "runtime.log";
// How long output may still come after the process ended (from children
// that kept the pipes open) before the shim reports the exit.
constexpr auto kDrainTime = std::chrono::milliseconds(500);

struct Client {
  UniqueFd fd;
  std::string input;
  bool stdout = false, stderr = false;
};

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
  return UniqueFd(fd);
}

class Shim {
 public:
  explicit Shim(Options options) : options_(std::move(options)) {}

  // Everything up to "ready": stdio, the socket, and for a container its creation.
  Result<void> prepare();
  pid_t pid() const { return pid_; }
  // Serves clients until the process has ended and its output is drained.
  Result<void> serve();

 private:
  Result<void> make_stdio();
  Result<void> run_runtime(const std::vector<std::string>& args);
  Result<pid_t> read_pid() const;
  Result<Json> start();
  Result<void> start_container();
  void handle_frame(Client& client, Frame frame);
  void reap();
  void forward(int fd, uint8_t stream);
  void broadcast(uint8_t type, std::string_view data, bool output_only);
  void finish();
  bool is_exec() const { return !options_.exec_process.empty(); }
  // The runtime resolves a relative path against the bundle.
  std::string pid_file() const { return options_.state_dir + "/" + kPidFileName; }

  Options options_;
  UniqueFd listener_, console_listener_, signals_;
  // Our ends of the process's stdio, and the ends it inherits.
  UniqueFd stdin_, stdout_, stderr_, master_;
  UniqueFd child_stdin_, child_stdout_, child_stderr_;
  std::optional<JsonLogWriter> log_;
  std::vector<std::unique_ptr<Client>> clients_;
  pid_t pid_ = 0;
  bool started_ = false;
  std::optional<int> exit_status_;
  std::chrono::steady_clock::time_point drain_deadline_;
};

Result<void> Shim::make_stdio() {
  if (options_.tty) {
    console_listener_ = TRY(listen_unix(kConsoleSocket));
    child_stdin_ = TRY(open_file("/dev/null", O_RDWR));
    child_stdout_.reset(::dup(child_stdin_.get()));
    child_stderr_.reset(::dup(child_stdin_.get()));
    return {};
  }
  if (options_.open_stdin) {
    auto in = TRY(Pipe::make());
    child_stdin_ = std::move(in.read);
    stdin_ = std::move(in.write);
  } else {
    child_stdin_ = TRY(open_file("/dev/null", O_RDONLY));
  }
  auto out = TRY(Pipe::make());
  auto err = TRY(Pipe::make());
  stdout_ = std::move(out.read);
  child_stdout_ = std::move(out.write);
  stderr_ = std::move(err.read);
  child_stderr_ = std::move(err.write);
  return {};
}

// Runs the runtime with the process's stdio and waits for it. Its error
// message comes from its JSON log.
Result<void> Shim::run_runtime(const std::vector<std::string>& args) {
  ::truncate(kRuntimeLog, 0);
  std::vector<std::string> argv = {options_.runtime, "--root", options_.runtime_root, "--log", kRuntimeLog, "--log-format", "json"};
  argv.insert(argv.end(), args.begin(), args.end());
  std::vector<char*> cargv;
  for (auto& a : argv) cargv.push_back(a.data());
  cargv.push_back(nullptr);
  UniqueFd null_fd = TRY(open_file("/dev/null", O_RDWR));
  int in = child_stdin_ ? child_stdin_.get() : null_fd.get();
  int out = child_stdout_ ? child_stdout_.get() : null_fd.get();
  int err = child_stderr_ ? child_stderr_.get() : null_fd.get();
  pid_t child = ::fork();
  if (child < 0) return fail_errno("fork");
  if (child == 0) {
    // The runtime (and so the container) starts with default signal handling.
    sigset_t none;
    sigemptyset(&none);
    ::sigprocmask(SIG_SETMASK, &none, nullptr);
    for (int sig : {SIGPIPE, SIGHUP, SIGINT}) ::signal(sig, SIG_DFL);
    ::dup2(in, 0);
    ::dup2(out, 1);
    ::dup2(err, 2);
    ::execv(cargv[0], cargv.data());
    ::_exit(127);
  }
  int status = 0;
  while (::waitpid(child, &status, 0) < 0 && errno == EINTR) {
  }
  if (WIFEXITED(status) && WEXITSTATUS(status) == 0) return {};
  std::string message = "the runtime failed";
  if (auto text = read_file(kRuntimeLog)) {
    std::string last;
    for (size_t start = 0; start < text->size();) {
      size_t end = text->find('\n', start);
      if (end == std::string::npos) end = text->size();
      if (end > start) last = text->substr(start, end - start);
      start = end + 1;
    }
    if (auto doc = parse_json(last); doc && doc->is_object() && (*doc)["msg"].is_string()) message = (*doc)["msg"];
  }
  return fail(message);
}

Result<pid_t> Shim::read_pid() const {
  auto text = TRY(read_file(kPidFileName));
  try {
    return static_cast<pid_t>(std::stol(text));
  } catch (const std::exception&) {
    return fail("bad pid file: " + text);
  }
}

Result<void> Shim::prepare() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGCHLD);
  ::sigprocmask(SIG_BLOCK, &set, nullptr);
  signals_.reset(::signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK));
  if (!signals_) return fail_errno("signalfd");
  if (!options_.log_path.empty())
    log_ = TRY(JsonLogWriter::open(options_.log_path, LogOptions{options_.log_max_size, options_.log_max_files}));
  listener_ = TRY(listen_unix(kSocketName));
  if (is_exec()) return {};
  TRY(make_stdio());
  std::vector<std::string> args = {"create", "--bundle", options_.bundle, "--pid-file", pid_file()};
  if (options_.tty) args.insert(args.end(), {"--console-socket", kConsoleSocket});
  args.push_back(options_.id);
  TRY(run_runtime(args));
  ScopeGuard undo([&] { (void)run_runtime({"delete", "--force", options_.id}); });
  pid_ = TRY(read_pid());
  if (options_.tty) master_ = TRY(receive_console(console_listener_.get()));
  undo.dismiss();
  child_stdin_.reset();
  child_stdout_.reset();
  child_stderr_.reset();
  return {};
}

// The runtime's start is its exec fifo handshake plus the poststart hooks:
// when berthd says there are none, the shim does the handshake itself.
Result<void> Shim::start_container() {
  if (!options_.fifo_start) return run_runtime({"start", options_.id});
  return release_exec_fifo(options_.runtime_root + "/" + options_.id + "/exec.fifo", pid_);
}

Result<Json> Shim::start() {
  if (started_) return fail("already started");
  started_ = true;
  if (!is_exec()) {
    TRY(start_container());
    return Json{{"pid", pid_}};
  }
  TRY(make_stdio());
  std::vector<std::string> args = {"exec", "--detach", "--process", options_.exec_process, "--pid-file", pid_file()};
  if (options_.tty) args.insert(args.end(), {"--console-socket", kConsoleSocket});
  args.push_back(options_.id);
  auto ran = run_runtime(args);
  child_stdin_.reset();
  child_stdout_.reset();
  child_stderr_.reset();
  if (!ran) {
    // Nothing ran: report it as the exec's end, so everyone waiting hears.
    exit_status_ = 126;
    drain_deadline_ = std::chrono::steady_clock::now();
    return std::unexpected(ran.error());
  }
  pid_ = TRY(read_pid());
  if (options_.tty) master_ = TRY(receive_console(console_listener_.get()));
  return Json{{"pid", pid_}};
}

void Shim::handle_frame(Client& client, Frame frame) {
  switch (frame.type) {
    case kStdin: {
      int fd = options_.tty ? master_.get() : stdin_.get();
      if (frame.payload.empty()) {
        if (!options_.tty) stdin_.reset();
      } else if (fd >= 0) {
        (void)write_all(fd, frame.payload);
      }
      break;
    }
    case kResize: {
      winsize ws{};
      if (std::sscanf(frame.payload.c_str(), "%hu %hu", &ws.ws_row, &ws.ws_col) == 2 && master_)
        ::ioctl(master_.get(), TIOCSWINSZ, &ws);
      break;
    }
    case kControl: {
      Json reply = Json::object();
      auto request = parse_json(frame.payload);
      std::string op = request && request->is_object() ? request->value("op", "") : "";
      if (op == "subscribe") {
        client.stdout = request->value("stdout", false);
        client.stderr = request->value("stderr", false);
      } else if (op == "start") {
        auto started = start();
        reply = started ? *started : Json{{"error", started.error().message()}};
      } else if (op == "kill") {
        int sig = request->value("signal", SIGTERM);
        // A process that has ended (its exit about to be reported) takes no signal, and that is no error.
        if (pid_ > 0 && !exit_status_ && ::kill(pid_, sig) != 0) reply = {{"error", std::string("kill: ") + std::strerror(errno)}};
      } else {
        reply = {{"error", "unknown request"}};
      }
      (void)write_frame(client.fd.get(), kReply, reply.dump());
      break;
    }
    default:
      break;
  }
}

void Shim::reap() {
  signalfd_siginfo info;
  while (::read(signals_.get(), &info, sizeof info) > 0) {
  }
  int status = 0;
  pid_t pid;
  while ((pid = ::waitpid(-1, &status, WNOHANG)) > 0) {
    if (pid != pid_ || exit_status_) continue;
    exit_status_ = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    drain_deadline_ = std::chrono::steady_clock::now() + kDrainTime;
  }
}

void Shim::broadcast(uint8_t type, std::string_view data, bool output_only) {
  std::string frame = frame_header(type, data.size());
  frame.append(data);
  std::erase_if(clients_, [&](const std::unique_ptr<Client>& c) {
    if (output_only && !(type == kStdout ? c->stdout : c->stderr)) return false;
    return !write_all(c->fd.get(), frame);
  });
}

void Shim::forward(int fd, uint8_t stream) {
  char buf[65536];
  ssize_t n = ::read(fd, buf, sizeof buf);
  if (n < 0 && (errno == EINTR || errno == EAGAIN)) return;
  UniqueFd& owner = fd == master_.get() ? master_ : fd == stdout_.get() ? stdout_ : stderr_;
  if (n <= 0) {  // EOF, or EIO from a pty whose other side is gone
    if (log_) (void)log_->flush();
    owner.reset();
    return;
  }
  std::string_view data(buf, static_cast<size_t>(n));
  if (log_) (void)log_->write(stream == kStdout ? "stdout" : "stderr", data);
  broadcast(stream, data, true);
}

void Shim::finish() {
  if (log_) (void)log_->flush();
  int status = exit_status_.value_or(255);
  // The runtime's state of the container is berthd's to delete (at once, or
  // when it restarts): the exit is reported without waiting for that.
  Json exit = {{"exit_code", status}, {"finished_at", rfc3339_now()}};
  (void)write_file_atomic(kExitFileName, exit.dump(), 0644, /*durable=*/false);
  broadcast(kExit, std::to_string(status), false);
  ::unlink(kSocketName);
  ::unlink(kConsoleSocket);
}

Result<void> Shim::serve() {
  for (;;) {
    bool output_open = stdout_ || stderr_ || master_;
    if (exit_status_ && (!output_open || std::chrono::steady_clock::now() >= drain_deadline_)) break;
    std::vector<pollfd> fds = {{signals_.get(), POLLIN, 0}, {listener_.get(), POLLIN, 0}};
    for (int fd : {stdout_.get(), stderr_.get(), master_.get()})
      if (fd >= 0) fds.push_back({fd, POLLIN, 0});
    size_t first_client = fds.size();
    for (const auto& c : clients_) fds.push_back({c->fd.get(), POLLIN, 0});
    int timeout = -1;
    if (exit_status_) {
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(drain_deadline_ - std::chrono::steady_clock::now());
      timeout = static_cast<int>(std::max<int64_t>(0, left.count()));
    }
    int ready = ::poll(fds.data(), fds.size(), timeout);
    if (ready < 0 && errno == EINTR) continue;
    if (ready < 0) return fail_errno("poll");
    if (fds[0].revents) reap();
    for (size_t i = 2; i < first_client; ++i) {
      if (!fds[i].revents) continue;
      forward(fds[i].fd, fds[i].fd == stderr_.get() ? kStderr : kStdout);
    }
    // Clients: new ones, then requests from the ones polled (by fd: the
    // list may change while requests are handled).
    for (size_t i = first_client; i < fds.size(); ++i) {
      if (!fds[i].revents) continue;
      auto it = std::ranges::find_if(clients_, [&](const auto& c) { return c->fd.get() == fds[i].fd; });
      if (it == clients_.end()) continue;
      Client& client = **it;
      char buf[65536];
      ssize_t n = ::read(client.fd.get(), buf, sizeof buf);
      if (n <= 0) {
        if (n < 0 && errno == EINTR) continue;
        clients_.erase(it);
        continue;
      }
      client.input.append(buf, static_cast<size_t>(n));
      while (auto frame = take_frame(client.input)) handle_frame(client, std::move(*frame));
    }
    if (fds[1].revents & POLLIN) {
      UniqueFd conn(::accept4(listener_.get(), nullptr, nullptr, SOCK_CLOEXEC));
      if (conn) {
        timeval timeout{10, 0};  // a client that stops reading is dropped rather than stalling the process
        ::setsockopt(conn.get(), SOL_SOCKET, SO_SNDTIMEO, &timeout, sizeof timeout);
        clients_.push_back(std::make_unique<Client>(Client{std::move(conn)}));
      }
    }
  }
  finish();
  return {};
}

// berthd is the only caller: "--flag value" pairs and bare switches, no CLI
// library (the shim's memory is paid per container).
Result<Options> parse_options(int argc, char** argv) {
  Options o;
  std::map<std::string, std::string*> strings = {{"--id", &o.id},           {"--bundle", &o.bundle},       {"--runtime", &o.runtime},
                                                 {"--runtime-root", &o.runtime_root}, {"--state-dir", &o.state_dir},
                                                 {"--log", &o.log_path},     {"--exec", &o.exec_process}};
  std::map<std::string, bool*> switches = {{"--tty", &o.tty}, {"--stdin", &o.open_stdin}, {"--fifo-start", &o.fifo_start}};
  std::string max_size, max_files;
  strings["--log-max-size"] = &max_size;
  strings["--log-max-files"] = &max_files;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if (auto s = switches.find(arg); s != switches.end()) {
      *s->second = true;
    } else if (auto v = strings.find(arg); v != strings.end() && i + 1 < argc) {
      *v->second = argv[++i];
    } else {
      return fail("unknown or incomplete option " + arg);
    }
  }
  if (o.id.empty() || o.bundle.empty() || o.runtime.empty() || o.runtime_root.empty() || o.state_dir.empty())
    return fail("--id, --bundle, --runtime, --runtime-root and --state-dir are required");
  if (!max_size.empty()) o.log_max_size = std::strtoull(max_size.c_str(), nullptr, 10);
  if (!max_files.empty()) o.log_max_files = std::atoi(max_files.c_str());
  return o;
}

}  // namespace

int shim_main(int argc, char** argv) {
  auto parsed = parse_options(argc, argv);
  if (!parsed) {
    std::string message = "berth-shim: " + parsed.error().message() + "\n";
    (void)write_all(2, message);
    return 2;
  }
  Options options = std::move(*parsed);
  constexpr int kReadyFd = 3;
  // Not berthd's child and not in its session: the shim outlives it.
  pid_t child = ::fork();
  if (child < 0) return 1;
  if (child > 0) ::_exit(0);
  ::setsid();
  ::prctl(PR_SET_CHILD_SUBREAPER, 1);
  ::signal(SIGPIPE, SIG_IGN);
  ::signal(SIGHUP, SIG_IGN);
  ::signal(SIGINT, SIG_IGN);
  ::close_range(kReadyFd + 1, ~0U, 0);
  ::fcntl(kReadyFd, F_SETFD, FD_CLOEXEC);  // not for the runtime and the container
  if (::chdir(options.state_dir.c_str()) != 0) {
    (void)write_all(kReadyFd, "error cannot enter " + options.state_dir + ": " + std::strerror(errno) + "\n");
    return 1;
  }
  Shim shim(std::move(options));
  if (auto prepared = shim.prepare(); !prepared) {
    (void)write_all(kReadyFd, "error " + prepared.error().message() + "\n");
    return 1;
  }
  (void)write_all(kReadyFd, "ok " + std::to_string(shim.pid()) + "\n");
  ::close(kReadyFd);
  if (auto served = shim.serve(); !served) {
    std::string message = "berth-shim: " + served.error().message() + "\n";
    (void)write_all(2, message);
    return 1;
  }
  return 0;
}

}  // namespace berth::shim
