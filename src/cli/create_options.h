// The flags of `create` and `run`, and the Engine API body they become.
#pragma once

#include <CLI/CLI.hpp>
#include <optional>
#include <string>
#include <vector>

#include "base/error.h"
#include "base/json.h"

namespace berth::cli {

// The limits create and update share.
struct Limits {
  std::string memory, memory_swap, cpus;
};

struct CreateOptions {
  bool interactive = false, tty = false, detach = false, auto_remove = false;
  bool init = false, read_only = false, privileged = false;
  Limits limits;
  std::string name, workdir, user, hostname, domainname, cpuset_cpus;
  std::optional<std::string> entrypoint;
  std::optional<int64_t> cpu_shares, pids_limit, oom_score_adj;
  std::optional<int> stop_timeout;
  std::string restart = "no", network, ipc, pid, uts, stop_signal, detach_keys, log_driver;
  std::vector<std::string> env, env_files, labels, cap_add, cap_drop, security_opt, ulimits, tmpfs, log_opts, sysctls, attach;
  std::vector<std::string> group_add, add_hosts, dns, dns_search, dns_options;
  bool sig_proxy = true;
  std::string image;
  std::vector<std::string> command;
};

// Adds the flags to a create/run command (run adds -d, --rm is on both).
void add_create_flags(CLI::App* cmd, CreateOptions& options, bool run);

// The body of POST /containers/create.
Result<Json> create_body(const CreateOptions& options);

// The flags of `update`: what changes; unset flags leave a limit as it is.
struct UpdateOptions {
  Limits limits;
  std::string memory_reservation, kernel_memory, cpuset_cpus, cpuset_mems, restart;
  std::optional<int64_t> cpu_shares, cpu_period, cpu_quota, cpu_rt_period, cpu_rt_runtime, pids_limit;
  std::optional<uint16_t> blkio_weight;
};
void add_update_flags(CLI::App* cmd, UpdateOptions& options);
// The body of POST /containers/{id}/update.
Result<Json> update_body(const UpdateOptions& options);

// "512m", "1g", "1024" → bytes (binary units, as Docker's RAMInBytes).
Result<int64_t> parse_memory(const std::string& text);
// "no", "always", "unless-stopped", "on-failure[:N]" → HostConfig.RestartPolicy.
Result<Json> parse_restart_policy(const std::string& text);
// "nofile=1024:2048" → {"Name","Soft","Hard"}.
Result<Json> parse_ulimit(const std::string& text);
// An --env-file's KEY=VALUE lines; a bare KEY takes the value from our environment.
Result<std::vector<std::string>> read_env_file(const std::string& path);

}  // namespace berth::cli
