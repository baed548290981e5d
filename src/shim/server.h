// The serving half of a shim: holds the process's stdio (or its pty master),
// writes the log, answers berthd on the shim socket (protocol.h), reaps the
// process and reports its exit. The berth-shim executable is this alone: it
// takes a created container over from berth-shim-start (see shim.h), so the
// process that lives as long as the container holds no runtime code.
#pragma once

#include <sys/types.h>

#include <functional>
#include <string>

#include "base/error.h"
#include "base/unique_fd.h"
#include "shim/json_log.h"

namespace berth::shim {

// The shim's ends of the process's stdio: pipes, or a pty master.
struct StdioEnds {
  UniqueFd in, out, err, master;
};

// Starts the process on {"op":"start"}: its pid. An exec's starter makes
// the process then, and its stdio ends with it.
using Starter = std::function<Result<pid_t>(StdioEnds&)>;

// The starter of a created container: releases it from its exec fifo.
Starter start_by_exec_fifo(std::string fifo, pid_t pid);

struct ServeOptions {
  std::string log_path;  // the json-file log; none for an exec
  LogOptions log_options;
  bool tty = false;
};

// Serves until the process (pid, or the one start makes) has ended and its
// output is drained, then leaves its exit status in the state directory,
// which is the working directory. SIGCHLD must be blocked from before the
// process was made.
Result<void> serve(const ServeOptions& options, UniqueFd listener, StdioEnds stdio, pid_t pid, Starter start);

// main() of berth-shim.
int serve_main(int argc, char** argv);

}  // namespace berth::shim
