// The five capability sets of process.capabilities.
#pragma once

#include <cstdint>

#include "base/error.h"
#include "oci/runtime_spec.h"

namespace berth::runtime {

struct CapabilitySets {
  uint64_t bounding = 0, effective = 0, inheritable = 0, permitted = 0, ambient = 0;
};

// Capability names ("CAP_SYS_ADMIN") to bit sets; an unknown name is an error.
Result<CapabilitySets> parse_capabilities(const oci::Capabilities& caps);

// Removes from every set the capabilities the runtime itself lacks (its
// bounding set): nobody can grant them. Returns the names removed.
std::vector<std::string> drop_unavailable_capabilities(oci::Capabilities& caps);

// Drops from the bounding set what is not in it; needs CAP_SETPCAP, so it
// runs before the uid changes.
Result<void> apply_bounding_set(const CapabilitySets& sets);

// Sets effective/permitted/inheritable, then raises the ambient set.
Result<void> apply_capability_sets(const CapabilitySets& sets);

}  // namespace berth::runtime
