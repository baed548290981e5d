// Turning the set-up child into the container's process: credentials,
// limits, capabilities, seccomp, then execve.
#pragma once

#include <optional>
#include <string>

#include "base/error.h"
#include "oci/runtime_spec.h"

namespace berth::runtime {

// The setrlimit resource for a name such as "RLIMIT_NOFILE".
Result<int> rlimit_resource(const std::string& name);

// Finds args[0] in the PATH of the process environment, as the container
// would see it: `exec: "foo": executable file not found in $PATH`.
Result<std::string> find_executable(const oci::Process& process);

// The environment with HOME added from the container's /etc/passwd when the
// spec does not set it, as runc does.
std::vector<std::string> process_environment(const oci::Process& process);

// Applies cwd, rlimits, OOM score, I/O priority, groups/gid/uid,
// capabilities, no_new_privs, seccomp and umask to the calling process, in
// the order that keeps each step permitted, then closes inherited fds above
// 2 + preserve_fds and execs. Returns only on failure.
Result<void> exec_process(const oci::Process& process, const std::optional<oci::Seccomp>& seccomp,
                          const std::string& executable, int preserve_fds);

}  // namespace berth::runtime
