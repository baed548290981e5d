#include "runtime/container.h"

#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <functional>
#include <cstdlib>
#include <optional>
#include <thread>
#include <utility>

#include "base/exec_fifo.h"
#include "base/file.h"
#include "base/subprocess.h"
#include "runtime/cgroup.h"
#include "runtime/console.h"
#include "runtime/foreground.h"
#include "runtime/hooks.h"
#include "runtime/rootfs.h"
#include "runtime/init.h"
#include "runtime/process.h"
#include "runtime/seccomp.h"
#include "runtime/capabilities.h"
#include "runtime/sync.h"

namespace berth::runtime {

namespace {

constexpr const char* kOciVersion = "1.2.0";

std::string hook_state(const std::string& id, const std::string& status, pid_t pid, const std::string& bundle,
                       const std::map<std::string, std::string>& annotations) {
  return oci::state_to_json({kOciVersion, id, status, pid, bundle, annotations}).dump();
}

Result<std::string> absolute_path(const std::string& path) {
  char buf[PATH_MAX];
  if (!::realpath(path.c_str(), buf)) return fail_errno(path);
  return std::string(buf);
}

struct BundleConfig {
  Json json;
  oci::Spec spec;
};

Result<BundleConfig> load_bundle_config(const std::string& bundle) {
  auto text = TRY_CTX(read_file(bundle + "/config.json"), "load bundle");
  auto json = TRY_CTX(parse_json(text), bundle + "/config.json");
  auto spec = TRY_CTX(oci::parse_spec_json(json), bundle + "/config.json");
  if (!spec.process) return fail(bundle + "/config.json: process: is required");
  const auto& linux = *spec.linux;
  if (!linux.find_namespace("mount")) return fail(bundle + "/config.json: linux.namespaces: a mount namespace is required");
  if (const auto* user = linux.find_namespace("user"); user && user->path.empty() && linux.uid_mappings.empty())
    return fail(bundle + "/config.json: linux.uidMappings: required with a new user namespace");
  if (spec.process->capabilities) TRY_CTX(parse_capabilities(*spec.process->capabilities), bundle + "/config.json");
  for (const auto& limit : spec.process->rlimits) TRY_CTX(rlimit_resource(limit.type), bundle + "/config.json");
  if (linux.seccomp) TRY_CTX(validate_seccomp(*linux.seccomp), bundle + "/config.json");
  TRY_CTX(validate_sysctls(linux), bundle + "/config.json");
  return BundleConfig{std::move(json), std::move(spec)};
}

// A capability the runtime does not hold cannot be given to the container:
// say so, and leave it out rather than fail at exec with EPERM.
void warn_unavailable_capabilities(oci::Capabilities& caps) {
  for (const auto& name : drop_unavailable_capabilities(caps))
    (void)write_all(2, "berth-runtime: warning: " + name + " is not in the runtime's bounding set; the process will not have it\n");
}

std::string id_map_text(const std::vector<oci::IdMapping>& mappings) {
  std::string text;
  for (const auto& m : mappings)
    text += std::to_string(m.container_id) + " " + std::to_string(m.host_id) + " " + std::to_string(m.size) + "\n";
  return text;
}

// Adds a namespace to join by path; a user namespace goes first, as the
// others belong to it.
Result<void> add_join(NamespacePlan& plan, int flag, const std::string& path) {
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd) return fail_errno("open " + path);
  auto at = flag == CLONE_NEWUSER ? plan.joins.begin() : plan.joins.end();
  plan.joins.insert(at, NamespaceJoin{flag, std::move(fd)});
  return {};
}

// The namespaces of config: joined by path or created.
Result<NamespacePlan> plan_namespaces(const oci::Linux& linux) {
  NamespacePlan plan;
  for (const auto& ns : linux.namespaces) {
    int flag = namespace_flag(ns.type);
    if (ns.path.empty()) {
      plan.new_flags |= flag;
      continue;
    }
    TRY_CTX(add_join(plan, flag, ns.path), ns.type + " namespace");
  }
  return plan;
}

// Kills what is left in a container and waits for its init to be gone.
void kill_and_wait(const ContainerRecord& record, Cgroup& cgroup) {
  if (process_alive(record)) ::kill(record.pid, SIGKILL);
  (void)cgroup.kill_all(SIGKILL);
  if (cgroup.frozen()) (void)cgroup.thaw();
  auto pidfd = pidfd_open(record.pid);
  if (pidfd) {
    UniqueFd fd(*pidfd);
    pollfd p{fd.get(), POLLIN, 0};
    ::poll(&p, 1, 10000);
  }
}

Result<void> write_pid_file(const std::string& path, pid_t pid) {
  if (path.empty()) return {};
  TRY_CTX(write_file_atomic(path, std::to_string(pid), 0644, /*durable=*/false), "write pid file");
  return {};
}

// A socketpair whose far end stands in for a --console-socket, so the
// runtime itself receives the pty master and proxies the caller's terminal.
struct ConsoleChannel {
  UniqueFd ours, theirs;
};

Result<ConsoleChannel> console_channel(const std::string& console_socket, bool terminal, bool proxy) {
  ConsoleChannel channel;
  if (!terminal) {
    if (!console_socket.empty()) return fail("--console-socket given, but process.terminal is false");
    return channel;
  }
  if (!console_socket.empty()) {
    channel.theirs = TRY(connect_unix(console_socket));
    return channel;
  }
  if (!proxy) return fail("process.terminal is true: --console-socket is required");
  int fds[2];
  if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds) != 0) return fail_errno("socketpair");
  channel.ours = UniqueFd(fds[0]);
  channel.theirs = UniqueFd(fds[1]);
  return channel;
}

