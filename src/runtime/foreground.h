// Waiting for a container process in the foreground (`run`, `exec`):
// forwarding signals to it and, with a terminal, copying between the
// caller's terminal and the container's pty.
#pragma once

#include <sys/types.h>

#include "base/error.h"

namespace berth::runtime {

// Returns the process's exit status (128+N when killed by signal N).
// pty_master is -1 when the process has no terminal of ours to proxy.
Result<int> wait_foreground(pid_t pid, int pty_master);

}  // namespace berth::runtime
