// Device nodes in the container's /dev.
#pragma once

#include <vector>

#include "base/error.h"
#include "oci/runtime_spec.h"

namespace berth::runtime {

// Creates the runtime-spec default devices (null, zero, full, random,
// urandom, tty) and linux.devices under root_fd's /dev. In a user namespace
// mknod is not allowed, so the host's nodes are bind mounted instead.
Result<void> create_devices(int root_fd, const std::vector<oci::Device>& devices, bool userns);

}  // namespace berth::runtime
