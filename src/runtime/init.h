// The processes that become a container. The runtime forks a first child
// that joins and creates namespaces, then forks the container process with
// CLONE_PARENT (so it is the runtime's child and can be waited for) and
// exits. Errors in either reach the runtime over the sync socket.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "base/unique_fd.h"
#include "oci/runtime_spec.h"
#include "runtime/cgroup.h"
#include "runtime/container.h"

namespace berth::runtime {

struct NamespaceJoin {
  int flag;  // CLONE_NEW*
  UniqueFd fd;
};

// How the child enters its namespaces.
struct NamespacePlan {
  std::vector<NamespaceJoin> joins;  // existing namespaces, user first
  int new_flags = 0;                 // CLONE_NEW* to create (CLONE_NEWUSER included)
};

// CLONE_NEW* for a runtime-spec namespace type ("network" → CLONE_NEWNET).
int namespace_flag(const std::string& type);
// The /proc/PID/ns/ name for a runtime-spec namespace type ("network" → "net").
std::string namespace_proc_name(const std::string& type);

struct InitConfig {
  const oci::Spec* spec = nullptr;
  std::string container_id;
  std::string rootfs;
  const Cgroup* cgroup = nullptr;
  int sync_fd = -1;
  int console_fd = -1;  // console socket to send the pty master to
  int fifo_fd = -1;     // O_PATH exec.fifo; -1: the runtime starts us over sync
  Stdio stdio{-1, -1, -1};
  int preserve_fds = 0;
  bool no_pivot = false;
  bool new_keyring = true;
  NamespacePlan namespaces;
};

struct ExecConfig {
  const oci::Process* process = nullptr;
  const std::optional<oci::Seccomp>* seccomp = nullptr;
  int sync_fd = -1;
  int console_fd = -1;
  Stdio stdio{-1, -1, -1};
  int preserve_fds = 0;
  NamespacePlan namespaces;
};

// Child side of create/run: never returns.
[[noreturn]] void container_child(const InitConfig& config);

// The flags of a clone that makes the container process in its namespaces
// at once, with no first child (each fork copies the runtime's page tables,
// 2 ms on a VM): when no namespace is joined and there is no user or time
// namespace (those need a step between). A cgroup namespace comes after,
// once the process is in its cgroup.
std::optional<int> direct_clone_flags(const NamespacePlan& plan);
// Child side of create/run for such a clone: never returns.
[[noreturn]] void container_child_direct(const InitConfig& config);
// Child side of exec: never returns.
[[noreturn]] void exec_child(const ExecConfig& config);

}  // namespace berth::runtime
