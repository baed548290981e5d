// linux.seccomp to a loaded seccomp filter, through libseccomp.
#pragma once

#include "base/error.h"
#include "oci/runtime_spec.h"

namespace berth::runtime {

// Checks the profile (actions, operators, architectures, flags) without
// loading it, so create fails early on a bad profile.
Result<void> validate_seccomp(const oci::Seccomp& profile);

// Compiles and loads the filter into the calling process.
Result<void> load_seccomp(const oci::Seccomp& profile);

}  // namespace berth::runtime
