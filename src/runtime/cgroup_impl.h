// Internals shared by the cgroup v1 and v2 implementations.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "runtime/cgroup.h"

namespace berth::runtime {

struct CgroupMount {
  std::string mount_point;  // /sys/fs/cgroup/memory
  std::string options;      // super options: "rw,memory" or "rw,name=systemd"
  bool v2 = false;
};

// The cgroup mounts of this mount namespace, from /proc/self/mountinfo.
std::vector<CgroupMount> cgroup_mounts();

// The caller's own cgroup in the hierarchy keyed by its controller list
// ("memory", "cpu,cpuacct", "name=systemd", or "" for cgroup2).
std::string own_cgroup(const std::string& controllers);

// A default device rule: every container may use these devices.
struct DefaultDeviceRule {
  char type;
  int64_t major, minor;  // -1 for *
  const char* access;
};
extern const std::vector<DefaultDeviceRule> kDefaultDeviceRules;

// Writes value to dir/file, naming both in the error.
Result<void> write_cgroup_file(const std::string& dir, const std::string& file, const std::string& value);

// rmdir that waits out the short EBUSY while exiting processes leave.
Result<void> remove_cgroup_dir(const std::string& dir);

std::unique_ptr<Cgroup> make_cgroup_v1(const std::string& path, bool relative);
// root is the cgroup2 mount: /sys/fs/cgroup, or /sys/fs/cgroup/unified in
// the hybrid layout (where only tests use it directly).
std::unique_ptr<Cgroup> make_cgroup_v2(const std::string& path, bool relative, const std::string& root = "/sys/fs/cgroup");

// cgroup v2 has no devices controller: an eBPF program attached to the
// cgroup decides each device access.
Result<void> attach_device_filter(const std::string& dir, const std::vector<oci::DeviceRule>& rules,
                                  const std::vector<oci::Device>& devices);

}  // namespace berth::runtime
