#include "engine/shim_client.h"

#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <iterator>
#include <thread>
#include <vector>

#include "base/file.h"
#include "shim/flags.h"
#include "shim/protocol.h"

extern char** environ;

namespace berth::engine {

Result<LaunchedShim> launch_shim(const ShimLaunch& l) {
  std::vector<std::string> args = {l.shim, "--id", l.id, "--bundle", l.bundle, "--runtime-root", l.runtime_root,
                                   "--state-dir", l.state_dir};
  std::ranges::copy(shim::serve_flags({l.log_path, l.log_options, l.tty}), std::back_inserter(args));
  if (l.open_stdin) args.push_back("--stdin");
  if (!l.exec_process.empty()) args.insert(args.end(), {"--exec", l.exec_process});
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);

  int ready[2];
  if (::pipe2(ready, O_CLOEXEC) != 0) return fail_errno("pipe");
  UniqueFd ready_read(ready[0]), ready_write(ready[1]);
  // posix_spawn, not fork: berthd has many threads. The shim gets the pipe
  // on fd 3, /dev/null for stdio and its own errors in shim.log.
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  ScopeGuard free_actions([&] { posix_spawn_file_actions_destroy(&actions); });
  posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0);
  std::string shim_log = l.state_dir + "/shim.log";
  posix_spawn_file_actions_addopen(&actions, 2, shim_log.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0600);
  posix_spawn_file_actions_adddup2(&actions, ready_write.get(), 3);
  // Nothing of berthd's signal handling (blocked SIGTERM, ignored SIGPIPE)
  // carries over, and a session of its own keeps berthd's signals away: the
  // shim outlives berthd.
  posix_spawnattr_t attr;
  posix_spawnattr_init(&attr);
  ScopeGuard free_attr([&] { posix_spawnattr_destroy(&attr); });
  // (Handlers end with the exec anyway; SIGPIPE is the one berthd ignores.)
  sigset_t none, ignored;
  sigemptyset(&none);
  sigemptyset(&ignored);
  sigaddset(&ignored, SIGPIPE);
  posix_spawnattr_setsigmask(&attr, &none);
  posix_spawnattr_setsigdefault(&attr, &ignored);
  posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSID);
  pid_t pid = 0;
  if (int rc = ::posix_spawn(&pid, argv[0], &actions, &attr, argv.data(), environ); rc != 0)
    return fail("start " + l.shim + ": " + std::strerror(rc), rc);
  ready_write.reset();
  // The container process holds the pipe until it execs.
  auto line = read_line(ready_read.get());
  if (line && line->starts_with("ok ")) return LaunchedShim{static_cast<pid_t>(std::atol(line->c_str() + 3)), pid};
  reap_shim(pid);
  if (!line) return std::unexpected(line.error());
  if (line->starts_with("error ")) return fail(line->substr(6));
  auto log = read_file(shim_log).value_or("");
  return fail("berth-shim failed to start" + (log.empty() ? std::string() : ": " + log));
}

void reap_shim(pid_t shim, bool later) {
  if (shim <= 0) return;
  if (later) {
    std::thread([shim] { reap_shim(shim); }).detach();
    return;
  }
  while (::waitpid(shim, nullptr, 0) < 0 && errno == EINTR) {
  }
}

Result<Json> shim_request(const std::string& state_dir, const Json& request) {
  UniqueFd fd(TRY(shim::connect_shim(state_dir)));
  TRY(shim::write_frame(fd.get(), shim::kControl, request.dump()));
  for (;;) {
    auto frame = TRY(shim::read_frame(fd.get()));
    if (!frame) return fail("the container's shim went away", ESRCH);
    if (frame->type != shim::kReply) continue;
    auto reply = TRY(parse_json(frame->payload));
    if (reply.contains("error")) return fail(reply["error"].get<std::string>());
    return reply;
  }
}

Result<UniqueFd> shim_subscribe(const std::string& state_dir, bool stdout, bool stderr, bool await_reply) {
  UniqueFd fd(TRY(shim::connect_shim(state_dir)));
  TRY(shim::write_frame(fd.get(), shim::kControl, Json{{"op", "subscribe"}, {"stdout", stdout}, {"stderr", stderr}}.dump()));
  if (!await_reply) return fd;
  auto frame = TRY(shim::read_frame(fd.get()));
  if (!frame || frame->type != shim::kReply) return fail("the container's shim did not answer", ESRCH);
  return fd;
}

std::optional<int> shim_exit_status(const std::string& state_dir) {
  auto text = read_file(state_dir + "/" + shim::kExitFileName);
  if (!text) return std::nullopt;
  auto doc = parse_json(*text);
  if (!doc || !doc->is_object() || !(*doc)["exit_code"].is_number_integer()) return std::nullopt;
  return (*doc)["exit_code"].get<int>();
}

}  // namespace berth::engine
