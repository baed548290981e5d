// A container as berthd keeps it: what it was created from, and its state,
// persisted as one JSON file written atomically.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <string>

#include "base/error.h"
#include "base/json.h"

namespace berth::engine {

inline constexpr const char* kZeroTime = "0001-01-01T00:00:00Z";

struct ContainerState {
  // created, running, paused, restarting, removing, exited or dead.
  std::string status = "created";
  pid_t pid = 0;
  int exit_code = 0;
  std::string error;
  std::string started_at = kZeroTime;
  std::string finished_at = kZeroTime;
  bool oom_killed = false;

  bool running() const { return status == "running" || status == "paused" || status == "restarting"; }
};

struct Container {
  std::string id;
  std::string name;  // without Docker's leading "/"
  std::string created;
  std::string image_id;  // sha256:…
  Json config;           // Engine API Config (Image as the user gave it)
  Json host_config;      // Engine API HostConfig
  ContainerState state;
  int restart_count = 0;
  bool manually_stopped = false;  // by stop: restart policies leave it alone
};

Json container_to_json(const Container& c);
Result<Container> container_from_json(const Json& doc);

// Docker's status column: "Up 8 minutes", "Exited (0) 5 seconds ago",
// "Created", "Up 2 hours (Paused)", "Restarting (1) 3 seconds ago".
std::string status_text(const ContainerState& state, int64_t now_unix);

// Docker's exit code for a process that could not be started, from the
// runtime's message: 127 not found, 126 not executable, else 128.
int start_failure_code(const std::string& message);

// "sh -c 'echo hi'" as `docker ps` shows Path and Args.
std::string command_text(const std::vector<std::string>& args);

}  // namespace berth::engine
