// berth-runtime's start handshake. A created container's process blocks
// opening the exec fifo for writing; whoever starts it opens the fifo,
// reads the byte that says the process is there, removes the fifo (the
// container now counts as running) and waits for the end of file the exec
// brings (the process's end is close-on-exec). Text written instead is
// why the exec failed. Used by `berth-runtime start` and by berth-shim,
// which so saves starting the runtime once more for each container.
#pragma once

#include <sys/types.h>

#include <string>

#include "base/error.h"

namespace berth {

// Lets the process (pid) waiting on fifo_path exec; fails with the reason
// when it could not, or when it died first.
Result<void> release_exec_fifo(const std::string& fifo_path, pid_t pid);

}  // namespace berth
