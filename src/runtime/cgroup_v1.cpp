// cgroup v1: one directory per mounted hierarchy. In the hybrid layout the
// process also joins the cgroup2 tree, so tools reading it see the container.
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <sstream>
#include <thread>

#include "base/file.h"
#include "runtime/cgroup_impl.h"

namespace berth::runtime {

namespace {

struct Hierarchy {
  std::string controllers;  // "memory", "cpu,cpuacct", "name=systemd", "" for the cgroup2 tree
  std::string root;         // the mount point
  std::string dir;          // root + cgroup path
  size_t base_len = 0;      // length of the part of dir this cgroup must not remove
};

// "rw,nosuid,cpu,cpuacct" → "cpu,cpuacct": what /proc/self/cgroup names the hierarchy by.
std::string controllers_of(const std::string& options) {
  static const std::vector<std::string> kMountFlags = {"rw", "ro", "nosuid", "nodev", "noexec", "relatime", "noatime",
                                                       "nodiratime", "strictatime", "clone_children", "xattr",
                                                       "noprefix", "cpuset_v2_mode", "favordynmods"};
  std::string out;
  std::istringstream in(options);
  std::string item;
  while (std::getline(in, item, ',')) {
    if (std::ranges::find(kMountFlags, item) != kMountFlags.end() || item.starts_with("release_agent=")) continue;
    if (!out.empty()) out += ',';
    out += item;
  }
  return out;
}

std::string device_number(int64_t n) { return n < 0 ? "*" : std::to_string(n); }

std::string rule_text(char type, std::optional<int64_t> major, std::optional<int64_t> minor, const std::string& access) {
  return std::string(1, type) + " " + device_number(major.value_or(-1)) + ":" + device_number(minor.value_or(-1)) + " " +
         (access.empty() ? "rwm" : access);
}

class CgroupV1 final : public Cgroup {
 public:
  CgroupV1(const std::string& path, bool relative) {
    for (const auto& mount : cgroup_mounts()) {
      std::string controllers = mount.v2 ? "" : controllers_of(mount.options);
      std::string base = relative ? own_cgroup(controllers) : "";
      if (base == "/") base.clear();
      std::string sub = relative ? base + "/" + path : path;
      hierarchies_.push_back({controllers, mount.mount_point, mount.mount_point + sub, mount.mount_point.size() + base.size()});
    }
  }

  Result<void> create() override {
    for (const auto& h : hierarchies_) {
      // A concurrent delete may remove a shared parent just as we create
      // below it; starting over then succeeds.
      Result<void> made;
      for (int attempt = 0; attempt < 5; ++attempt) {
        made = make_cgroup_dirs(h);
        if (made || made.error().code() != ENOENT) break;
      }
      TRY(std::move(made));
    }
    return {};
  }

