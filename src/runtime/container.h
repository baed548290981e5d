// The OCI runtime operations on containers kept under one state root: what
// `berth-runtime` (and, later, berthd) calls.
#pragma once

#include <sys/types.h>

#include <array>
#include <optional>
#include <string>
#include <vector>

#include "base/error.h"
#include "oci/runtime_spec.h"
#include "runtime/state.h"

namespace berth::runtime {

// The process's stdin, stdout and stderr: -1 leaves the caller's own.
using Stdio = std::array<int, 3>;

struct CreateOptions {
  std::string bundle = ".";
  Stdio stdio{-1, -1, -1};
  std::string pid_file;
  std::string console_socket;
  int preserve_fds = 0;
  bool no_pivot = false;
  bool no_new_keyring = false;
};

struct ExecOptions {
  oci::Process process;
  Stdio stdio{-1, -1, -1};
  std::string pid_file;
  std::string console_socket;
  int preserve_fds = 0;
  bool detach = false;
};

struct ContainerInfo {
  ContainerRecord record;
  Status status;
};

class Runtime {
 public:
  explicit Runtime(std::string root) : store_(std::move(root)) {}

  // Sets the container up and leaves its process waiting for start: its pid.
  Result<pid_t> create(const std::string& id, const CreateOptions& options);
  // Lets a created container's process exec.
  Result<void> start(const std::string& id);
  // create + start; in the foreground waits and deletes, returning the exit status.
  Result<int> run(const std::string& id, const CreateOptions& options, bool detach);
  Result<ContainerInfo> info(const std::string& id) const;
  Result<std::vector<ContainerInfo>> list() const;
  Result<void> kill(const std::string& id, int signal, bool all);
  Result<void> remove(const std::string& id, bool force);
  // Runs another process in the container: its exit status, or when
  // detached its pid.
  Result<int> exec(const std::string& id, const ExecOptions& options);
  Result<void> pause(const std::string& id);
  Result<void> resume(const std::string& id);
  // Changes the cgroup limits of a live container: `patch` is a partial
  // linux.resources document, merged into the stored config.
  Result<void> update(const std::string& id, const Json& patch);
  Result<std::vector<pid_t>> processes(const std::string& id) const;
  // Whether the kernel's OOM killer ended a process of the container.
  Result<bool> oom_killed(const std::string& id) const;

  // The container's config (as created), for building exec processes.
  Result<oci::Spec> spec_of(const std::string& id) const;

 private:
  struct Launched;
  Result<Launched> launch(const std::string& id, const CreateOptions& options, bool via_fifo, bool proxy_terminal);
  Result<void> destroy(const ContainerRecord& record);

  StateStore store_;
};

// The runtime-spec state document of a container.
Json state_json(const ContainerInfo& info);

}  // namespace berth::runtime
