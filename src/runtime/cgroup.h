// Control groups: one interface, with cgroup v1 (including the hybrid layout
// of v1 controllers beside a cgroup2 tree) and unified v2 implementations.
#pragma once

#include <sys/types.h>

#include <memory>
#include <string>
#include <vector>

#include "base/error.h"
#include "oci/runtime_spec.h"

namespace berth::runtime {

class Cgroup {
 public:
  virtual ~Cgroup() = default;

  // Creates the cgroup's directories (idempotent).
  virtual Result<void> create() = 0;
  // Writes the resource limits.
  virtual Result<void> apply(const oci::Resources& resources, const std::vector<oci::Device>& devices) = 0;
  // Moves a process into the cgroup.
  virtual Result<void> add_process(pid_t pid) = 0;
  virtual Result<void> freeze() = 0;
  virtual Result<void> thaw() = 0;
  virtual bool frozen() const = 0;
  // How many processes the kernel's OOM killer ended in the cgroup.
  virtual uint64_t oom_kills() const = 0;
  // Every process in the cgroup, children included.
  virtual Result<std::vector<pid_t>> processes() const = 0;
  // Removes the directories (and parents it created that are now empty).
  virtual Result<void> destroy() = 0;
  // The host directories a container sees as its own cgroups, for the
  // /sys/fs/cgroup mount: {controller mount name, host directory}.
  virtual std::vector<std::pair<std::string, std::string>> mount_sources() const = 0;
  virtual bool unified() const = 0;

  // Sends signal to every process in the cgroup.
  Result<void> kill_all(int signal) const;
};

// The cgroup for cgroupsPath: absolute paths are from each hierarchy's root,
// relative ones from the caller's own cgroup, empty means "/berth/<id>".
Result<std::unique_ptr<Cgroup>> open_cgroup(const std::string& cgroups_path, const std::string& id);

// True when /sys/fs/cgroup is a cgroup2 mount (pure v2).
bool cgroup_v2_unified();

// The value of "key N" in a flat-keyed cgroup file (memory.events,
// memory.oom_control); 0 when absent.
uint64_t flat_key_value(const std::string& text, std::string_view key);

}  // namespace berth::runtime