// Waits for the container process's exec: the sync socket closes on a
// successful exec (it is close-on-exec) and carries the error otherwise.
Result<void> wait_for_exec(const SyncSocket& sync) {
  auto message = sync.receive();
  if (!message) return {};
  if (message->type == SyncType::kError) return fail(message->text, static_cast<int>(message->value));
  return {};
}

// The processes a container setup forks: the first child, which enters
// the namespaces and exits, and the container process it forks with
// CLONE_PARENT (or only the container process, cloned in its namespaces).
// Until released, both are killed if setup fails.
class SetupProcesses {
 public:
  SetupProcesses() = default;
  SetupProcesses(const SetupProcesses&) = delete;
  SetupProcesses& operator=(const SetupProcesses&) = delete;
  ~SetupProcesses() {
    for (pid_t pid : {first_, container_}) {
      if (pid <= 0) continue;
      ::kill(pid, SIGKILL);
      ::waitpid(pid, nullptr, 0);
    }
  }

  // Forks the first child to run child_main (which never returns), moves it
  // into the cgroup and then lets it go on. With clone flags, that child is
  // the container process itself, made in its namespaces.
  Result<void> fork_first(const std::function<void()>& child_main, Cgroup& cgroup, SyncSocket& sync,
                          std::optional<int> clone_flags = std::nullopt) {
    first_ = clone_flags ? static_cast<pid_t>(::syscall(SYS_clone, *clone_flags | SIGCHLD, nullptr, nullptr, nullptr, nullptr))
                         : ::fork();
    if (first_ < 0) return fail_errno("fork");
    if (first_ == 0) child_main();
    if (clone_flags) std::swap(first_, container_);
    TRY(cgroup.add_process(clone_flags ? container_ : first_));
    return sync.send(SyncType::kGo);
  }

  // The first child reported the container process and exits: reap it.
  void container_forked(pid_t pid) {
    container_ = pid;
    ::waitpid(first_, nullptr, 0);
    first_ = 0;
  }

  pid_t first() const { return first_; }
  pid_t container() const { return container_; }
  void release() { first_ = container_ = 0; }

 private:
  pid_t first_ = 0;
  pid_t container_ = 0;
};

}  // namespace

struct Runtime::Launched {
  ContainerRecord record;
  SyncSocket sync;
  UniqueFd pty_master;
};