  Result<void> apply(const oci::Resources& r, const std::vector<oci::Device>& devices) override {
    if (!r.unified.empty()) return fail("linux.resources.unified: requires cgroup v2");
    if (const auto* m = r.memory ? &*r.memory : nullptr) {
      const std::string* dir = TRY(controller_dir("memory"));
      // The memory limit may never exceed memory+swap: when both grow, the
      // limit's write fails until the swap limit has been raised.
      auto write_limit = [&] { return write_cgroup_file(*dir, "memory.limit_in_bytes", std::to_string(*m->limit)); };
      auto write_swap = [&] { return write_cgroup_file(*dir, "memory.memsw.limit_in_bytes", std::to_string(*m->swap)); };
      if (m->limit && m->swap && !write_limit()) {
        TRY(write_swap());
        TRY(write_limit());
      } else {
        if (m->limit && !m->swap) TRY(write_limit());
        if (m->swap) TRY(write_swap());
      }
      if (m->reservation) TRY(write_cgroup_file(*dir, "memory.soft_limit_in_bytes", std::to_string(*m->reservation)));
      if (m->kernel_tcp) TRY(write_cgroup_file(*dir, "memory.kmem.tcp.limit_in_bytes", std::to_string(*m->kernel_tcp)));
      if (m->swappiness) TRY(write_cgroup_file(*dir, "memory.swappiness", std::to_string(*m->swappiness)));
      if (m->disable_oom_killer.value_or(false)) TRY(write_cgroup_file(*dir, "memory.oom_control", "1"));
      // memory.kernel is deprecated in the runtime spec and gone from current
      // kernels' accounting; like runc we leave it to the kernel's default.
    }
    if (const auto* c = r.cpu ? &*r.cpu : nullptr) {
      if (c->shares || c->quota || c->period || c->realtime_period || c->realtime_runtime) {
        const std::string* dir = TRY(controller_dir("cpu"));
        if (c->shares) TRY(write_cgroup_file(*dir, "cpu.shares", std::to_string(*c->shares)));
        if (c->period) TRY(write_cgroup_file(*dir, "cpu.cfs_period_us", std::to_string(*c->period)));
        if (c->quota) TRY(write_cgroup_file(*dir, "cpu.cfs_quota_us", std::to_string(*c->quota)));
        if (c->realtime_period) TRY(write_cgroup_file(*dir, "cpu.rt_period_us", std::to_string(*c->realtime_period)));
        if (c->realtime_runtime) TRY(write_cgroup_file(*dir, "cpu.rt_runtime_us", std::to_string(*c->realtime_runtime)));
      }
      if (!c->cpus.empty() || !c->mems.empty()) {
        const std::string* dir = TRY(controller_dir("cpuset"));
        if (!c->cpus.empty()) TRY(write_cgroup_file(*dir, "cpuset.cpus", c->cpus));
        if (!c->mems.empty()) TRY(write_cgroup_file(*dir, "cpuset.mems", c->mems));
      }
    }
    if (r.pids_limit) {
      const std::string* dir = TRY(controller_dir("pids"));
      TRY(write_cgroup_file(*dir, "pids.max", *r.pids_limit > 0 ? std::to_string(*r.pids_limit) : "max"));
    }
    if (r.block_io) TRY(apply_block_io(*r.block_io));
    for (const auto& limit : r.hugepage_limits) {
      const std::string* dir = TRY(controller_dir("hugetlb"));
      TRY(write_cgroup_file(*dir, "hugetlb." + limit.page_size + ".limit_in_bytes", std::to_string(limit.limit)));
    }
    if (r.network) {
      if (r.network->class_id) {
        const std::string* dir = TRY(controller_dir("net_cls"));
        TRY(write_cgroup_file(*dir, "net_cls.classid", std::to_string(*r.network->class_id)));
      }
      for (const auto& [name, priority] : r.network->priorities) {
        const std::string* dir = TRY(controller_dir("net_prio"));
        TRY(write_cgroup_file(*dir, "net_prio.ifpriomap", name + " " + std::to_string(priority)));
      }
    }
    TRY(apply_devices(r.devices, devices));
    return {};
  }

  Result<void> add_process(pid_t pid) override {
    std::string text = std::to_string(pid);
    for (const auto& h : hierarchies_) TRY(write_cgroup_file(h.dir, "cgroup.procs", text));
    return {};
  }

  Result<void> freeze() override {
    const std::string* dir = TRY(controller_dir("freezer"));
    TRY(write_cgroup_file(*dir, "freezer.state", "FROZEN"));
    // The kernel freezes asynchronously; FREEZING means "not yet".
    for (int i = 0; i < 1000; ++i) {
      if (read_file(*dir + "/freezer.state").value_or("").starts_with("FROZEN")) return {};
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
      if (i % 50 == 49) TRY(write_cgroup_file(*dir, "freezer.state", "FROZEN"));
    }
    return fail("freeze " + *dir + ": timed out");
  }

  Result<void> thaw() override {
    const std::string* dir = TRY(controller_dir("freezer"));
    return write_cgroup_file(*dir, "freezer.state", "THAWED");
  }

  bool frozen() const override {
    auto dir = controller_dir("freezer");
    return dir && read_file(**dir + "/freezer.state").value_or("").starts_with("FROZEN");
  }

  uint64_t oom_kills() const override {
    auto dir = controller_dir("memory");
    return dir ? flat_key_value(read_file(**dir + "/memory.oom_control").value_or(""), "oom_kill") : 0;
  }

  Result<std::vector<pid_t>> processes() const override {
    auto found = controller_dir("pids");
    if (!found) found = controller_dir("memory");
    const std::string* dir = TRY(std::move(found));
    auto text = read_file(*dir + "/cgroup.procs");
    if (!text) {
      if (text.error().code() == ENOENT) return std::vector<pid_t>{};
      return std::unexpected(text.error());
    }
    std::vector<pid_t> pids;
    std::istringstream in(*text);
    pid_t pid;
    while (in >> pid) pids.push_back(pid);
    return pids;
  }

  Result<void> destroy() override {
    Result<void> result;
    for (const auto& h : hierarchies_) {
      auto removed = remove_cgroup_dir(h.dir);
      if (!removed && result) result = removed;
      if (removed) remove_empty_parents(h);
    }
    return result;
  }

  std::vector<std::pair<std::string, std::string>> mount_sources() const override {
    std::vector<std::pair<std::string, std::string>> out;
    for (const auto& h : hierarchies_) {
      std::string name = h.root.substr(h.root.rfind('/') + 1);
      out.emplace_back(name, h.dir);
    }
    return out;
  }

