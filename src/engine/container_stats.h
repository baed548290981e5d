// A running container's resource usage from its cgroup (v1, hybrid or v2),
// in the shape of the Engine API's stats: memory_stats, cpu_stats, pids_stats.
#pragma once

#include <string>

#include "base/json.h"

namespace berth::engine {

// One sample of the cgroup at cgroup_path (e.g. "/berth/<id>"), with
// "read" set to now and precpu_stats empty.
Json cgroup_stats(const std::string& cgroup_path);

}  // namespace berth::engine