Result<Runtime::Launched> Runtime::launch(const std::string& id, const CreateOptions& options, bool via_fifo,
                                          bool proxy_terminal) {
  TRY(validate_id(id));
  std::string bundle = TRY_CTX(absolute_path(options.bundle), "bundle");
  auto [config_json, spec] = TRY(load_bundle_config(bundle));
  if (spec.process->capabilities) warn_unavailable_capabilities(*spec.process->capabilities);
  std::string rootfs = TRY_CTX(absolute_path(spec.root.path.starts_with('/') ? spec.root.path : bundle + "/" + spec.root.path),
                               "rootfs");
  auto console = TRY(console_channel(options.console_socket, spec.process->terminal, proxy_terminal));
  auto plan = TRY(plan_namespaces(*spec.linux));

  TRY(store_.reserve(id));
  ScopeGuard remove_state([&] { (void)store_.remove(id); });
  UniqueFd fifo;
  if (via_fifo) {
    // Writable by all: the container's root may be an unprivileged host uid.
    if (::mkfifo(store_.fifo_path(id).c_str(), 0622) != 0 || ::chmod(store_.fifo_path(id).c_str(), 0622) != 0)
      return fail_errno("create exec fifo");
    fifo = UniqueFd(::open(store_.fifo_path(id).c_str(), O_PATH | O_CLOEXEC));
    if (!fifo) return fail_errno("open exec fifo");
  }
  auto cgroup = TRY(open_cgroup(spec.linux->cgroups_path, id));
  ScopeGuard remove_cgroup([&] { (void)cgroup->destroy(); });
  TRY(cgroup->create());
  if (spec.linux->resources) TRY_CTX(cgroup->apply(*spec.linux->resources, spec.linux->devices), "apply cgroup limits");

  auto [sync, child_end] = TRY(SyncSocket::make_pair());
  // Relative bind-mount sources are relative to the bundle: the child starts
  // there, and the caller (berth-shim runs this in-process) gets its own back.
  UniqueFd cwd(::open(".", O_PATH | O_DIRECTORY | O_CLOEXEC));
  if (::chdir(bundle.c_str()) != 0) return fail_errno("chdir " + bundle);
  ScopeGuard back([&] {
    if (cwd) (void)::fchdir(cwd.get());
  });
  InitConfig config{&spec, id, rootfs, cgroup.get(), child_end.fd(), console.theirs.get(), fifo.get(), options.stdio,
                    options.preserve_fds, options.no_pivot, !options.no_new_keyring, std::move(plan)};
  SetupProcesses processes;
  auto direct = direct_clone_flags(config.namespaces);
  TRY(processes.fork_first(
      [&] {
        sync.close();
        direct ? container_child_direct(config) : container_child(config);
      },
      *cgroup, sync, direct));
  child_end.close();
  console.theirs.reset();
  config.namespaces.joins.clear();
  for (bool created = false; !created;) {
    auto message = TRY(sync.receive());
    switch (message.type) {
      case SyncType::kUsernsCreated: {
        std::string proc = "/proc/" + std::to_string(processes.first());
        TRY_CTX(write_file(proc + "/uid_map", id_map_text(spec.linux->uid_mappings)), "write uid_map");
        TRY_CTX(write_file(proc + "/gid_map", id_map_text(spec.linux->gid_mappings)), "write gid_map");
        TRY(sync.send(SyncType::kGo));
        break;
      }
      case SyncType::kChildPid:
        processes.container_forked(static_cast<pid_t>(message.value));
        break;
      case SyncType::kRunHooks: {
        pid_t pid = processes.container();
        std::string state = hook_state(id, "creating", pid, bundle, spec.annotations);
        TRY(run_hooks(spec.hooks.prestart, "prestart", state));
        TRY(run_hooks(spec.hooks.create_runtime, "createRuntime", state));
        TRY(sync.send(SyncType::kGo, 0, hook_state(id, "created", pid, bundle, spec.annotations)));
        break;
      }
      case SyncType::kCreated:
        created = true;
        break;
      case SyncType::kError:
        return fail(message.text, static_cast<int>(message.value));
      default:
        return fail("sync: unexpected message from container process");
    }
  }
  Launched launched;
  if (console.ours) launched.pty_master = TRY(receive_fd(console.ours.get()));

  ContainerRecord& record = launched.record;
  record.id = id;
  pid_t pid = processes.container();
  record.pid = pid;
  record.pid_start_time = process_start_time(pid).value_or(0);
  record.bundle = bundle;
  record.rootfs = rootfs;
  record.created = rfc3339_now();
  record.owner = ::geteuid();
  record.config = std::move(config_json);
  TRY(store_.save(record));
  TRY(write_pid_file(options.pid_file, pid));
  launched.sync = std::move(sync);
  processes.release();
  remove_cgroup.dismiss();
  remove_state.dismiss();
  return launched;
}

