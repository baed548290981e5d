// berth-shim: one small process per running container (and per exec). It
// runs the OCI runtime, holds the process's stdio or pty, writes the log,
// reaps the exit status, and outlives berthd, which talks to it over a unix
// socket in the shim's state directory (see protocol.h).
//
// berthd starts it with a pipe on fd 3; the shim detaches (a new session,
// not berthd's child), creates the container (or, for an exec, nothing yet),
// listens, and writes "ok PID\n" or "error MESSAGE\n" on fd 3. The process
// begins on the first {"op":"start"} so that attached clients miss nothing.
#pragma once

namespace berth::shim {

int shim_main(int argc, char** argv);

}  // namespace berth::shim
