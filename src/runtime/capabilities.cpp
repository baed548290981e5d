#include "runtime/capabilities.h"

#include <sys/capability.h>
#include <sys/prctl.h>

#include <algorithm>
#include <memory>

namespace berth::runtime {

namespace {

Result<uint64_t> parse_set(const std::vector<std::string>& names, const char* set) {
  uint64_t bits = 0;
  for (const auto& name : names) {
    cap_value_t value;
    if (cap_from_name(name.c_str(), &value) != 0 || !name.starts_with("CAP_"))
      return fail(std::string("process.capabilities.") + set + ": unknown capability \"" + name + "\"");
    bits |= uint64_t{1} << value;
  }
  return bits;
}

int last_cap() {
  static int last = [] {
    int cap = 63;
    while (cap > 0 && prctl(PR_CAPBSET_READ, cap, 0, 0, 0) < 0) --cap;
    return cap;
  }();
  return last;
}

}  // namespace

Result<CapabilitySets> parse_capabilities(const oci::Capabilities& caps) {
  CapabilitySets sets;
  sets.bounding = TRY(parse_set(caps.bounding, "bounding"));
  sets.effective = TRY(parse_set(caps.effective, "effective"));
  sets.inheritable = TRY(parse_set(caps.inheritable, "inheritable"));
  sets.permitted = TRY(parse_set(caps.permitted, "permitted"));
  sets.ambient = TRY(parse_set(caps.ambient, "ambient"));
  return sets;
}

std::vector<std::string> drop_unavailable_capabilities(oci::Capabilities& caps) {
  std::vector<std::string> removed;
  for (auto* set : {&caps.bounding, &caps.effective, &caps.inheritable, &caps.permitted, &caps.ambient}) {
    std::erase_if(*set, [&](const std::string& name) {
      cap_value_t value;
      if (cap_from_name(name.c_str(), &value) != 0 || prctl(PR_CAPBSET_READ, value, 0, 0, 0) == 1) return false;
      if (std::ranges::find(removed, name) == removed.end()) removed.push_back(name);
      return true;
    });
  }
  return removed;
}

Result<void> apply_bounding_set(const CapabilitySets& sets) {
  for (int cap = 0; cap <= last_cap(); ++cap) {
    if (sets.bounding & (uint64_t{1} << cap)) continue;
    if (prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) != 0 && errno != EINVAL) return fail_errno("drop capability " + std::to_string(cap));
  }
  return {};
}

Result<void> apply_capability_sets(const CapabilitySets& sets) {
  std::unique_ptr<_cap_struct, int (*)(void*)> caps(cap_init(), cap_free);
  if (!caps) return fail_errno("cap_init");
  for (int cap = 0; cap <= last_cap(); ++cap) {
    cap_value_t value = cap;
    uint64_t bit = uint64_t{1} << cap;
    if (sets.effective & bit) cap_set_flag(caps.get(), CAP_EFFECTIVE, 1, &value, CAP_SET);
    if (sets.permitted & bit) cap_set_flag(caps.get(), CAP_PERMITTED, 1, &value, CAP_SET);
    if (sets.inheritable & bit) cap_set_flag(caps.get(), CAP_INHERITABLE, 1, &value, CAP_SET);
  }
  if (cap_set_proc(caps.get()) != 0) return fail_errno("set capabilities");
  if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) != 0) return fail_errno("clear ambient capabilities");
  for (int cap = 0; cap <= last_cap(); ++cap) {
    if (!(sets.ambient & (uint64_t{1} << cap))) continue;
    // The kernel refuses ambient capabilities missing from the permitted or
    // inheritable set; like runc we skip those rather than fail the start.
    if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, cap, 0, 0) != 0 && errno != EPERM)
      return fail_errno("raise ambient capability " + std::to_string(cap));
  }
  return {};
}

}  // namespace berth::runtime
