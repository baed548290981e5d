// berth-shim-start: what berthd runs for each container and each exec.
//
// berthd starts it in a session of its own with a pipe on fd 3 (and reaps
// it when it ends). It listens on the shim socket and writes
// "ok PID\n" or "error MESSAGE\n" on fd 3:
// - For a container, it first creates the container with the runtime
//   library (in this process: no runtime executable to start), then execs
//   berth-shim (shim/server.h), handing over the socket and the stdio ends.
//   The container's process is its child and waits on its exec fifo.
// - For an exec, it serves itself, and makes the process on the first
//   {"op":"start"}, so that attached clients miss nothing.
#pragma once

namespace berth::shim {

int shim_main(int argc, char** argv);

}  // namespace berth::shim
