// cgroup v2: a single directory in the unified tree; controllers are enabled
// down the path through each parent's cgroup.subtree_control.
#include <dirent.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <sstream>
#include <thread>

#include "base/file.h"
#include "runtime/cgroup_impl.h"

namespace berth::runtime {

namespace {

// cgroup v1 cpu.shares (2..262144) to v2 cpu.weight (1..10000), as runc and crun map it.
uint64_t shares_to_weight(uint64_t shares) { return shares == 0 ? 100 : 1 + ((shares - 2) * 9999) / 262142; }

// blkio.weight (10..1000) to io.weight (1..10000).
uint64_t blkio_to_io_weight(uint64_t weight) { return 1 + ((weight - 10) * 9999) / 990; }

class CgroupV2 final : public Cgroup {
 public:
  CgroupV2(const std::string& path, bool relative, const std::string& root) : root_(root) {
    std::string base = relative ? own_cgroup("") : "";
    if (base == "/") base.clear();
    dir_ = root + base + (relative ? "/" : "") + path;
    base_len_ = root.size() + base.size();
  }

  Result<void> create() override {
    // Enable every available controller in each ancestor so the leaf gets them.
    std::string current = root_;
    std::string rest = dir_.substr(current.size());
    size_t pos = 0;
    while (pos < rest.size()) {
      size_t next = rest.find('/', pos + 1);
      if (next == std::string::npos) next = rest.size();
      TRY(enable_controllers(current));
      current += rest.substr(pos, next - pos);
      pos = next;
      if (::mkdir(current.c_str(), 0755) != 0 && errno != EEXIST) return fail_errno("create cgroup " + current);
    }
    return {};
  }

  Result<void> apply(const oci::Resources& r, const std::vector<oci::Device>& devices) override {
    if (const auto* m = r.memory ? &*r.memory : nullptr) {
      if (m->limit) TRY(write_cgroup_file(dir_, "memory.max", limit_text(*m->limit)));
      if (m->reservation) TRY(write_cgroup_file(dir_, "memory.low", limit_text(*m->reservation)));
      if (m->swap) {
        // The runtime spec's swap is memory+swap; v2's swap.max is swap alone.
        std::string swap = "max";
        if (*m->swap >= 0) {
          if (!m->limit || *m->limit < 0) return fail("linux.resources.memory.swap: needs a memory limit on cgroup v2");
          if (*m->swap < *m->limit) return fail("linux.resources.memory.swap: must not be smaller than the memory limit");
          swap = std::to_string(*m->swap - *m->limit);
        }
        TRY(write_cgroup_file(dir_, "memory.swap.max", swap));
      }
      if (m->disable_oom_killer.value_or(false)) return fail("linux.resources.memory.disableOOMKiller: not supported on cgroup v2");
    }
    if (const auto* c = r.cpu ? &*r.cpu : nullptr) {
      if (c->shares) TRY(write_cgroup_file(dir_, "cpu.weight", std::to_string(shares_to_weight(*c->shares))));
      if (c->quota || c->period) {
        std::string quota = c->quota && *c->quota > 0 ? std::to_string(*c->quota) : "max";
        TRY(write_cgroup_file(dir_, "cpu.max", quota + " " + std::to_string(c->period.value_or(100000))));
      }
      if (c->realtime_period || c->realtime_runtime) return fail("linux.resources.cpu: realtime limits are not supported on cgroup v2");
      if (!c->cpus.empty()) TRY(write_cgroup_file(dir_, "cpuset.cpus", c->cpus));
      if (!c->mems.empty()) TRY(write_cgroup_file(dir_, "cpuset.mems", c->mems));
    }
    if (r.pids_limit) TRY(write_cgroup_file(dir_, "pids.max", *r.pids_limit > 0 ? std::to_string(*r.pids_limit) : "max"));
    if (r.block_io) {
      const auto& b = *r.block_io;
      if (b.weight) TRY(write_cgroup_file(dir_, "io.weight", "default " + std::to_string(blkio_to_io_weight(*b.weight))));
      for (const auto& d : b.weight_device)
        if (d.weight)
          TRY(write_cgroup_file(dir_, "io.weight", std::to_string(d.major) + ":" + std::to_string(d.minor) + " " +
                                                         std::to_string(blkio_to_io_weight(*d.weight))));
      auto throttle = [&](const std::vector<oci::ThrottleDevice>& list, const char* key) -> Result<void> {
        for (const auto& d : list)
          TRY(write_cgroup_file(dir_, "io.max", std::to_string(d.major) + ":" + std::to_string(d.minor) + " " + key + "=" + std::to_string(d.rate)));
        return {};
      };
      TRY(throttle(b.throttle_read_bps_device, "rbps"));
      TRY(throttle(b.throttle_write_bps_device, "wbps"));
      TRY(throttle(b.throttle_read_iops_device, "riops"));
      TRY(throttle(b.throttle_write_iops_device, "wiops"));
    }
    for (const auto& limit : r.hugepage_limits)
      TRY(write_cgroup_file(dir_, "hugetlb." + limit.page_size + ".max", std::to_string(limit.limit)));
    if (r.network && (r.network->class_id || !r.network->priorities.empty()))
      return fail("linux.resources.network: net_cls and net_prio do not exist on cgroup v2");
    for (const auto& [key, value] : r.unified) {
      if (key.find('/') != std::string::npos || key.starts_with('.')) return fail("linux.resources.unified: invalid key \"" + key + "\"");
      TRY(write_cgroup_file(dir_, key, value));
    }
    if (!r.devices.empty()) TRY(attach_device_filter(dir_, r.devices, devices));
    return {};
  }

