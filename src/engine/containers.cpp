#include "engine/containers.h"

#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <thread>

#include "base/clock.h"
#include "base/digest.h"
#include "base/file.h"
#include "engine/container_spec.h"
#include "engine/names.h"
#include "engine/shim_client.h"
#include "image/overlay.h"
#include "runtime/container.h"
#include "runtime/signals.h"
#include "shim/protocol.h"

namespace berth::engine {

struct Containers::Entry {
  Container c;
  std::mutex op;               // one start/stop/remove at a time
  bool shim_ready = false;     // a shim holds the process: clients may connect
  int pending_attaches = 0;    // attaches waiting for the next start
  uint64_t exits = 0;          // for "next-exit" waits
  bool removed = false;
  std::optional<std::string> start_error;  // the process could not be started
  std::chrono::milliseconds restart_delay{0};
};

struct Containers::Exec {
  std::string id;
  std::string container_id;
  Json config;  // Engine API ExecConfig
  bool started = false, running = false;
  std::optional<int> exit_code;
  pid_t pid = 0;
};

namespace {

constexpr std::chrono::milliseconds kFirstRestartDelay{100};
constexpr std::chrono::milliseconds kMaxRestartDelay{60000};
constexpr int kDefaultStopTimeout = 10;
constexpr const char* kInitPath = "/sbin/docker-init";
constexpr const char* kLoopbackHosts =
    "127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n"
    "fe00::0\tip6-localnet\nff00::0\tip6-mcastprefix\nff02::1\tip6-allnodes\nff02::2\tip6-allrouters\n";

Result<shim::LogOptions> log_options(const Json& host_config) {
  Json log = field(host_config, "LogConfig");
  std::string type = string_field(log, "Type");
  if (!type.empty() && type != "json-file") return fail("logging driver \"" + type + "\" is not supported (only json-file)", EINVAL);
  std::map<std::string, std::string> opts;
  if (Json config = field(log, "Config"); config.is_object())
    for (const auto& [k, v] : config.items()) {
      if (k != "max-size" && k != "max-file") return fail("unknown log opt '" + k + "' for json-file log driver", EINVAL);
      if (v.is_string()) opts[k] = v.get<std::string>();
    }
  return shim::parse_log_options(opts);
}

// What the engine cannot do yet is refused, never ignored.
Result<void> check_supported(const Json& host) {
  std::string network = string_field(host, "NetworkMode");
  if (!network.empty() && network != "default" && network != "bridge" && network != "none" && network != "host")
    return fail("network " + network + " not found", ENOENT);
  if (Json ports = field(host, "PortBindings"); ports.is_object() && !ports.empty())
    return fail("publishing ports (-p) needs the bridge network, which berth does not provide yet", EINVAL);
  for (const char* key : {"Binds", "Mounts", "VolumesFrom", "Links", "Devices", "DeviceRequests"})
    if (Json v = field(host, key); v.is_array() && !v.empty())
      return fail(std::string("HostConfig.") + key + " is not supported yet", EINVAL);
  return {};
}

}  // namespace

Containers::Containers(ContainerPaths paths, image::ImageStore& images, std::mutex& image_mutex, EventBus& events)
    : paths_(std::move(paths)), images_(images), image_mutex_(image_mutex), events_(events) {}

std::string Containers::container_dir(const std::string& id) const { return paths_.data_root + "/containers/" + id; }
std::string Containers::trash_dir(const std::string& id) const { return paths_.data_root + "/trash/" + id; }
std::string Containers::state_dir(const std::string& id) const { return paths_.exec_root + "/containers/" + id; }
std::string Containers::log_path(const Container& c) const { return container_dir(c.id) + "/" + c.id + "-json.log"; }

// Atomic always; durable (fsync) only for a new container: a state change
// lost to a power cut describes processes the reboot ended anyway.
Result<void> Containers::persist(const Container& c, bool durable) const {
  return write_file_atomic(container_dir(c.id) + "/container.json", container_to_json(c).dump(), 0600, durable);
}

Result<void> Containers::restore() {
  std::string root = paths_.data_root + "/containers";
  TRY(make_dirs(root, 0700));
  TRY(make_dirs(paths_.exec_root + "/containers", 0700));
  TRY(make_dirs(trash_dir(""), 0700));
  // What removals cut short left behind.
  auto trash = TRY(open_file(trash_dir(""), O_RDONLY | O_DIRECTORY));
  for (const auto& id : TRY(list_directory(trash.get()))) (void)empty_trash(id);
  auto dir = TRY(open_file(root, O_RDONLY | O_DIRECTORY));
  for (const auto& id : TRY(list_directory(dir.get()))) {
    auto text = read_file(root + "/" + id + "/container.json");
    auto doc = text ? parse_json(*text) : Result<Json>(std::unexpected(text.error()));
    auto c = doc ? container_from_json(*doc) : Result<Container>(std::unexpected(doc.error()));
    if (!c) {
      // A create cut short before its record was written: nothing to keep.
      (void)remove_all(root + "/" + id);
      continue;
    }
    auto entry = std::make_shared<Entry>();
    entry->c = std::move(*c);
    by_id_[id] = entry;
    if (!entry->c.state.running()) {
      cleanup_rootfs(id);  // what a daemon that died while starting it left
      continue;
    }
    if (auto conn = shim_subscribe(state_dir(id), false, false)) {
      entry->shim_ready = true;
      std::thread(&Containers::monitor, this, entry, std::move(*conn), 0).detach();
    } else {
      handle_exit(entry, shim_exit_status(state_dir(id)));
    }
  }
  // As Docker at its start: containers whose policy is always (or
  // unless-stopped, and not stopped by hand) run again, and those that
  // were to go with their exit (--rm) and ended meanwhile go.
  std::vector<std::shared_ptr<Entry>> to_start, to_remove;
  for (const auto& [id, entry] : by_id_) {
    std::string policy = string_field(field(entry->c.host_config, "RestartPolicy"), "Name");
    if (entry->shim_ready) continue;
    if (auto_remove(entry->c))
      to_remove.push_back(entry);
    else if (entry->c.state.status == "exited" && !entry->c.manually_stopped && (policy == "always" || policy == "unless-stopped"))
      to_start.push_back(entry);
  }
  if (!to_start.empty() || !to_remove.empty())
    std::thread([this, to_start, to_remove] {
      for (const auto& entry : to_remove) {
        std::lock_guard op(entry->op);
        (void)remove_locked(entry);
      }
      for (const auto& entry : to_start) {
        std::lock_guard op(entry->op);
        (void)start_locked(entry);
      }
    }).detach();
  return {};
}

Result<Containers::Created> Containers::create(const std::string& requested_name, Json config, Json host_config) {
  if (!config.is_object()) return fail("config cannot be empty in order to create a container", EINVAL);
  if (host_config.is_null()) host_config = Json::object();
  std::string image_ref = string_field(config, "Image");
  if (image_ref.empty()) return fail("No image specified", EINVAL);
  TRY(check_supported(host_config));
  TRY(hosts_file("", host_config));
  TRY(resolv_conf("", host_config));
  if (field(host_config, "Init") == true && !path_exists(paths_.init))
    return fail("--init: no init binary at " + paths_.init + " (install Debian's tini, or give berthd --init-path)", EINVAL);
  TRY(log_options(host_config));
  TRY(validate_restart_policy(host_config));
  // Docker's default swap: as much as the memory (memory+swap twice it).
  if (integer_field(host_config, "Memory") > 0 && integer_field(host_config, "MemorySwap") == 0)
    host_config["MemorySwap"] = 2 * integer_field(host_config, "Memory");
  image::Image image;
  {
    std::lock_guard lock(image_mutex_);
    auto resolved = images_.resolve(image_ref);
    if (!resolved) {
      if (resolved.error().code() == ENOENT) return fail("No such image: " + image_ref, ENOENT);
      return std::unexpected(resolved.error());
    }
    image = std::move(*resolved);
  }
  Container c;
  c.id = random_hex(64);
  c.created = rfc3339_now();
  c.image_id = image.id;
  c.config = merge_image_config(std::move(config), image.config);
  TRY(process_args(Json::object(), c.config));
  if (string_field(c.config, "Hostname").empty()) c.config["Hostname"] = c.id.substr(0, 12);
  c.host_config = std::move(host_config);
  {
    std::lock_guard lock(mutex_);
    auto taken = [&](const std::string& name) {
      return std::ranges::any_of(by_id_, [&](const auto& kv) { return kv.second->c.name == name; });
    };
    if (!requested_name.empty()) {
      c.name = TRY(validate_container_name(requested_name));
      for (const auto& [id, e] : by_id_)
        if (e->c.name == c.name)
          return fail("Conflict. The container name \"/" + c.name + "\" is already in use by container \"" + id +
                          "\". You have to remove (or rename) that container to be able to reuse that name.",
                      EEXIST);
    } else {
      c.name = unique_name(rng_, taken);
    }
    // Reserve the name and ID before the slow part.
    auto entry = std::make_shared<Entry>();
    entry->c = c;
    by_id_[c.id] = entry;
  }
  auto written = [&]() -> Result<void> {
    TRY(make_dirs(container_dir(c.id), 0700));
    return persist(c, /*durable=*/true);
  }();
  if (!written) {
    std::lock_guard lock(mutex_);
    by_id_.erase(c.id);
    (void)remove_all(container_dir(c.id));
    return std::unexpected(written.error());
  }
  events_.publish("container", "create", c.id, {{"name", c.name}, {"image", image_ref}});
  return Created{c.id, {}};
}

Result<std::shared_ptr<Containers::Entry>> Containers::find(const std::string& ref) const {
  std::lock_guard lock(mutex_);
  std::string name = ref.starts_with('/') ? ref.substr(1) : ref;
  if (auto it = by_id_.find(ref); it != by_id_.end()) return it->second;
  for (const auto& [id, e] : by_id_)
    if (e->c.name == name) return e;
  std::shared_ptr<Entry> found;
  if (!ref.empty())
    for (const auto& [id, e] : by_id_) {
      if (!id.starts_with(ref)) continue;
      if (found) return fail("Multiple IDs found with provided prefix: " + ref, EINVAL);
      found = e;
    }
  if (!found) return fail("No such container: " + ref, ENOENT);
  return found;
}

Result<Container> Containers::get(const std::string& ref) const {
  auto entry = TRY(find(ref));
  std::lock_guard lock(mutex_);
  return entry->c;
}

std::vector<Container> Containers::list() const {
  std::lock_guard lock(mutex_);
  std::vector<Container> out;
  for (const auto& [id, e] : by_id_) out.push_back(e->c);
  return out;
}

std::optional<Container> Containers::user_of_image(const std::string& image_id) const {
  std::lock_guard lock(mutex_);
  for (const auto& [id, e] : by_id_)
    if (e->c.image_id == image_id) return e->c;
  return std::nullopt;
}

Result<Json> Containers::runtime_spec(const std::string& id) const {
  return parse_json(TRY(read_file(state_dir(id) + "/config.json")));
}

Result<std::vector<std::string>> Containers::lower_dirs(const Container& c, image::Image* out) {
  std::lock_guard lock(image_mutex_);
  auto image = TRY_CTX(images_.resolve(c.image_id), "image of the container");
  std::vector<std::string> lower;
  for (const auto& chain : image.chain_ids) lower.push_back(TRY(images_.layer_path(chain)));
  if (out) *out = std::move(image);
  return lower;
}

// The image's layers, the init layer (mount points of the files berth puts
// in every container, so they are not the container's changes) and the
// container's own layer, mounted at rootfs/.
Result<void> Containers::mount_rootfs(const Container& c, image::Image* image) {
  auto lower = TRY(lower_dirs(c, image));
  std::string dir = container_dir(c.id);
  if (!path_exists(dir + "/init")) {
    for (const char* sub : {"/init.tmp/etc", "/init.tmp/dev", "/init.tmp/proc", "/init.tmp/sys"}) TRY(make_dirs(dir + sub, 0755));
    for (const char* file : {"/init.tmp/etc/hostname", "/init.tmp/etc/hosts", "/init.tmp/etc/resolv.conf"})
      TRY(write_file_atomic(dir + file, "", 0644, false));
    if (::rename((dir + "/init.tmp").c_str(), (dir + "/init").c_str()) != 0) return fail_errno("rename init layer");
  }
  lower.push_back(dir + "/init");
  for (const char* sub : {"/upper", "/work", "/rootfs"}) TRY(make_dirs(dir + sub, 0700));
  (void)image::unmount(dir + "/rootfs");  // left behind by a daemon that died
  return image::mount_overlay({lower, dir + "/upper", dir + "/work"}, dir + "/rootfs");
}

Result<void> Containers::prepare_rootfs(const Container& c) {
  image::Image image;
  TRY(mount_rootfs(c, &image));
  std::string dir = container_dir(c.id);
  ScopeGuard unmount([&] { (void)image::unmount(dir + "/rootfs"); });

  // The files Docker puts in every container.
  Json host = c.host_config;
  std::string hostname = string_field(c.config, "Hostname");
  if (hostname.empty()) hostname = c.id.substr(0, 12);
  if (string_field(host, "UTSMode") == "host") {
    char buf[256] = {};
    ::gethostname(buf, sizeof buf - 1);
    hostname = buf;
  }
  bool host_network = string_field(host, "NetworkMode") == "host";
  TRY(write_file_atomic(dir + "/hostname", hostname + "\n", 0644, false));
  std::string hosts = host_network ? read_file("/etc/hosts").value_or("") : kLoopbackHosts;
  TRY(write_file_atomic(dir + "/hosts", TRY(hosts_file(hosts, host)), 0644, false));
  TRY(write_file_atomic(dir + "/resolv.conf", TRY(resolv_conf(read_file("/etc/resolv.conf").value_or(""), host)), 0644, false));

  auto spec = TRY(make_runtime_spec({c.id, dir + "/rootfs", image.config, c.config, host, "/berth"}));
  for (const char* file : {"hostname", "hosts", "resolv.conf"})
    spec["mounts"].push_back({{"destination", std::string("/etc/") + file},
                              {"type", "bind"},
                              {"source", dir + "/" + file},
                              {"options", {"rbind", "rprivate"}}});
  // --init, as Docker: a small init as PID 1 that reaps zombies and forwards signals.
  if (field(host, "Init") == true) {
    spec["mounts"].push_back({{"destination", kInitPath}, {"type", "bind"}, {"source", paths_.init}, {"options", {"bind", "ro"}}});
    Json& args = spec["process"]["args"];
    args.insert(args.begin(), {kInitPath, "--"});
  }
  std::string state = state_dir(c.id);
  (void)remove_all(state);
  TRY(make_dirs(state, 0700));
  TRY(write_file_atomic(state + "/config.json", spec.dump(), 0600, false));
  unmount.dismiss();
  return {};
}

Result<void> Containers::with_rootfs(const std::string& ref, const std::function<Result<void>(const std::string& rootfs)>& use) {
  auto c = TRY(get(ref));
  std::string rootfs = container_dir(c.id) + "/rootfs";
  if (c.state.running()) return use(rootfs);
  // Stopped: mounted for the call, with starts held off meanwhile.
  auto entry = TRY(find(c.id));
  std::lock_guard op(entry->op);
  {
    std::lock_guard lock(mutex_);
    if (entry->c.state.running()) return use(rootfs);
  }
  TRY(mount_rootfs(c));
  ScopeGuard unmount([&] { (void)image::unmount(rootfs); });
  return use(rootfs);
}

void Containers::cleanup_rootfs(const std::string& id, const std::string& dir) {
  (void)runtime::Runtime(runtime_root()).remove(id, /*force=*/true);
  (void)image::unmount((dir.empty() ? container_dir(id) : dir) + "/rootfs");
  (void)remove_all(state_dir(id));
}

Result<void> Containers::start(const std::string& ref) {
  auto entry = TRY(find(ref));
  std::lock_guard op(entry->op);
  return start_locked(entry);
}

Result<void> Containers::start_locked(const std::shared_ptr<Entry>& entry) {
  Container c;
  {
    std::lock_guard lock(mutex_);
    if (entry->removed) return fail("No such container: " + entry->c.id, ENOENT);
    if (entry->c.state.status == "running" || entry->c.state.status == "paused")
      return fail("container " + entry->c.id + " is already running", EALREADY);
    c = entry->c;
  }
  auto logs = TRY(log_options(c.host_config));
  auto failed = [&](const Error& error) -> Result<void> {
    cleanup_rootfs(c.id);
    std::lock_guard lock(mutex_);
    entry->c.state.error = error.message();
    (void)persist(entry->c);
    return std::unexpected(error);
  };
  if (auto prepared = prepare_rootfs(c); !prepared) return failed(prepared.error());
  ShimLaunch launch{paths_.shim, runtime_root(), c.id, state_dir(c.id), state_dir(c.id), log_path(c), logs,
                    field(c.config, "Tty") == true, field(c.config, "OpenStdin") == true, ""};
  auto shim = launch_shim(launch);
  if (!shim) return failed(shim.error());
  {
    std::lock_guard lock(mutex_);
    ContainerState& s = entry->c.state;
    s = ContainerState{};
    s.status = "running";
    s.pid = shim->process;
    s.started_at = rfc3339_now();
    entry->start_error.reset();
    entry->shim_ready = true;
    changed_.notify_all();  // waiting attaches subscribe while we do
  }
  // The shim may still be becoming berth-shim: its reply is not awaited.
  auto connection = shim_subscribe(state_dir(c.id), false, false, /*await_reply=*/false);
  if (!connection) {
    {
      std::lock_guard lock(mutex_);
      entry->c.state = c.state;
      entry->shim_ready = false;
    }
    reap_shim(shim->shim, /*later=*/true);
    return failed(connection.error());
  }
  {
    std::unique_lock lock(mutex_);
    (void)persist(entry->c);
    std::thread(&Containers::monitor, this, entry, std::move(*connection), shim->shim).detach();
    // Attached clients first, so they see the first byte of output.
    changed_.wait_for(lock, std::chrono::seconds(5), [&] { return entry->pending_attaches == 0; });
  }
  if (auto started = shim_request(state_dir(c.id), {{"op", "start"}}); !started) {
    std::unique_lock lock(mutex_);
    entry->start_error = started.error().message();
    // A process that failed to exec is gone; one the runtime left waiting is killed.
    if (!changed_.wait_for(lock, std::chrono::seconds(5), [&] { return !entry->shim_ready; })) {
      lock.unlock();
      (void)send_signal(entry, SIGKILL);
      wait_stopped(entry, std::nullopt);
    }
    return fail(started.error().message(), EINVAL);
  }
  events_.publish("container", "start", c.id, {{"name", c.name}, {"image", string_field(c.config, "Image")}});
  return {};
}

void Containers::monitor(std::shared_ptr<Entry> entry, UniqueFd connection, pid_t shim) {
  std::optional<int> status;
  for (;;) {
    auto frame = shim::read_frame(connection.get());
    if (!frame || !*frame) break;
    if ((*frame)->type == shim::kExit) {
      status = std::atoi((*frame)->payload.c_str());
      break;
    }
  }
  connection.reset();
  if (!status) status = shim_exit_status(state_dir(entry->c.id));
  handle_exit(entry, status);
  reap_shim(shim);
  apply_restart_policy(entry);
}

void Containers::handle_exit(const std::shared_ptr<Entry>& entry, std::optional<int> status) {
  std::string id = entry->c.id;
  bool oom_killed = runtime::Runtime(runtime_root()).oom_killed(id).value_or(false);
  // Cleaned up while the container still counts as running, so that no
  // start can come in between; one that goes with its exit (--rm) is
  // cleaned up (and not kept on disk) by its removal, once those waiting for
  // it have heard.
  bool removed_next = auto_remove(entry->c);
  if (!removed_next) cleanup_rootfs(id);
  std::lock_guard lock(mutex_);
  ContainerState& s = entry->c.state;
  s.pid = 0;
  s.finished_at = rfc3339_now();
  if (entry->start_error) {
    s.status = "created";
    s.exit_code = start_failure_code(*entry->start_error);
    s.error = *entry->start_error;
  } else {
    s.status = "exited";
    s.exit_code = status.value_or(255);
    s.oom_killed = oom_killed;
  }
  entry->shim_ready = false;
  entry->exits++;
  if (!removed_next) (void)persist(entry->c);
  changed_.notify_all();
  if (s.oom_killed) events_.publish("container", "oom", id, {{"name", entry->c.name}});
  events_.publish("container", "die", id,
                  {{"name", entry->c.name}, {"exitCode", std::to_string(s.exit_code)}, {"image", string_field(entry->c.config, "Image")}});
}

void Containers::apply_restart_policy(const std::shared_ptr<Entry>& entry) {
  std::unique_lock lock(mutex_);
  const Container& c = entry->c;
  if (entry->removed) return;
  if (auto_remove(c)) {  // even when it could not start, as Docker does
    lock.unlock();
    std::lock_guard op(entry->op);
    if (!entry->c.state.running()) (void)remove_locked(entry);
    return;
  }
  if (entry->start_error) return;
  Json policy = field(c.host_config, "RestartPolicy");
  std::string name = string_field(policy, "Name");
  int max = field(policy, "MaximumRetryCount").is_number_integer() ? policy["MaximumRetryCount"].get<int>() : 0;
  bool restart = !c.manually_stopped &&
                 (name == "always" || name == "unless-stopped" ||
                  (name == "on-failure" && c.state.exit_code != 0 && (max == 0 || c.restart_count < max)));
  if (!restart) return;
  // Docker's back-off: 100 ms, doubling to a minute, reset after 10 s of running.
  int64_t ran = rfc3339_to_unix(c.state.finished_at) - rfc3339_to_unix(c.state.started_at);
  entry->restart_delay = ran >= 10 || entry->restart_delay.count() == 0 ? kFirstRestartDelay
                                                                          : std::min(entry->restart_delay * 2, kMaxRestartDelay);
  entry->c.state.status = "restarting";
  (void)persist(entry->c);
  changed_.notify_all();
  bool cancelled = changed_.wait_for(lock, entry->restart_delay, [&] {
    return entry->removed || entry->c.manually_stopped || entry->c.state.status != "restarting";
  });
  if (cancelled) return;
  lock.unlock();
  std::lock_guard op(entry->op);
  {
    std::lock_guard relock(mutex_);
    if (entry->removed || entry->c.state.status != "restarting") return;
    entry->c.restart_count++;
    entry->c.state.status = "exited";
  }
  if (auto started = start_locked(entry); !started) {
    std::lock_guard relock(mutex_);
    entry->c.state.error = started.error().message();
    (void)persist(entry->c);
  } else {
    events_.publish("container", "restart", entry->c.id, {{"name", entry->c.name}});
  }
}

Result<void> Containers::send_signal(const std::shared_ptr<Entry>& entry, int signal) {
  auto sent = shim_request(state_dir(entry->c.id), {{"op", "kill"}, {"signal", signal}});
  // A shim that is gone (or going) has a process that ended: its exit is on its way.
  int code = sent ? 0 : sent.error().code();
  bool gone = code == ESRCH || code == ENOENT || code == ECONNREFUSED || code == ECONNRESET || code == EPIPE;
  if (!sent && !gone) return std::unexpected(sent.error());
  return {};
}

bool Containers::wait_stopped(const std::shared_ptr<Entry>& entry, std::optional<int> timeout) {
  std::unique_lock lock(mutex_);
  auto stopped = [&] { return !entry->shim_ready; };
  if (!timeout) {
    changed_.wait(lock, stopped);
    return true;
  }
  return changed_.wait_for(lock, std::chrono::seconds(std::max(0, *timeout)), stopped);
}

Result<bool> Containers::stop(const std::string& ref, std::optional<int> timeout, const std::string& signal_text) {
  auto entry = TRY(find(ref));
  std::lock_guard op(entry->op);
  Container c;
  {
    std::lock_guard lock(mutex_);
    entry->c.manually_stopped = true;
    if (entry->c.state.status == "restarting") entry->c.state.status = "exited";
    (void)persist(entry->c);
    changed_.notify_all();
    if (!entry->shim_ready) return false;
    c = entry->c;
  }
  std::string name = !signal_text.empty() ? signal_text : string_field(c.config, "StopSignal");
  int signal = name.empty() ? SIGTERM : TRY(runtime::parse_signal(name));
  if (!timeout && field(c.config, "StopTimeout").is_number_integer()) timeout = c.config["StopTimeout"].get<int>();
  if (c.state.status == "paused") (void)runtime::Runtime(runtime_root()).resume(c.id);
  TRY(send_signal(entry, signal));
  if (!wait_stopped(entry, timeout.value_or(kDefaultStopTimeout))) {
    TRY(send_signal(entry, SIGKILL));
    wait_stopped(entry, std::nullopt);
  }
  events_.publish("container", "stop", c.id, {{"name", c.name}});
  return true;
}

Result<void> Containers::restart(const std::string& ref, std::optional<int> timeout) {
  auto entry = TRY(find(ref));
  TRY(stop(ref, timeout));
  std::lock_guard op(entry->op);
  {
    std::lock_guard lock(mutex_);
    entry->c.manually_stopped = false;
  }
  TRY(start_locked(entry));
  events_.publish("container", "restart", entry->c.id, {{"name", entry->c.name}});
  return {};
}

Result<void> Containers::kill(const std::string& ref, const std::string& signal_text) {
  auto entry = TRY(find(ref));
  int signal = signal_text.empty() ? SIGKILL : TRY(runtime::parse_signal(signal_text));
  {
    std::lock_guard lock(mutex_);
    if (!entry->shim_ready) return fail("Cannot kill container: " + ref + ": Container " + entry->c.id + " is not running", EBUSY);
  }
  TRY(send_signal(entry, signal));
  events_.publish("container", "kill", entry->c.id, {{"name", entry->c.name}, {"signal", std::to_string(signal)}});
  // As Docker: a SIGKILL returns once the container is gone.
  if (signal == SIGKILL) wait_stopped(entry, kDefaultStopTimeout);
  return {};
}

Result<void> Containers::pause(const std::string& ref) {
  auto entry = TRY(find(ref));
  std::lock_guard op(entry->op);
  std::lock_guard lock(mutex_);
  if (entry->c.state.status == "paused") return fail("Container " + entry->c.id + " is already paused", EBUSY);
  if (entry->c.state.status != "running") return fail("Container " + entry->c.id + " is not running", EBUSY);
  TRY(runtime::Runtime(runtime_root()).pause(entry->c.id));
  entry->c.state.status = "paused";
  (void)persist(entry->c);
  events_.publish("container", "pause", entry->c.id, {{"name", entry->c.name}});
  return {};
}

Result<void> Containers::unpause(const std::string& ref) {
  auto entry = TRY(find(ref));
  std::lock_guard op(entry->op);
  std::lock_guard lock(mutex_);
  if (entry->c.state.status != "paused") return fail("Container " + entry->c.id + " is not paused", EBUSY);
  TRY(runtime::Runtime(runtime_root()).resume(entry->c.id));
  entry->c.state.status = "running";
  (void)persist(entry->c);
  events_.publish("container", "unpause", entry->c.id, {{"name", entry->c.name}});
  return {};
}

Result<void> Containers::update(const std::string& ref, const Json& body) {
  auto entry = TRY(find(ref));
  std::lock_guard op(entry->op);
  std::lock_guard lock(mutex_);
  auto updated = TRY(update_resources(entry->c.host_config, body));
  const std::string& status = entry->c.state.status;
  if ((status == "running" || status == "paused") && !updated.patch.empty()) {
    auto applied = runtime::Runtime(runtime_root()).update(entry->c.id, updated.patch);
    if (!applied) return fail("Cannot update container " + entry->c.id + ": " + applied.error().message(), EINVAL);
  }
  entry->c.host_config = std::move(updated.host_config);
  TRY(persist(entry->c));
  events_.publish("container", "update", entry->c.id, {{"name", entry->c.name}});
  return {};
}

Result<void> Containers::remove(const std::string& ref, bool force) {
  auto entry = TRY(find(ref));
  std::lock_guard op(entry->op);
  bool running;
  {
    std::lock_guard lock(mutex_);
    running = entry->shim_ready;
    if (running && !force)
      return fail("You cannot remove a " + std::string(entry->c.state.status == "paused" ? "paused" : "running") + " container " +
                      entry->c.id + ". Stop the container before attempting removal or force remove",
                  EBUSY);
    entry->c.manually_stopped = true;  // no restart in between
    if (entry->c.state.status == "restarting") entry->c.state.status = "exited";
    changed_.notify_all();
  }
  if (running) {
    (void)runtime::Runtime(runtime_root()).resume(entry->c.id);
    TRY(send_signal(entry, SIGKILL));
    wait_stopped(entry, std::nullopt);
  }
  return remove_locked(entry);
}

Result<void> Containers::remove_locked(const std::shared_ptr<Entry>& entry) {
  std::string id = entry->c.id;
  {
    std::lock_guard lock(mutex_);
    if (entry->removed) return {};
    entry->c.state.status = "removing";
  }
  // Out of sight with one rename, so that waiters hear at once (--rm); the
  // files go after, and berthd's restore finishes what a crash cut short.
  if (::rename(container_dir(id).c_str(), trash_dir(id).c_str()) != 0 && errno != ENOENT)
    return fail_errno("remove " + container_dir(id));
  {
    std::lock_guard lock(mutex_);
    by_id_.erase(id);
    std::erase_if(execs_, [&](const auto& kv) { return kv.second->container_id == id; });
    entry->removed = true;
    removals_++;
    changed_.notify_all();
  }
  events_.publish("container", "destroy", id, {{"name", entry->c.name}, {"image", string_field(entry->c.config, "Image")}});
  auto removed = empty_trash(id);
  std::lock_guard lock(mutex_);
  removals_--;
  changed_.notify_all();
  return removed;
}

Result<void> Containers::empty_trash(const std::string& id) {
  cleanup_rootfs(id, trash_dir(id));  // left for the removal by an exit (--rm)
  return remove_all(trash_dir(id));
}

void Containers::finish_removals(std::chrono::seconds timeout) {
  std::unique_lock lock(mutex_);
  changed_.wait_for(lock, timeout, [&] { return removals_ == 0; });
}

Result<void> Containers::rename(const std::string& ref, const std::string& new_name) {
  auto entry = TRY(find(ref));
  std::string name = TRY(validate_container_name(new_name));
  std::lock_guard lock(mutex_);
  if (entry->c.name == name) return fail("Renaming a container with the same name as its current name", EINVAL);
  for (const auto& [id, e] : by_id_)
    if (e->c.name == name)
      return fail("Error when allocating new name: Conflict. The container name \"/" + name + "\" is already in use by container \"" +
                      id + "\". You have to remove (or rename) that container to be able to reuse that name.",
                  EEXIST);
  std::string old = entry->c.name;
  entry->c.name = name;
  TRY(persist(entry->c, /*durable=*/true));
  events_.publish("container", "rename", entry->c.id, {{"name", name}, {"oldName", "/" + old}});
  return {};
}

Result<int> Containers::wait(const std::string& ref, const std::string& condition) {
  auto entry = TRY(find(ref));
  std::unique_lock lock(mutex_);
  if (condition == "removed") {
    changed_.wait(lock, [&] { return entry->removed; });
  } else if (condition == "next-exit") {
    uint64_t seen = entry->exits;
    changed_.wait(lock, [&] { return entry->exits > seen || entry->removed; });
  } else if (condition.empty() || condition == "not-running") {
    changed_.wait(lock, [&] { return !entry->c.state.running() || entry->removed; });
  } else {
    return fail("invalid condition: \"" + condition + "\"", EINVAL);
  }
  return entry->c.state.exit_code;
}

Result<std::vector<std::string>> Containers::prune(const std::function<bool(const Container&)>& filter) {
  std::vector<std::string> removed;
  for (const auto& c : list()) {
    if (c.state.running() || !filter(c)) continue;
    if (remove(c.id, false)) removed.push_back(c.id);
  }
  return removed;
}

Result<UniqueFd> Containers::attach(const std::string& ref, bool stdout, bool stderr, const std::function<bool()>& cancelled) {
  auto entry = TRY(find(ref));
  std::string id = entry->c.id;
  {
    std::unique_lock lock(mutex_);
    if (!entry->shim_ready) {
      entry->pending_attaches++;
      while (!entry->shim_ready && !entry->removed && !cancelled())
        changed_.wait_for(lock, std::chrono::milliseconds(200));
      if (!entry->shim_ready) {
        entry->pending_attaches--;
        changed_.notify_all();
        return fail("container " + id + " was not started", EPIPE);
      }
      lock.unlock();
      auto conn = shim_subscribe(state_dir(id), stdout, stderr);
      lock.lock();
      entry->pending_attaches--;
      changed_.notify_all();
      return conn;
    }
  }
  return shim_subscribe(state_dir(id), stdout, stderr);
}

Result<std::shared_ptr<Containers::Exec>> Containers::find_exec(const std::string& exec_id) const {
  auto it = execs_.find(exec_id);
  if (it == execs_.end()) return fail("No such exec instance: " + exec_id, ENOENT);
  return it->second;
}

std::string Containers::exec_dir(const Exec& exec) const { return state_dir(exec.container_id) + "/exec/" + exec.id; }

Result<std::string> Containers::exec_create(const std::string& ref, Json config) {
  auto entry = TRY(find(ref));
  if (!config.is_object() || !field(config, "Cmd").is_array() || config["Cmd"].empty())
    return fail("No exec command specified", EINVAL);
  std::lock_guard lock(mutex_);
  if (entry->c.state.status == "paused") return fail("Container " + entry->c.id + " is paused, unpause the container before exec", EBUSY);
  if (!entry->shim_ready) return fail("Container " + entry->c.id + " is not running", EBUSY);
  auto exec = std::make_shared<Exec>();
  exec->id = random_hex(64);
  exec->container_id = entry->c.id;
  exec->config = std::move(config);
  execs_[exec->id] = exec;
  events_.publish("container", "exec_create: " + command_text(exec->config["Cmd"].get<std::vector<std::string>>()), entry->c.id,
                  {{"name", entry->c.name}, {"execID", exec->id}});
  return exec->id;
}

Result<UniqueFd> Containers::exec_prepare(const std::string& exec_id, bool detach) {
  std::shared_ptr<Exec> exec;
  {
    std::lock_guard lock(mutex_);
    exec = TRY(find_exec(exec_id));
    if (exec->started) return fail("exec instance " + exec_id + " has already been started", EBUSY);
    auto c = by_id_.find(exec->container_id);
    if (c == by_id_.end() || !c->second->shim_ready) return fail("Container " + exec->container_id + " is not running", EBUSY);
    exec->started = true;
  }
  std::string cid = exec->container_id;
  std::string dir = exec_dir(*exec);
  auto process = TRY(exec_process(TRY(runtime_spec(cid)), container_dir(cid) + "/rootfs", exec->config));
  TRY(make_dirs(dir, 0700));
  ScopeGuard cleanup([&] { (void)remove_all(dir); });
  TRY(write_file_atomic(dir + "/process.json", process.dump(), 0600, false));
  bool tty = field(exec->config, "Tty") == true;
  ShimLaunch launch{paths_.shim, runtime_root(), cid, state_dir(cid), dir, "", {}, tty,
                    field(exec->config, "AttachStdin") == true, dir + "/process.json"};
  auto shim = TRY(launch_shim(launch));
  ScopeGuard stop_shim([&] {  // it has no process yet
    ::kill(shim.shim, SIGKILL);
    reap_shim(shim.shim);
  });
  auto monitor = TRY(shim_subscribe(dir, false, false));
  UniqueFd output;
  if (!detach) output = TRY(shim_subscribe(dir, field(exec->config, "AttachStdout") == true, field(exec->config, "AttachStderr") == true));
  cleanup.dismiss();
  stop_shim.dismiss();
  std::thread([this, exec_id, dir, monitor = std::move(monitor), shim = shim.shim]() mutable {
    std::optional<int> status;
    for (;;) {
      auto frame = shim::read_frame(monitor.get());
      if (!frame || !*frame) break;
      if ((*frame)->type == shim::kExit) status = std::atoi((*frame)->payload.c_str());
    }
    if (!status) status = shim_exit_status(dir);
    exec_exited(exec_id, status.value_or(255));
    reap_shim(shim);
    (void)remove_all(dir);
  }).detach();
  return output;
}

Result<void> Containers::exec_run(const std::string& exec_id) {
  std::shared_ptr<Exec> exec;
  {
    std::lock_guard lock(mutex_);
    exec = TRY(find_exec(exec_id));
  }
  auto started = shim_request(exec_dir(*exec), {{"op", "start"}});
  if (!started) {
    exec_exited(exec_id, 126);
    return fail(started.error().message(), EINVAL);
  }
  {
    std::lock_guard lock(mutex_);
    exec->running = !exec->exit_code;
    exec->pid = (*started).value("pid", 0);
  }
  events_.publish("container", "exec_start: " + command_text(exec->config["Cmd"].get<std::vector<std::string>>()), exec->container_id,
                  {{"execID", exec_id}});
  return {};
}

void Containers::exec_exited(const std::string& exec_id, int status) {
  std::lock_guard lock(mutex_);
  auto it = execs_.find(exec_id);
  if (it == execs_.end() || it->second->exit_code) return;
  it->second->exit_code = status;
  it->second->running = false;
  it->second->pid = 0;
  changed_.notify_all();
  events_.publish("container", "exec_die", it->second->container_id, {{"execID", exec_id}, {"exitCode", std::to_string(status)}});
}

Result<Json> Containers::exec_inspect(const std::string& exec_id) const {
  std::lock_guard lock(mutex_);
  const Exec& e = *TRY(find_exec(exec_id));
  std::vector<std::string> cmd = e.config["Cmd"].get<std::vector<std::string>>();
  return Json{{"ID", e.id},
              {"ContainerID", e.container_id},
              {"Running", e.running},
              {"ExitCode", e.exit_code ? Json(*e.exit_code) : Json(nullptr)},
              {"Pid", e.pid},
              {"CanRemove", false},
              {"DetachKeys", field(e.config, "DetachKeys").is_string() ? e.config["DetachKeys"] : Json("")},
              {"OpenStdin", field(e.config, "AttachStdin") == true},
              {"OpenStdout", field(e.config, "AttachStdout") == true},
              {"OpenStderr", field(e.config, "AttachStderr") == true},
              {"ProcessConfig",
               {{"entrypoint", cmd.front()},
                {"arguments", std::vector<std::string>(cmd.begin() + 1, cmd.end())},
                {"privileged", field(e.config, "Privileged") == true},
                {"tty", field(e.config, "Tty") == true},
                {"user", string_field(e.config, "User")}}}};
}

Result<void> Containers::exec_resize(const std::string& exec_id, int height, int width) {
  std::string dir;
  {
    std::lock_guard lock(mutex_);
    auto exec = TRY(find_exec(exec_id));
    if (!exec->running) return fail("exec " + exec_id + " is not running", EBUSY);
    dir = exec_dir(*exec);
  }
  UniqueFd fd(TRY(shim::connect_shim(dir)));
  return shim::write_frame(fd.get(), shim::kResize, std::to_string(height) + " " + std::to_string(width));
}

std::vector<std::string> Containers::exec_ids(const std::string& container_id) const {
  std::lock_guard lock(mutex_);
  std::vector<std::string> out;
  for (const auto& [id, e] : execs_)
    if (e->container_id == container_id && e->running) out.push_back(id);
  return out;
}

}  // namespace berth::engine
