// The container's filesystem view: mounts under the rootfs, device nodes,
// pivot_root, then masked and read-only paths.
#pragma once

#include <string>

#include "base/error.h"
#include "oci/runtime_spec.h"
#include "runtime/cgroup.h"

namespace berth::runtime {

struct RootfsContext {
  const oci::Spec& spec;
  std::string rootfs;  // absolute path on the host
  const Cgroup& cgroup;
  bool userns = false;  // in a new user namespace: no mknod, locked mount flags
};

// Before pivot_root: propagation, the rootfs bind mount, spec mounts, devices.
Result<void> mount_rootfs(const RootfsContext& ctx);

// Switches the root to the rootfs (pivot_root, or MS_MOVE + chroot when no_pivot).
Result<void> enter_rootfs(const std::string& rootfs, bool no_pivot);

// Refuses sysctls that are not isolated by one of the container's own
// namespaces: writing them would change the host.
Result<void> validate_sysctls(const oci::Linux& linux);

// After pivot_root: sysctls, masked and read-only paths, hostname, a
// read-only root, and the rootfs propagation.
Result<void> finish_rootfs(const oci::Spec& spec);

}  // namespace berth::runtime
