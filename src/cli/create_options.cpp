#include "cli/create_options.h"

#include <cmath>
#include <cstdlib>
#include <sstream>

#include "base/file.h"

namespace berth::cli {

static void add_limit_flags(CLI::App* cmd, Limits& l) {
  cmd->add_option("-m,--memory", l.memory, "Memory limit");
  cmd->add_option("--memory-swap", l.memory_swap, "Swap limit equal to memory plus swap: '-1' to enable unlimited swap");
  cmd->add_option("--cpus", l.cpus, "Number of CPUs");
}

void add_create_flags(CLI::App* cmd, CreateOptions& o, bool run) {
  cmd->set_help_flag("--help", "Print usage");  // -h is --hostname, as in Docker
  cmd->add_flag("-i,--interactive", o.interactive, "Keep STDIN open even if not attached");
  cmd->add_flag("-t,--tty", o.tty, "Allocate a pseudo-TTY");
  if (run) {
    cmd->add_flag("-d,--detach", o.detach, "Run container in background and print container ID");
    cmd->add_flag("--sig-proxy,!--no-sig-proxy", o.sig_proxy, "Proxy received signals to the process");
    cmd->add_option("--detach-keys", o.detach_keys, "Override the key sequence for detaching a container");
  }
  cmd->add_option("-a,--attach", o.attach, "Attach to STDIN, STDOUT or STDERR")->allow_extra_args(false);
  cmd->add_flag("--rm", o.auto_remove, "Automatically remove the container when it exits");
  cmd->add_option("--name", o.name, "Assign a name to the container");
  cmd->add_option("-e,--env", o.env, "Set environment variables")->allow_extra_args(false);
  cmd->add_option("--env-file", o.env_files, "Read in a file of environment variables")->allow_extra_args(false);
  cmd->add_option("-w,--workdir", o.workdir, "Working directory inside the container");
  cmd->add_option("-u,--user", o.user, "Username or UID (format: <name|uid>[:<group|gid>])");
  cmd->add_option("--entrypoint", o.entrypoint, "Overwrite the default ENTRYPOINT of the image");
  cmd->add_option("-h,--hostname", o.hostname, "Container host name");
  cmd->add_option("--domainname", o.domainname, "Container NIS domain name");
  cmd->add_option("-l,--label", o.labels, "Set meta data on a container")->allow_extra_args(false);
  add_limit_flags(cmd, o.limits);
  cmd->add_option("-c,--cpu-shares", o.cpu_shares, "CPU shares (relative weight)");
  cmd->add_option("--cpuset-cpus", o.cpuset_cpus, "CPUs in which to allow execution (0-3, 0,1)");
  cmd->add_option("--pids-limit", o.pids_limit, "Tune container pids limit (set -1 for unlimited)");
  cmd->add_option("--restart", o.restart, "Restart policy to apply when a container exits")->capture_default_str();
  cmd->add_flag("--init", o.init, "Run an init inside the container that forwards signals and reaps processes");
  cmd->add_flag("--read-only", o.read_only, "Mount the container's root filesystem as read only");
  cmd->add_option("--cap-add", o.cap_add, "Add Linux capabilities")->allow_extra_args(false);
  cmd->add_option("--cap-drop", o.cap_drop, "Drop Linux capabilities")->allow_extra_args(false);
  cmd->add_flag("--privileged", o.privileged, "Give extended privileges to this container");
  cmd->add_option("--security-opt", o.security_opt, "Security Options")->allow_extra_args(false);
  cmd->add_option("--group-add", o.group_add, "Add additional groups to join")->allow_extra_args(false);
  cmd->add_option("--add-host", o.add_hosts, "Add a custom host-to-IP mapping (host:ip)")->allow_extra_args(false);
  cmd->add_option("--dns", o.dns, "Set custom DNS servers")->allow_extra_args(false);
  cmd->add_option("--dns-search", o.dns_search, "Set custom DNS search domains")->allow_extra_args(false);
  cmd->add_option("--dns-option", o.dns_options, "Set DNS options")->allow_extra_args(false);
  cmd->add_option("--ulimit", o.ulimits, "Ulimit options")->allow_extra_args(false);
  cmd->add_option("--stop-signal", o.stop_signal, "Signal to stop the container");
  cmd->add_option("--stop-timeout", o.stop_timeout, "Timeout (in seconds) to stop a container");
  cmd->add_option("--network,--net", o.network, "Connect a container to a network (none or host)");
  cmd->add_option("--ipc", o.ipc, "IPC mode to use");
  cmd->add_option("--pid", o.pid, "PID namespace to use");
  cmd->add_option("--uts", o.uts, "UTS namespace to use");
  cmd->add_option("--tmpfs", o.tmpfs, "Mount a tmpfs directory")->allow_extra_args(false);
  cmd->add_option("--log-driver", o.log_driver, "Logging driver for the container");
  cmd->add_option("--log-opt", o.log_opts, "Log driver options")->allow_extra_args(false);
  cmd->add_option("--sysctl", o.sysctls, "Sysctl options")->allow_extra_args(false);
  cmd->add_option("--oom-score-adj", o.oom_score_adj, "Tune host's OOM preferences (-1000 to 1000)");
  // IMAGE [COMMAND] [ARG...]: everything after the image belongs to the command.
  cmd->prefix_command();
}

Result<int64_t> parse_memory(const std::string& text) {
  char* end = nullptr;
  double number = std::strtod(text.c_str(), &end);
  std::string unit = end ? end : "";
  for (char& c : unit) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (unit.size() == 2 && unit[1] == 'b') unit.pop_back();
  static const std::string kUnits = "bkmgtp";
  size_t power = unit.empty() ? 0 : kUnits.find(unit);
  if (end == text.c_str() || number < 0 || unit.size() > 1 || power == std::string::npos)
    return fail("invalid size: '" + text + "'", EINVAL);
  return static_cast<int64_t>(number * std::pow(1024.0, static_cast<double>(power)));
}

Result<Json> parse_restart_policy(const std::string& text) {
  auto colon = text.find(':');
  std::string name = text.substr(0, colon);
  int max = 0;
  if (colon != std::string::npos) {
    if (name != "on-failure") return fail("invalid restart policy format: maximum retry count can only be used with 'on-failure'", EINVAL);
    char* end = nullptr;
    max = static_cast<int>(std::strtol(text.c_str() + colon + 1, &end, 10));
    if (*end || end == text.c_str() + colon + 1 || max < 0) return fail("invalid restart policy format: maximum retry count must be an integer", EINVAL);
  }
  if (name != "no" && name != "always" && name != "unless-stopped" && name != "on-failure")
    return fail("invalid restart policy format: unknown policy '" + name + "'", EINVAL);
  return Json{{"Name", name}, {"MaximumRetryCount", max}};
}

Result<Json> parse_ulimit(const std::string& text) {
  auto eq = text.find('=');
  if (eq == std::string::npos || eq == 0) return fail("invalid ulimit argument: " + text, EINVAL);
  std::string values = text.substr(eq + 1);
  auto number = [&](const std::string& s) -> Result<int64_t> {
    char* end = nullptr;
    long long v = std::strtoll(s.c_str(), &end, 10);
    if (s.empty() || *end) return fail("invalid ulimit argument: " + text, EINVAL);
    return v;
  };
  auto colon = values.find(':');
  int64_t soft = TRY(number(values.substr(0, colon)));
  int64_t hard = colon == std::string::npos ? soft : TRY(number(values.substr(colon + 1)));
  if (soft > hard) return fail("ulimit soft limit must be less than or equal to hard limit: " + std::to_string(soft) + " > " + std::to_string(hard), EINVAL);
  return Json{{"Name", text.substr(0, eq)}, {"Soft", soft}, {"Hard", hard}};
}

Result<std::vector<std::string>> read_env_file(const std::string& path) {
  auto text = read_file(path);
  if (!text) return fail("open " + path + ": " + std::strerror(text.error().code()), EINVAL);
  std::vector<std::string> out;
  std::istringstream in(*text);
  for (std::string line; std::getline(in, line);) {
    auto start = line.find_first_not_of(" \t");
    if (start == std::string::npos || line[start] == '#') continue;
    line = line.substr(start);
    if (line.find('=') == std::string::npos) {
      if (const char* value = std::getenv(line.c_str())) out.push_back(line + "=" + value);
      continue;
    }
    if (line.front() == '=') return fail("invalid environment variable: " + line, EINVAL);
    out.push_back(line);
  }
  return out;
}

// -m, --memory-swap and --cpus, shared by create and update.
static Result<void> add_limits(Json& host, const Limits& l) {
  if (!l.memory.empty()) host["Memory"] = TRY(parse_memory(l.memory));
  if (!l.memory_swap.empty()) host["MemorySwap"] = l.memory_swap == "-1" ? -1 : TRY(parse_memory(l.memory_swap));
  if (!l.cpus.empty()) {
    char* end = nullptr;
    double cpus = std::strtod(l.cpus.c_str(), &end);
    if (*end || cpus < 0) return fail("invalid argument \"" + l.cpus + "\" for \"--cpus\" flag", EINVAL);
    host["NanoCpus"] = static_cast<int64_t>(std::llround(cpus * 1e9));
  }
  return {};
}

Result<Json> create_body(const CreateOptions& o) {
  std::vector<std::string> env;
  for (const auto& file : o.env_files)
    for (auto& e : TRY(read_env_file(file))) env.push_back(std::move(e));
  for (const auto& e : o.env) {
    if (e.empty() || e.front() == '=') return fail("invalid environment variable: " + e, EINVAL);
    if (e.find('=') != std::string::npos) env.push_back(e);
    else if (const char* value = std::getenv(e.c_str())) env.push_back(e + "=" + value);
  }
  Json labels = Json::object();
  for (const auto& l : o.labels) {
    auto eq = l.find('=');
    labels[l.substr(0, eq)] = eq == std::string::npos ? "" : l.substr(eq + 1);
  }
  bool attach_stdin = o.interactive, attach_out = !o.detach, attach_err = !o.detach;
  if (!o.attach.empty()) {
    attach_stdin = attach_out = attach_err = false;
    for (const auto& stream : o.attach) {
      if (stream == "stdin" || stream == "STDIN") attach_stdin = true;
      else if (stream == "stdout" || stream == "STDOUT") attach_out = true;
      else if (stream == "stderr" || stream == "STDERR") attach_err = true;
      else return fail("invalid argument \"" + stream + "\" for \"-a, --attach\" flag: valid streams are STDIN, STDOUT and STDERR", EINVAL);
    }
  }
  Json config = {{"Hostname", o.hostname},
                 {"Domainname", o.domainname},
                 {"User", o.user},
                 {"AttachStdin", attach_stdin && !o.detach},
                 {"AttachStdout", attach_out},
                 {"AttachStderr", attach_err},
                 {"Tty", o.tty},
                 {"OpenStdin", o.interactive},
                 {"StdinOnce", o.interactive && !o.detach},
                 {"Env", env},
                 {"Image", o.image},
                 {"WorkingDir", o.workdir},
                 {"Labels", labels}};
  if (!o.command.empty()) config["Cmd"] = o.command;
  if (o.entrypoint) config["Entrypoint"] = o.entrypoint->empty() ? Json::array({""}) : Json::array({*o.entrypoint});
  if (!o.stop_signal.empty()) config["StopSignal"] = o.stop_signal;
  if (o.stop_timeout) config["StopTimeout"] = *o.stop_timeout;

  Json host = {{"AutoRemove", o.auto_remove},
               {"RestartPolicy", TRY(parse_restart_policy(o.restart))},
               {"ReadonlyRootfs", o.read_only},
               {"Privileged", o.privileged},
               {"NetworkMode", o.network.empty() ? "default" : o.network}};
  if (o.auto_remove && host["RestartPolicy"]["Name"] != "no") return fail("Conflicting options: --restart and --rm", EINVAL);
  if (o.init) host["Init"] = true;
  TRY(add_limits(host, o.limits));
  if (o.cpu_shares) host["CpuShares"] = *o.cpu_shares;
  if (!o.cpuset_cpus.empty()) host["CpusetCpus"] = o.cpuset_cpus;
  if (o.pids_limit) host["PidsLimit"] = *o.pids_limit;
  if (o.oom_score_adj) host["OomScoreAdj"] = *o.oom_score_adj;
  if (!o.cap_add.empty()) host["CapAdd"] = o.cap_add;
  if (!o.cap_drop.empty()) host["CapDrop"] = o.cap_drop;
  if (!o.security_opt.empty()) host["SecurityOpt"] = o.security_opt;
  if (!o.group_add.empty()) host["GroupAdd"] = o.group_add;
  if (!o.add_hosts.empty()) host["ExtraHosts"] = o.add_hosts;
  if (!o.dns.empty()) host["Dns"] = o.dns;
  if (!o.dns_search.empty()) host["DnsSearch"] = o.dns_search;
  if (!o.dns_options.empty()) host["DnsOptions"] = o.dns_options;
  if (!o.ipc.empty()) host["IpcMode"] = o.ipc;
  if (!o.pid.empty()) host["PidMode"] = o.pid;
  if (!o.uts.empty()) host["UTSMode"] = o.uts;
  if (!o.ulimits.empty()) {
    host["Ulimits"] = Json::array();
    for (const auto& u : o.ulimits) host["Ulimits"].push_back(TRY(parse_ulimit(u)));
  }
  if (!o.tmpfs.empty()) {
    host["Tmpfs"] = Json::object();
    for (const auto& t : o.tmpfs) {
      auto colon = t.find(':');
      host["Tmpfs"][t.substr(0, colon)] = colon == std::string::npos ? "" : t.substr(colon + 1);
    }
  }
  if (!o.sysctls.empty()) {
    host["Sysctls"] = Json::object();
    for (const auto& s : o.sysctls) {
      auto eq = s.find('=');
      if (eq == std::string::npos) return fail("invalid argument \"" + s + "\" for \"--sysctl\" flag: sysctl '" + s + "' is not allowed", EINVAL);
      host["Sysctls"][s.substr(0, eq)] = s.substr(eq + 1);
    }
  }
  if (!o.log_driver.empty() || !o.log_opts.empty()) {
    Json log_config = Json::object();
    for (const auto& opt : o.log_opts) {
      auto eq = opt.find('=');
      if (eq == std::string::npos) return fail("invalid key/value pair format in logging opts: " + opt, EINVAL);
      log_config[opt.substr(0, eq)] = opt.substr(eq + 1);
    }
    host["LogConfig"] = {{"Type", o.log_driver.empty() ? "json-file" : o.log_driver}, {"Config", log_config}};
  }
  config["HostConfig"] = host;
  return config;
}

void add_update_flags(CLI::App* cmd, UpdateOptions& o) {
  add_limit_flags(cmd, o.limits);
  cmd->add_option("--memory-reservation", o.memory_reservation, "Memory soft limit");
  cmd->add_option("-c,--cpu-shares", o.cpu_shares, "CPU shares (relative weight)");
  cmd->add_option("--cpu-period", o.cpu_period, "Limit CPU CFS (Completely Fair Scheduler) period");
  cmd->add_option("--cpu-quota", o.cpu_quota, "Limit CPU CFS (Completely Fair Scheduler) quota");
  cmd->add_option("--cpu-rt-period", o.cpu_rt_period, "Limit the CPU real-time period in microseconds");
  cmd->add_option("--cpu-rt-runtime", o.cpu_rt_runtime, "Limit the CPU real-time runtime in microseconds");
  cmd->add_option("--cpuset-cpus", o.cpuset_cpus, "CPUs in which to allow execution (0-3, 0,1)");
  cmd->add_option("--cpuset-mems", o.cpuset_mems, "MEMs in which to allow execution (0-3, 0,1)");
  cmd->add_option("--blkio-weight", o.blkio_weight, "Block IO (relative weight), between 10 and 1000, or 0 to disable");
  cmd->add_option("--kernel-memory", o.kernel_memory, "Kernel memory limit (deprecated)");
  cmd->add_option("--pids-limit", o.pids_limit, "Tune container pids limit (set -1 for unlimited)");
  cmd->add_option("--restart", o.restart, "Restart policy to apply when a container exits");
}

Result<Json> update_body(const UpdateOptions& o) {
  Json body = Json::object();
  TRY(add_limits(body, o.limits));
  if (!o.memory_reservation.empty()) body["MemoryReservation"] = TRY(parse_memory(o.memory_reservation));
  if (!o.kernel_memory.empty()) body["KernelMemory"] = TRY(parse_memory(o.kernel_memory));
  if (o.cpu_shares) body["CpuShares"] = *o.cpu_shares;
  if (o.cpu_period) body["CpuPeriod"] = *o.cpu_period;
  if (o.cpu_quota) body["CpuQuota"] = *o.cpu_quota;
  if (o.cpu_rt_period) body["CpuRealtimePeriod"] = *o.cpu_rt_period;
  if (o.cpu_rt_runtime) body["CpuRealtimeRuntime"] = *o.cpu_rt_runtime;
  if (!o.cpuset_cpus.empty()) body["CpusetCpus"] = o.cpuset_cpus;
  if (!o.cpuset_mems.empty()) body["CpusetMems"] = o.cpuset_mems;
  if (o.blkio_weight) body["BlkioWeight"] = *o.blkio_weight;
  if (o.pids_limit) body["PidsLimit"] = *o.pids_limit;
  if (!o.restart.empty()) body["RestartPolicy"] = TRY(parse_restart_policy(o.restart));
  if (body.empty()) return fail("you must provide one or more flags when using this command", EINVAL);
  return body;
}

}  // namespace berth::cli
