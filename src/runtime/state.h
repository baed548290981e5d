// What the runtime remembers about a container between commands: one
// directory per container under the runtime root, holding state.json and,
// until the container starts, the exec fifo its process waits on.
#pragma once

#include <sys/types.h>

#include <optional>
#include <string>
#include <vector>

#include "base/clock.h"
#include "base/error.h"
#include "base/json.h"
#include "oci/runtime_spec.h"

namespace berth::runtime {

struct ContainerRecord {
  std::string id;
  pid_t pid = 0;
  uint64_t pid_start_time = 0;  // guards against the pid being reused
  std::string bundle;
  std::string rootfs;
  std::string created;  // RFC 3339
  uid_t owner = 0;
  Json config;  // the config.json the container was created from
};

enum class Status { kCreating, kCreated, kRunning, kPaused, kStopped };
std::string status_text(Status status);

class StateStore {
 public:
  explicit StateStore(std::string root) : root_(std::move(root)) {}

  const std::string& root() const { return root_; }
  std::string dir(const std::string& id) const { return root_ + "/" + id; }
  std::string fifo_path(const std::string& id) const { return dir(id) + "/exec.fifo"; }

  // Claims the id by making its directory; fails if it exists.
  Result<void> reserve(const std::string& id);
  Result<void> save(const ContainerRecord& record);
  Result<ContainerRecord> load(const std::string& id) const;
  Result<void> remove(const std::string& id);
  Result<std::vector<std::string>> list() const;

  // The container's status now, from its process, fifo and freezer.
  Status status(const ContainerRecord& record) const;

 private:
  std::string root_;
};

// Container ids become directory and cgroup names: refuse anything that
// could be a path.
Result<void> validate_id(const std::string& id);

// The start time of a process (field 22 of /proc/PID/stat), or nothing if it
// is gone or a zombie.
std::optional<uint64_t> process_start_time(pid_t pid);

// True while the record's process is alive (and is the same process).
bool process_alive(const ContainerRecord& record);


}  // namespace berth::runtime
