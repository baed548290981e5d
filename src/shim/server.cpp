#include "shim/server.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#include <charconv>
#include <chrono>
#include <cstring>
#include <memory>
#include <optional>
#include <vector>

#include "base/clock.h"
#include "base/exec_fifo.h"
#include "base/file.h"
#include "base/json.h"
#include "shim/flags.h"
#include "shim/protocol.h"

namespace berth::shim {

namespace {

// How long output may still come after the process ended (from children
// that kept the pipes open) before the shim reports the exit.
constexpr auto kDrainTime = std::chrono::milliseconds(500);

struct Client {
  UniqueFd fd;
  std::string input;
  bool stdout = false, stderr = false;
};

class Server {
 public:
  Server(const ServeOptions& options, UniqueFd listener, StdioEnds stdio, pid_t pid, Starter start)
      : options_(options), listener_(std::move(listener)), stdio_(std::move(stdio)), pid_(pid), start_(std::move(start)) {}

  Result<void> run();

 private:
  Result<Json> start();
  void handle_frame(Client& client, Frame frame);
  void reap();
  void forward(int fd, uint8_t stream);
  void broadcast(uint8_t type, std::string_view data, bool output_only);
  void finish();

  const ServeOptions& options_;
  UniqueFd listener_, signals_;
  StdioEnds stdio_;
  std::optional<JsonLogWriter> log_;
  std::vector<std::unique_ptr<Client>> clients_;
  pid_t pid_ = 0;
  Starter start_;
  bool started_ = false;
  std::optional<int> exit_status_;
  std::chrono::steady_clock::time_point drain_deadline_;
};

Result<Json> Server::start() {
  if (started_) return fail("already started");
  started_ = true;
  auto pid = start_(stdio_);
  if (!pid) {
    if (pid_ == 0) {
      // Nothing ran: report it as the exec's end, so everyone waiting hears.
      exit_status_ = 126;
      drain_deadline_ = std::chrono::steady_clock::now();
    }
    return std::unexpected(pid.error());
  }
  pid_ = *pid;
  return Json{{"pid", pid_}};
}

void Server::handle_frame(Client& client, Frame frame) {
  switch (frame.type) {
    case kStdin: {
      int fd = options_.tty ? stdio_.master.get() : stdio_.in.get();
      if (frame.payload.empty()) {
        if (!options_.tty) stdio_.in.reset();
      } else if (fd >= 0) {
        (void)write_all(fd, frame.payload);
      }
      break;
    }
    case kResize: {
      // "rows cols"
      winsize ws{};
      const char* end = frame.payload.data() + frame.payload.size();
      auto rows = std::from_chars(frame.payload.data(), end, ws.ws_row);
      auto cols = rows.ec == std::errc() && rows.ptr != end ? std::from_chars(rows.ptr + 1, end, ws.ws_col) : rows;
      if (cols.ec == std::errc() && stdio_.master) ::ioctl(stdio_.master.get(), TIOCSWINSZ, &ws);
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

void Server::reap() {
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

void Server::broadcast(uint8_t type, std::string_view data, bool output_only) {
  std::string frame = frame_header(type, data.size());
  frame.append(data);
  std::erase_if(clients_, [&](const std::unique_ptr<Client>& c) {
    if (output_only && !(type == kStdout ? c->stdout : c->stderr)) return false;
    return !write_all(c->fd.get(), frame);
  });
}

void Server::forward(int fd, uint8_t stream) {
  char buf[65536];
  ssize_t n = ::read(fd, buf, sizeof buf);
  if (n < 0 && (errno == EINTR || errno == EAGAIN)) return;
  UniqueFd& owner = fd == stdio_.master.get() ? stdio_.master : fd == stdio_.out.get() ? stdio_.out : stdio_.err;
  if (n <= 0) {  // EOF, or EIO from a pty whose other side is gone
    if (log_) (void)log_->flush();
    owner.reset();
    return;
  }
  std::string_view data(buf, static_cast<size_t>(n));
  if (log_) (void)log_->write(stream == kStdout ? "stdout" : "stderr", data);
  broadcast(stream, data, true);
}

void Server::finish() {
  if (log_) (void)log_->flush();
  int status = exit_status_.value_or(255);
  // berthd hears first; the file is for a berthd that was not listening.
  // The runtime's state of the container is berthd's to delete (at once, or
  // when it restarts): the exit is reported without waiting for that.
  broadcast(kExit, std::to_string(status), false);
  Json exit = {{"exit_code", status}, {"finished_at", rfc3339_now()}};
  (void)write_file_atomic(kExitFileName, exit.dump(), 0644, /*durable=*/false);
  ::unlink(kSocketName);
}

Result<void> Server::run() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGCHLD);
  signals_.reset(::signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK));
  if (!signals_) return fail_errno("signalfd");
  if (!options_.log_path.empty()) {
    auto log = JsonLogWriter::open(options_.log_path, options_.log_options);
    if (!log) (void)write_all(2, "berth-shim: " + log.error().message() + "\n");
    if (log) log_ = std::move(*log);
  }
  reap();  // a process that ended before the signalfd was there
  for (;;) {
    bool output_open = stdio_.out || stdio_.err || stdio_.master;
    if (exit_status_ && (!output_open || std::chrono::steady_clock::now() >= drain_deadline_)) break;
    std::vector<pollfd> fds = {{signals_.get(), POLLIN, 0}, {listener_.get(), POLLIN, 0}};
    for (int fd : {stdio_.out.get(), stdio_.err.get(), stdio_.master.get()})
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
      forward(fds[i].fd, fds[i].fd == stdio_.err.get() ? kStderr : kStdout);
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

// An inherited descriptor ("-1" for none), made close-on-exec again.
UniqueFd inherited_fd(const std::string& text) {
  int fd = std::atoi(text.c_str());
  if (fd < 0) return UniqueFd();
  ::fcntl(fd, F_SETFD, FD_CLOEXEC);
  return UniqueFd(fd);
}

}  // namespace

Starter start_by_exec_fifo(std::string fifo, pid_t pid) {
  return [fifo = std::move(fifo), pid](StdioEnds&) -> Result<pid_t> {
    TRY(release_exec_fifo(fifo, pid));
    return pid;
  };
}

Result<void> serve(const ServeOptions& options, UniqueFd listener, StdioEnds stdio, pid_t pid, Starter start) {
  return Server(options, std::move(listener), std::move(stdio), pid, std::move(start)).run();
}

// berth-shim-start has made the container and written berthd its pid; what
// it held comes as descriptors: --listener, --stdin, --stdout, --stderr,
// --master. The container starts by its exec fifo.
int serve_main(int argc, char** argv) {
  ServeOptions options;
  std::string state_dir, pid, fifo;
  std::string listener = "-1", in = "-1", out = "-1", err = "-1", master = "-1";
  auto parsed = parse_flags(argc, argv,
                            {{"--state-dir", &state_dir}, {"--pid", &pid}, {"--exec-fifo", &fifo}, {"--listener", &listener},
                             {"--stdin", &in}, {"--stdout", &out}, {"--stderr", &err}, {"--master", &master}},
                            {}, options);
  if (parsed && (state_dir.empty() || pid.empty() || fifo.empty() || listener == "-1"))
    parsed = fail("--state-dir, --pid, --exec-fifo and --listener are required");
  if (parsed && ::chdir(state_dir.c_str()) != 0) parsed = fail_errno("cannot enter " + state_dir);
  if (!parsed) {
    (void)write_all(2, "berth-shim: " + parsed.error().message() + "\n");
    return 2;
  }
  pid_t container = static_cast<pid_t>(std::atol(pid.c_str()));
  StdioEnds stdio{inherited_fd(in), inherited_fd(out), inherited_fd(err), inherited_fd(master)};
  if (auto served = serve(options, inherited_fd(listener), std::move(stdio), container, start_by_exec_fifo(fifo, container));
      !served) {
    (void)write_all(2, "berth-shim: " + served.error().message() + "\n");
    return 1;
  }
  return 0;
}

}  // namespace berth::shim