  bool unified() const override { return false; }

 private:
  Result<const std::string*> controller_dir(std::string_view controller) const {
    for (const auto& h : hierarchies_) {
      std::istringstream in(h.controllers);
      std::string item;
      while (std::getline(in, item, ','))
        if (item == controller) return &h.dir;
    }
    return fail("cgroup controller " + std::string(controller) + " is not available");
  }

  // mkdir -p from the hierarchy root; a new cpuset cgroup starts with no
  // CPUs or memory nodes, so each new level copies its parent's.
  Result<void> make_cgroup_dirs(const Hierarchy& h) {
    std::string current = h.root;
    std::string rest = h.dir.substr(h.root.size());
    size_t pos = 0;
    while (pos < rest.size()) {
      size_t next = rest.find('/', pos + 1);
      if (next == std::string::npos) next = rest.size();
      std::string parent = current;
      current += rest.substr(pos, next - pos);
      pos = next;
      if (current == parent || current.ends_with('/')) continue;
      if (::mkdir(current.c_str(), 0755) != 0) {
        if (errno == EEXIST) continue;
        return fail_errno("create cgroup " + current);
      }
      if (h.controllers.find("cpuset") != std::string::npos) {
        for (const char* file : {"cpuset.cpus", "cpuset.mems"}) {
          auto value = TRY(read_file(parent + "/" + file));
          if (!value.empty() && value != "\n") TRY(write_cgroup_file(current, file, value));
        }
      }
    }
    return {};
  }

  // Removes the parents cgroupsPath named ("/berth" of "/berth/ID") once
  // they are empty; a parent still in use refuses with EBUSY.
  static void remove_empty_parents(const Hierarchy& h) {
    std::string dir = h.dir;
    for (;;) {
      dir.resize(dir.rfind('/'));
      if (dir.size() <= h.base_len || ::rmdir(dir.c_str()) != 0) break;
    }
  }

  Result<void> apply_block_io(const oci::BlockIo& b) {
    const std::string* dir = TRY(controller_dir("blkio"));
    if (b.weight) TRY(write_cgroup_file(*dir, "blkio.weight", std::to_string(*b.weight)));
    if (b.leaf_weight) TRY(write_cgroup_file(*dir, "blkio.leaf_weight", std::to_string(*b.leaf_weight)));
    for (const auto& d : b.weight_device) {
      std::string dev = std::to_string(d.major) + ":" + std::to_string(d.minor) + " ";
      if (d.weight) TRY(write_cgroup_file(*dir, "blkio.weight_device", dev + std::to_string(*d.weight)));
      if (d.leaf_weight) TRY(write_cgroup_file(*dir, "blkio.leaf_weight_device", dev + std::to_string(*d.leaf_weight)));
    }
    auto throttle = [&](const std::vector<oci::ThrottleDevice>& list, const char* file) -> Result<void> {
      for (const auto& d : list)
        TRY(write_cgroup_file(*dir, file, std::to_string(d.major) + ":" + std::to_string(d.minor) + " " + std::to_string(d.rate)));
      return {};
    };
    TRY(throttle(b.throttle_read_bps_device, "blkio.throttle.read_bps_device"));
    TRY(throttle(b.throttle_write_bps_device, "blkio.throttle.write_bps_device"));
    TRY(throttle(b.throttle_read_iops_device, "blkio.throttle.read_iops_device"));
    TRY(throttle(b.throttle_write_iops_device, "blkio.throttle.write_iops_device"));
    return {};
  }

  Result<void> apply_devices(const std::vector<oci::DeviceRule>& rules, const std::vector<oci::Device>& devices) {
    if (rules.empty()) return {};
    const std::string* dir = TRY(controller_dir("devices"));
    for (const auto& rule : rules) {
      char type = rule.type.empty() ? 'a' : rule.type[0];
      TRY(write_cgroup_file(*dir, rule.allow ? "devices.allow" : "devices.deny",
                            rule_text(type, rule.major, rule.minor, rule.access)));
    }
    for (const auto& d : kDefaultDeviceRules)
      TRY(write_cgroup_file(*dir, "devices.allow", rule_text(d.type, d.major, d.minor, d.access)));
    for (const auto& d : devices) {
      if (d.type == "p") continue;
      char type = d.type == "b" ? 'b' : 'c';
      TRY(write_cgroup_file(*dir, "devices.allow", rule_text(type, d.major, d.minor, "rwm")));
    }
    return {};
  }

  std::vector<Hierarchy> hierarchies_;
};

}  // namespace

std::unique_ptr<Cgroup> make_cgroup_v1(const std::string& path, bool relative) {
  return std::make_unique<CgroupV1>(path, relative);
}

}  // namespace berth::runtime