Result<pid_t> Runtime::create(const std::string& id, const CreateOptions& options) {
  auto launched = TRY(launch(id, options, /*via_fifo=*/true, /*proxy_terminal=*/false));
  return launched.record.pid;
}

Result<void> Runtime::start(const std::string& id) {
  auto record = TRY(store_.load(id));
  Status status = store_.status(record);
  if (status != Status::kCreated) return fail("cannot start a container that is " + status_text(status));
  // The poststart hooks run only once the process has exec'd.
  TRY(release_exec_fifo(store_.fifo_path(id), record.pid));
  auto spec = TRY(oci::parse_spec_json(record.config));
  run_hooks_warning(spec.hooks.poststart, "poststart", hook_state(id, "running", record.pid, record.bundle, spec.annotations));
  return {};
}

Result<int> Runtime::run(const std::string& id, const CreateOptions& options, bool detach) {
  auto launched = TRY(launch(id, options, /*via_fifo=*/false, /*proxy_terminal=*/!detach));
  auto& record = launched.record;
  auto spec = TRY(oci::parse_spec_json(record.config));
  auto started = [&]() -> Result<void> {
    TRY(launched.sync.send(SyncType::kStart));
    TRY(wait_for_exec(launched.sync));
    return {};
  }();
  if (!started) {
    (void)destroy(record);
    return std::unexpected(started.error());
  }
  run_hooks_warning(spec.hooks.poststart, "poststart", hook_state(id, "running", record.pid, record.bundle, spec.annotations));
  if (detach) return 0;
  auto status = wait_foreground(record.pid, launched.pty_master.get());
  TRY(destroy(record));
  return status;
}

Result<ContainerInfo> Runtime::info(const std::string& id) const {
  auto record = TRY(store_.load(id));
  Status status = store_.status(record);
  return ContainerInfo{std::move(record), status};
}

Result<std::vector<ContainerInfo>> Runtime::list() const {
  std::vector<ContainerInfo> out;
  for (const auto& id : TRY(store_.list()))
    if (auto info = this->info(id)) out.push_back(std::move(*info));
  return out;
}

Result<void> Runtime::kill(const std::string& id, int signal, bool all) {
  auto record = TRY(store_.load(id));
  if (store_.status(record) == Status::kStopped) return fail("container \"" + id + "\" is not running");
  if (all) {
    auto cgroup = TRY(open_cgroup(record.config.value("/linux/cgroupsPath"_json_pointer, std::string()), id));
    TRY(cgroup->kill_all(signal));
    if (signal == SIGKILL && cgroup->frozen()) TRY(cgroup->thaw());
    return {};
  }
  if (::kill(record.pid, signal) != 0) return fail_errno("kill container \"" + id + "\"");
  return {};
}

Result<void> Runtime::destroy(const ContainerRecord& record) {
  auto spec = TRY(oci::parse_spec_json(record.config));
  auto cgroup = TRY(open_cgroup(spec.linux->cgroups_path, record.id));
  kill_and_wait(record, *cgroup);
  TRY(cgroup->destroy());
  run_hooks_warning(spec.hooks.poststop, "poststop", hook_state(record.id, "stopped", 0, record.bundle, spec.annotations));
  return store_.remove(record.id);
}

Result<void> Runtime::remove(const std::string& id, bool force) {
  auto record = store_.load(id);
  if (!record) {
    // A create that was killed half way leaves a directory without state.
    if (record.error().code() == ENOENT && force && validate_id(id) && path_exists(store_.dir(id))) return store_.remove(id);
    return std::unexpected(record.error());
  }
  Status status = store_.status(*record);
  if (status != Status::kStopped && !force)
    return fail("cannot delete container \"" + id + "\" that is not stopped: " + status_text(status));
  return destroy(*record);
}

