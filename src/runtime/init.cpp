#include "runtime/init.h"

#include <fcntl.h>
#include <grp.h>
#include <sched.h>
#include <signal.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <functional>

#include "base/file.h"
#include "runtime/console.h"
#include "runtime/hooks.h"
#include "runtime/process.h"
#include "runtime/rootfs.h"
#include "base/safe_path.h"
#include "runtime/sync.h"

namespace berth::runtime {

int namespace_flag(const std::string& type) {
  if (type == "pid") return CLONE_NEWPID;
  if (type == "network") return CLONE_NEWNET;
  if (type == "mount") return CLONE_NEWNS;
  if (type == "ipc") return CLONE_NEWIPC;
  if (type == "uts") return CLONE_NEWUTS;
  if (type == "user") return CLONE_NEWUSER;
  if (type == "cgroup") return CLONE_NEWCGROUP;
  if (type == "time") return CLONE_NEWTIME;
  return 0;
}

std::string namespace_proc_name(const std::string& type) {
  if (type == "network") return "net";
  if (type == "mount") return "mnt";
  return type;
}

namespace {

// Reports a setup failure to the runtime; once the runtime has gone (a
// container started by `start`), stderr is the only place left to say it.
[[noreturn]] void die(const SyncSocket& sync, const Error& error) {
  if (!sync.send(SyncType::kError, error.code(), error.message())) {
    std::string line = "berth-runtime: " + error.message() + "\n";
    (void)!::write(2, line.data(), line.size());
  }
  ::_exit(127);
}

// Joins and creates namespaces, then forks the process that lives in them
// as a sibling (CLONE_PARENT) and reports its pid. Runs in the first child.
[[noreturn]] void enter_namespaces_and_fork(const SyncSocket& sync, const NamespacePlan& plan,
                                            const std::function<void()>& second_child) {
  auto result = [&]() -> Result<pid_t> {
    TRY(sync.expect(SyncType::kGo));  // the runtime has put us in the cgroup
    for (const auto& join : plan.joins)
      if (::setns(join.fd.get(), join.flag) != 0) return fail_errno("join namespace");
    bool joined_user = !plan.joins.empty() && plan.joins.front().flag == CLONE_NEWUSER;
    if (plan.new_flags & CLONE_NEWUSER) {
      if (::unshare(CLONE_NEWUSER) != 0) return fail_errno("create user namespace");
      TRY(sync.send(SyncType::kUsernsCreated));
      TRY(sync.expect(SyncType::kGo));  // the id maps are written
    }
    if ((plan.new_flags & CLONE_NEWUSER) || joined_user) {
      // Become the namespace's root, so files we make are owned by a mapped id.
      if (::setresgid(0, 0, 0) != 0) return fail_errno("setgid 0 in user namespace");
      if (::setresuid(0, 0, 0) != 0) return fail_errno("setuid 0 in user namespace");
      if (::setgroups(0, nullptr) != 0 && errno != EPERM) return fail_errno("setgroups");
    }
    int rest = plan.new_flags & ~CLONE_NEWUSER;
    if (rest && ::unshare(rest) != 0) return fail_errno("create namespaces");
    // The container process speaks on the sync socket only after its pid has
    // gone out: it waits for this pipe to close, when we exit.
    int order[2];
    if (::pipe2(order, O_CLOEXEC) != 0) return fail_errno("pipe");
    pid_t pid = static_cast<pid_t>(::syscall(SYS_clone, CLONE_PARENT | SIGCHLD, nullptr, nullptr, nullptr, nullptr));
    if (pid < 0) return fail_errno("clone container process");
    if (pid == 0) {
      ::close(order[1]);
      char byte;
      while (::read(order[0], &byte, 1) < 0 && errno == EINTR) {
      }
      ::close(order[0]);
      second_child();
      ::_exit(1);
    }
    ::close(order[0]);
    return pid;
  }();
  if (!result) die(sync, result.error());
  (void)sync.send(SyncType::kChildPid, *result);
  ::_exit(0);
}

Result<void> join_session_keyring(const std::string& id) {
  constexpr long kJoinSessionKeyring = 1;
  if (::syscall(SYS_keyctl, kJoinSessionKeyring, id.c_str(), 0, 0, 0) < 0 && errno != ENOSYS && errno != EPERM &&
      errno != EACCES && errno != EDQUOT)
    return fail_errno("create session keyring");
  return {};
}

// Waits until `start` opens the exec fifo for reading and tells it so. The
// returned end stays open until exec closes it, which `start` waits for.
Result<UniqueFd> wait_for_start(const InitConfig& config, const SyncSocket& sync) {
  if (config.fifo_fd < 0) {
    TRY(sync.expect(SyncType::kStart));
    return UniqueFd();
  }
  UniqueFd fifo(::open(fd_path(config.fifo_fd).c_str(), O_WRONLY | O_CLOEXEC));
  if (!fifo) return fail_errno("open exec fifo");
  if (::write(fifo.get(), "0", 1) != 1) return fail_errno("write exec fifo");
  return fifo;
}

Result<void> setup_container(const InitConfig& config, SyncSocket& sync) {
  const oci::Spec& spec = *config.spec;
  ::umask(0);
  bool userns = spec.linux->find_namespace("user") != nullptr;
  if (config.new_keyring) TRY(join_session_keyring(config.container_id));
  TRY(mount_rootfs({spec, config.rootfs, *config.cgroup, userns}));
  TRY(sync.send(SyncType::kRunHooks));
  std::string state_json = TRY(sync.expect(SyncType::kGo)).text;
  TRY(run_hooks(spec.hooks.create_container, "createContainer", state_json));
  TRY(enter_rootfs(config.rootfs, config.no_pivot));
  // The working directory is made while the rootfs may still be written.
  if (::access(spec.process->cwd.c_str(), F_OK) != 0) TRY(make_dirs(spec.process->cwd, 0755));

  std::optional<Pty> pty;
  if (spec.process->terminal) {
    pty = TRY(open_pty(spec.process->console_size));
    // /dev/console is the container's terminal too.
    UniqueFd console(::open("/dev/console", O_CREAT | O_WRONLY | O_CLOEXEC | O_NOFOLLOW, 0600));
    if (!console) return fail_errno("create /dev/console");
    console.reset();
    if (::mount(pty->slave_path.c_str(), "/dev/console", nullptr, MS_BIND, nullptr) != 0) return fail_errno("mount /dev/console");
  }
  TRY(finish_rootfs(spec));
  std::string executable = TRY(find_executable(*spec.process));
  if (pty) {
    TRY(send_fd(config.console_fd, pty->master.get(), pty->slave_path));
    pty->master.reset();
    TRY(attach_controlling_terminal(pty->slave.get()));
    pty->slave.reset();
  } else if (::setsid() < 0) {
    return fail_errno("setsid");
  }
  TRY(sync.send(SyncType::kCreated));
  // After create returns nobody reads the sync socket: from here on errors
  // go to stderr (see die()).
  if (config.fifo_fd >= 0) sync.close();
  UniqueFd started = TRY(wait_for_start(config, sync));
  auto launched = [&]() -> Result<void> {
    TRY(run_hooks(spec.hooks.start_container, "startContainer", state_json));
    return exec_process(*spec.process, spec.linux->seccomp, executable, config.preserve_fds);
  }();
  // Still here: the process did not exec. `start` reads the reason from the
  // fifo (the sync socket is gone by now).
  if (started) {
    (void)write_all(started.get(), launched.error().message());
    ::_exit(127);
  }
  return launched;
}

Result<void> setup_exec(const ExecConfig& config, const SyncSocket& sync) {
  const oci::Process& process = *config.process;
  if (process.terminal) {
    auto pty = TRY(open_pty(process.console_size));
    TRY(send_fd(config.console_fd, pty.master.get(), pty.slave_path));
    pty.master.reset();
    TRY(attach_controlling_terminal(pty.slave.get()));
  }
  std::string executable = TRY(find_executable(process));
  TRY(sync.send(SyncType::kCreated));
  TRY(sync.expect(SyncType::kStart));
  return exec_process(process, *config.seccomp, executable, config.preserve_fds);
}

// The stdio the caller chose for the process, in place of its own.
void take_stdio(const Stdio& stdio) {
  for (int fd = 0; fd < 3; ++fd)
    if (stdio[fd] >= 0) ::dup2(stdio[fd], fd);
}

}  // namespace

[[noreturn]] void container_child(const InitConfig& config) {
  take_stdio(config.stdio);
  SyncSocket sync{UniqueFd(config.sync_fd)};
  enter_namespaces_and_fork(sync, config.namespaces, [&] {
    auto result = setup_container(config, sync);
    die(sync, result.error());
  });
}

std::optional<int> direct_clone_flags(const NamespacePlan& plan) {
  if (!plan.joins.empty() || (plan.new_flags & (CLONE_NEWUSER | CLONE_NEWTIME))) return std::nullopt;
  return plan.new_flags & ~CLONE_NEWCGROUP;
}

[[noreturn]] void container_child_direct(const InitConfig& config) {
  take_stdio(config.stdio);
  SyncSocket sync{UniqueFd(config.sync_fd)};
  auto result = [&]() -> Result<void> {
    TRY(sync.expect(SyncType::kGo));  // the runtime has put us in the cgroup
    if ((config.namespaces.new_flags & CLONE_NEWCGROUP) && ::unshare(CLONE_NEWCGROUP) != 0)
      return fail_errno("create cgroup namespace");
    return setup_container(config, sync);
  }();
  die(sync, result.error());
}

[[noreturn]] void exec_child(const ExecConfig& config) {
  take_stdio(config.stdio);
  SyncSocket sync{UniqueFd(config.sync_fd)};
  enter_namespaces_and_fork(sync, config.namespaces, [&] {
    auto result = setup_exec(config, sync);
    die(sync, result.error());
  });
}

}  // namespace berth::runtime
