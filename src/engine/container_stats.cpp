#include "engine/container_stats.h"

#include <unistd.h>

#include <sstream>
#include <thread>

#include "base/clock.h"
#include "base/file.h"
#include "engine/container.h"
#include "runtime/cgroup.h"

namespace berth::engine {

namespace {

int64_t read_number(const std::string& path) {
  auto text = read_file(path);
  if (!text || text->starts_with("max")) return 0;
  return std::atoll(text->c_str());
}

// "key value" lines (memory.stat, cpu.stat, cpuacct.stat).
Json read_keyed(const std::string& path) {
  Json out = Json::object();
  std::istringstream in(read_file(path).value_or(""));
  std::string key;
  int64_t value;
  while (in >> key >> value) out[key] = value;
  return out;
}

// Host CPU time in nanoseconds, from /proc/stat's "cpu" line.
int64_t system_cpu_ns() {
  std::istringstream in(read_file("/proc/stat").value_or(""));
  std::string label;
  in >> label;
  int64_t total = 0, value;
  for (int i = 0; i < 8 && in >> value; ++i) total += value;
  return total * (1000000000 / ::sysconf(_SC_CLK_TCK));
}

}  // namespace

Json cgroup_stats(const std::string& cgroup_path) {
  int64_t ticks = ::sysconf(_SC_CLK_TCK);
  Json memory, cpu_usage, pids;
  if (runtime::cgroup_v2_unified()) {
    std::string dir = "/sys/fs/cgroup" + cgroup_path;
    Json stat = read_keyed(dir + "/memory.stat");
    memory = {{"usage", read_number(dir + "/memory.current")}, {"limit", read_number(dir + "/memory.max")}, {"stats", stat}};
    Json cpu = read_keyed(dir + "/cpu.stat");
    cpu_usage = {{"total_usage", cpu.value("usage_usec", int64_t{0}) * 1000},
                 {"usage_in_usermode", cpu.value("user_usec", int64_t{0}) * 1000},
                 {"usage_in_kernelmode", cpu.value("system_usec", int64_t{0}) * 1000}};
    pids = {{"current", read_number(dir + "/pids.current")}, {"limit", read_number(dir + "/pids.max")}};
  } else {
    std::string root = "/sys/fs/cgroup/";
    Json stat = read_keyed(root + "memory" + cgroup_path + "/memory.stat");
    memory = {{"usage", read_number(root + "memory" + cgroup_path + "/memory.usage_in_bytes")},
              {"limit", read_number(root + "memory" + cgroup_path + "/memory.limit_in_bytes")},
              {"stats", stat}};
    Json cpuacct = read_keyed(root + "cpuacct" + cgroup_path + "/cpuacct.stat");
    cpu_usage = {{"total_usage", read_number(root + "cpuacct" + cgroup_path + "/cpuacct.usage")},
                 {"usage_in_usermode", cpuacct.value("user", int64_t{0}) * (1000000000 / ticks)},
                 {"usage_in_kernelmode", cpuacct.value("system", int64_t{0}) * (1000000000 / ticks)}};
    pids = {{"current", read_number(root + "pids" + cgroup_path + "/pids.current")},
            {"limit", read_number(root + "pids" + cgroup_path + "/pids.max")}};
  }
  // No limit reads as the host's memory, as Docker shows it.
  int64_t host_memory = ::sysconf(_SC_PHYS_PAGES) * ::sysconf(_SC_PAGESIZE);
  if (memory["limit"].get<int64_t>() <= 0 || memory["limit"].get<int64_t>() > host_memory) memory["limit"] = host_memory;
  return {{"read", rfc3339_now()},
          {"preread", kZeroTime},
          {"pids_stats", pids},
          {"memory_stats", memory},
          {"cpu_stats",
           {{"cpu_usage", cpu_usage},
            {"system_cpu_usage", system_cpu_ns()},
            {"online_cpus", std::thread::hardware_concurrency()},
            {"throttling_data", {{"periods", 0}, {"throttled_periods", 0}, {"throttled_time", 0}}}}},
          {"precpu_stats", {{"cpu_usage", {{"total_usage", 0}}}, {"throttling_data", Json::object()}}},
          {"blkio_stats", {{"io_service_bytes_recursive", nullptr}}},
          {"num_procs", 0},
          {"storage_stats", Json::object()}};
}

}  // namespace berth::engine
