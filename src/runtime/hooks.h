// OCI lifecycle hooks: each gets the container state on stdin.
#pragma once

#include <string>
#include <vector>

#include "base/error.h"
#include "oci/runtime_spec.h"

namespace berth::runtime {

// Runs hooks in order; the first failure (non-zero exit or timeout) is the
// error, naming the hook kind ("createRuntime hook /bin/x: exit status 3").
Result<void> run_hooks(const std::vector<oci::Hook>& hooks, const std::string& kind, const std::string& state_json);

// For poststart and poststop, whose failures the spec makes warnings: runs
// every hook and prints a warning for each one that fails.
void run_hooks_warning(const std::vector<oci::Hook>& hooks, const std::string& kind, const std::string& state_json);

}  // namespace berth::runtime