Result<int> Runtime::exec(const std::string& id, const ExecOptions& options) {
  auto record = TRY(store_.load(id));
  Status status = store_.status(record);
  if (status != Status::kRunning && status != Status::kCreated)
    return fail("cannot exec in a " + status_text(status) + " container");
  auto spec = TRY(oci::parse_spec_json(record.config));
  oci::Process process = options.process;
  if (process.capabilities) {
    TRY(parse_capabilities(*process.capabilities));
    warn_unavailable_capabilities(*process.capabilities);
  }
  for (const auto& limit : process.rlimits) TRY(rlimit_resource(limit.type));
  auto console = TRY(console_channel(options.console_socket, process.terminal, !options.detach));

  NamespacePlan plan;
  for (const auto& ns : spec.linux->namespaces) {
    std::string path = "/proc/" + std::to_string(record.pid) + "/ns/" + namespace_proc_name(ns.type);
    TRY(add_join(plan, namespace_flag(ns.type), path));
  }
  auto cgroup = TRY(open_cgroup(spec.linux->cgroups_path, id));
  auto [sync, child_end] = TRY(SyncSocket::make_pair());
  ExecConfig config{&process, &spec.linux->seccomp, child_end.fd(), console.theirs.get(), options.stdio, options.preserve_fds,
                    std::move(plan)};
  SetupProcesses processes;
  TRY(processes.fork_first(
      [&] {
        sync.close();
        exec_child(config);
      },
      *cgroup, sync));
  child_end.close();
  console.theirs.reset();
  config.namespaces.joins.clear();
  processes.container_forked(static_cast<pid_t>(TRY(sync.expect(SyncType::kChildPid)).value));
  TRY(sync.expect(SyncType::kCreated));
  UniqueFd master;
  if (console.ours) master = TRY(receive_fd(console.ours.get()));
  pid_t pid = processes.container();
  TRY(write_pid_file(options.pid_file, pid));
  TRY(sync.send(SyncType::kStart));
  TRY(wait_for_exec(sync));
  processes.release();
  if (options.detach) return pid;
  return wait_foreground(pid, master.get());
}

Result<void> Runtime::pause(const std::string& id) {
  auto record = TRY(store_.load(id));
  Status status = store_.status(record);
  if (status != Status::kRunning) return fail("container \"" + id + "\" is not running");
  auto cgroup = TRY(open_cgroup(record.config.value("/linux/cgroupsPath"_json_pointer, std::string()), id));
  return cgroup->freeze();
}

Result<void> Runtime::resume(const std::string& id) {
  auto record = TRY(store_.load(id));
  if (store_.status(record) != Status::kPaused) return fail("container \"" + id + "\" is not paused");
  auto cgroup = TRY(open_cgroup(record.config.value("/linux/cgroupsPath"_json_pointer, std::string()), id));
  return cgroup->thaw();
}

Result<void> Runtime::update(const std::string& id, const Json& patch) {
  auto record = TRY(store_.load(id));
  if (store_.status(record) == Status::kStopped) return fail("container \"" + id + "\" is not running");
  auto changes = TRY(oci::parse_resources(patch));
  Json& stored = record.config["linux"]["resources"];
  if (stored.is_null()) stored = Json::object();
  stored.merge_patch(patch);
  TRY(oci::parse_spec_json(record.config));
  auto cgroup = TRY(open_cgroup(record.config.value("/linux/cgroupsPath"_json_pointer, std::string()), id));
  TRY(cgroup->apply(changes, {}));
  return store_.save(record);
}

Result<std::vector<pid_t>> Runtime::processes(const std::string& id) const {
  auto record = TRY(store_.load(id));
  auto cgroup = TRY(open_cgroup(record.config.value("/linux/cgroupsPath"_json_pointer, std::string()), id));
  return cgroup->processes();
}

Result<bool> Runtime::oom_killed(const std::string& id) const {
  auto record = TRY(store_.load(id));
  auto cgroup = TRY(open_cgroup(record.config.value("/linux/cgroupsPath"_json_pointer, std::string()), id));
  return cgroup->oom_kills() > 0;
}

Result<oci::Spec> Runtime::spec_of(const std::string& id) const {
  auto record = TRY(store_.load(id));
  return oci::parse_spec_json(record.config);
}

Json state_json(const ContainerInfo& info) {
  const auto& r = info.record;
  Json j = {{"ociVersion", kOciVersion},
            {"id", r.id},
            {"pid", info.status == Status::kStopped ? 0 : r.pid},
            {"status", status_text(info.status)},
            {"bundle", r.bundle},
            {"rootfs", r.rootfs},
            {"created", r.created},
            {"owner", ""}};
  if (auto it = r.config.find("annotations"); it != r.config.end() && it->is_object() && !it->empty()) j["annotations"] = *it;
  return j;
}

}  // namespace berth::runtime