  Result<void> add_process(pid_t pid) override { return write_cgroup_file(dir_, "cgroup.procs", std::to_string(pid)); }

  Result<void> freeze() override {
    TRY(write_cgroup_file(dir_, "cgroup.freeze", "1"));
    for (int i = 0; i < 2000; ++i) {
      if (frozen()) return {};
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    return fail("freeze " + dir_ + ": timed out");
  }

  Result<void> thaw() override { return write_cgroup_file(dir_, "cgroup.freeze", "0"); }

  bool frozen() const override {
    return read_file(dir_ + "/cgroup.events").value_or("").find("frozen 1") != std::string::npos;
  }

  uint64_t oom_kills() const override {
    return flat_key_value(read_file(dir_ + "/memory.events").value_or(""), "oom_kill");
  }

  Result<std::vector<pid_t>> processes() const override {
    std::vector<pid_t> pids;
    TRY(collect(dir_, pids));
    return pids;
  }

  Result<void> destroy() override {
    // Child cgroups made inside the container go first.
    TRY(remove_tree(dir_));
    std::string dir = dir_;
    for (;;) {
      dir.resize(dir.rfind('/'));
      if (dir.size() <= base_len_ || ::rmdir(dir.c_str()) != 0) break;
    }
    return {};
  }

  std::vector<std::pair<std::string, std::string>> mount_sources() const override { return {{"", dir_}}; }
  bool unified() const override { return true; }

 private:
  static std::string limit_text(int64_t value) { return value < 0 ? "max" : std::to_string(value); }

  static Result<void> enable_controllers(const std::string& dir) {
    auto available = read_file(dir + "/cgroup.controllers");
    if (!available) return {};
    std::istringstream in(*available);
    std::string controller, request;
    while (in >> controller) request += (request.empty() ? "+" : " +") + controller;
    if (request.empty()) return {};
    auto written = write_cgroup_file(dir, "cgroup.subtree_control", request);
    // EBUSY: processes live in dir itself (the no-internal-process rule); the
    // controllers then stay as they are, which is the caller's setup to make.
    if (!written && written.error().code() != EBUSY) return written;
    return {};
  }

  static Result<void> collect(const std::string& dir, std::vector<pid_t>& pids) {
    auto text = read_file(dir + "/cgroup.procs");
    if (!text) return text.error().code() == ENOENT ? Result<void>{} : std::unexpected(text.error());
    std::istringstream in(*text);
    pid_t pid;
    while (in >> pid) pids.push_back(pid);
    for (const auto& child : subdirs(dir)) TRY(collect(child, pids));
    return {};
  }

  static std::vector<std::string> subdirs(const std::string& dir) {
    std::vector<std::string> out;
    DIR* d = ::opendir(dir.c_str());
    if (!d) return out;
    while (dirent* entry = ::readdir(d))
      if (entry->d_type == DT_DIR && entry->d_name[0] != '.') out.push_back(dir + "/" + entry->d_name);
    ::closedir(d);
    return out;
  }

  static Result<void> remove_tree(const std::string& dir) {
    for (const auto& child : subdirs(dir)) TRY(remove_tree(child));
    return remove_cgroup_dir(dir);
  }

  std::string root_;  // the cgroup2 mount point
  std::string dir_;
  size_t base_len_ = 0;
};

}  // namespace

std::unique_ptr<Cgroup> make_cgroup_v2(const std::string& path, bool relative, const std::string& root) {
  return std::make_unique<CgroupV2>(path, relative, root);
}

}  // namespace berth::runtime
