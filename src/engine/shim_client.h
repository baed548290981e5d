// berthd's side of berth-shim: starting one, and asking it things.
#pragma once

#include <sys/types.h>

#include <string>

#include "base/error.h"
#include "base/json.h"
#include "base/unique_fd.h"
#include "shim/json_log.h"

namespace berth::engine {

struct ShimLaunch {
  std::string shim;          // the berth-shim-start binary
  std::string runtime_root;  // the runtime library's state root
  std::string id;            // container id
  std::string bundle;        // directory with config.json
  std::string state_dir;     // the shim's socket and exit status
  std::string log_path;      // json-file log; empty for an exec
  shim::LogOptions log_options;
  bool tty = false;
  bool open_stdin = false;
  std::string exec_process;  // process.json of an exec
};

struct LaunchedShim {
  pid_t process = 0;  // the container's pid; 0 for an exec, whose process comes at start
  pid_t shim = 0;     // berthd's child until it ends: see reap_shim
};

// Starts a shim and waits until it is ready: for a container, created and
// waiting for start.
Result<LaunchedShim> launch_shim(const ShimLaunch& launch);

// Waits for a shim this berthd started to end, so it leaves no zombie (a
// shim from before a restart is not our child: nothing to do). With
// `later`, on a thread of its own.
void reap_shim(pid_t shim, bool later = false);

// One request to the shim in state_dir, on a connection of its own.
Result<Json> shim_request(const std::string& state_dir, const Json& request);

// A connection subscribed to the process's output (none when both false).
// Without await_reply, the shim's reply is left for the reader of the
// connection to skip (as it skips all but the exit, when watching for it).
Result<UniqueFd> shim_subscribe(const std::string& state_dir, bool stdout, bool stderr, bool await_reply = true);

// The exit status a shim left behind; nullopt if it wrote none.
std::optional<int> shim_exit_status(const std::string& state_dir);

}  // namespace berth::engine
