#include "engine/container_spec.h"

#include <arpa/inet.h>
#include <fcntl.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <sstream>

#include "base/file.h"
#include "base/safe_path.h"

namespace berth::engine {

namespace {

constexpr std::array kDefaultCapabilities = {
    "CAP_CHOWN",   "CAP_DAC_OVERRIDE", "CAP_FSETID",  "CAP_FOWNER",           "CAP_MKNOD",      "CAP_NET_RAW",    "CAP_SETGID",
    "CAP_SETUID",  "CAP_SETFCAP",      "CAP_SETPCAP", "CAP_NET_BIND_SERVICE", "CAP_SYS_CHROOT", "CAP_KILL",       "CAP_AUDIT_WRITE",
};

constexpr std::array kAllCapabilities = {
    "CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_DAC_READ_SEARCH", "CAP_FOWNER", "CAP_FSETID", "CAP_KILL", "CAP_SETGID", "CAP_SETUID",
    "CAP_SETPCAP", "CAP_LINUX_IMMUTABLE", "CAP_NET_BIND_SERVICE", "CAP_NET_BROADCAST", "CAP_NET_ADMIN", "CAP_NET_RAW",
    "CAP_IPC_LOCK", "CAP_IPC_OWNER", "CAP_SYS_MODULE", "CAP_SYS_RAWIO", "CAP_SYS_CHROOT", "CAP_SYS_PTRACE", "CAP_SYS_PACCT",
    "CAP_SYS_ADMIN", "CAP_SYS_BOOT", "CAP_SYS_NICE", "CAP_SYS_RESOURCE", "CAP_SYS_TIME", "CAP_SYS_TTY_CONFIG", "CAP_MKNOD",
    "CAP_LEASE", "CAP_AUDIT_WRITE", "CAP_AUDIT_CONTROL", "CAP_SETFCAP", "CAP_MAC_OVERRIDE", "CAP_MAC_ADMIN", "CAP_SYSLOG",
    "CAP_WAKE_ALARM", "CAP_BLOCK_SUSPEND", "CAP_AUDIT_READ", "CAP_PERFMON", "CAP_BPF", "CAP_CHECKPOINT_RESTORE",
};

constexpr std::array kMaskedPaths = {"/proc/asound",     "/proc/acpi",         "/proc/kcore",        "/proc/keys",
                                     "/proc/latency_stats", "/proc/timer_list", "/proc/timer_stats", "/proc/sched_debug",
                                     "/proc/scsi",       "/sys/firmware",      "/sys/devices/virtual/powercap"};
constexpr std::array kReadonlyPaths = {"/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger"};

std::unexpected<Error> invalid(const std::string& message) { return fail(message, EINVAL); }

std::vector<std::string> strings(const Json& j) {
  std::vector<std::string> out;
  if (j.is_array())
    for (const auto& v : j)
      if (v.is_string()) out.push_back(v.get<std::string>());
  return out;
}

// KEY=VALUE entries of overrides replace those of base with the same KEY.
std::vector<std::string> merge_env(std::vector<std::string> base, const Json& overrides) {
  for (const auto& e : strings(overrides)) {
    std::string key = e.substr(0, e.find('='));
    std::erase_if(base, [&](const std::string& old) { return old.substr(0, old.find('=')) == key; });
    base.push_back(e);
  }
  return base;
}

// "CHOWN", "cap_chown" or "CAP_CHOWN" → "CAP_CHOWN"; "ALL" stays.
std::string cap_name(std::string name) {
  std::transform(name.begin(), name.end(), name.begin(), [](unsigned char c) { return std::toupper(c); });
  if (name == "ALL" || name.starts_with("CAP_")) return name;
  return "CAP_" + name;
}

Result<Json> capabilities(const Json& host) {
  std::vector<std::string> caps;
  if (field(host, "Privileged") == true) {
    caps.assign(kAllCapabilities.begin(), kAllCapabilities.end());
  } else {
    caps.assign(kDefaultCapabilities.begin(), kDefaultCapabilities.end());
    auto known = [](const std::string& c) { return c == "ALL" || std::ranges::find(kAllCapabilities, c) != kAllCapabilities.end(); };
    std::vector<std::string> add, drop;
    for (const auto& c : strings(field(host, "CapAdd"))) add.push_back(cap_name(c));
    for (const auto& c : strings(field(host, "CapDrop"))) drop.push_back(cap_name(c));
    for (const auto& c : add)
      if (!known(c)) return invalid("invalid CapAdd: unknown capability: \"" + c + "\"");
    for (const auto& c : drop)
      if (!known(c)) return invalid("invalid CapDrop: unknown capability: \"" + c + "\"");
    // Docker: drop ALL first, then add; adding ALL gives everything.
    if (std::ranges::find(drop, "ALL") != drop.end()) caps.clear();
    if (std::ranges::find(add, "ALL") != add.end()) caps.assign(kAllCapabilities.begin(), kAllCapabilities.end());
    for (const auto& c : add)
      if (c != "ALL" && std::ranges::find(caps, c) == caps.end()) caps.push_back(c);
    std::erase_if(caps, [&](const std::string& c) { return std::ranges::find(drop, c) != drop.end() && std::ranges::find(add, c) == add.end(); });
  }
  return Json{{"bounding", caps}, {"effective", caps}, {"permitted", caps}};
}

std::vector<Json> default_mounts(const Json& host) {
  int64_t shm = integer_field(host, "ShmSize");
  if (shm <= 0) shm = 64 << 20;
  return {
      {{"destination", "/proc"}, {"type", "proc"}, {"source", "proc"}, {"options", {"nosuid", "noexec", "nodev"}}},
      {{"destination", "/dev"}, {"type", "tmpfs"}, {"source", "tmpfs"}, {"options", {"nosuid", "strictatime", "mode=755", "size=65536k"}}},
      {{"destination", "/dev/pts"}, {"type", "devpts"}, {"source", "devpts"},
       {"options", {"nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620", "gid=5"}}},
      {{"destination", "/sys"}, {"type", "sysfs"}, {"source", "sysfs"}, {"options", {"nosuid", "noexec", "nodev", "ro"}}},
      {{"destination", "/sys/fs/cgroup"}, {"type", "cgroup"}, {"source", "cgroup"}, {"options", {"ro", "nosuid", "noexec", "nodev"}}},
      {{"destination", "/dev/mqueue"}, {"type", "mqueue"}, {"source", "mqueue"}, {"options", {"nosuid", "noexec", "nodev"}}},
      {{"destination", "/dev/shm"}, {"type", "tmpfs"}, {"source", "shm"},
       {"options", {"nosuid", "noexec", "nodev", "mode=1777", "size=" + std::to_string(shm)}}},
  };
}

// HostConfig.Tmpfs: {"/run": "rw,size=64m"}.
void tmpfs_mounts(const Json& host, std::vector<Json>& mounts) {
  Json tmpfs = field(host, "Tmpfs");
  if (!tmpfs.is_object()) return;
  for (const auto& [path, opts] : tmpfs.items()) {
    std::vector<std::string> options = {"nosuid", "nodev", "noexec"};
    std::stringstream in(opts.is_string() ? opts.get<std::string>() : "");
    for (std::string o; std::getline(in, o, ',');)
      if (!o.empty()) options.push_back(o);
    std::erase_if(mounts, [&](const Json& m) { return m["destination"] == path; });
    mounts.push_back({{"destination", path}, {"type", "tmpfs"}, {"source", "tmpfs"}, {"options", options}});
  }
}

Result<Json> resources(const Json& host) {
  Json r = {{"devices", {{{"allow", false}, {"access", "rwm"}}}}};
  int64_t memory = integer_field(host, "Memory");
  int64_t swap = integer_field(host, "MemorySwap");
  if (memory < 0) return invalid("invalid memory limit");
  if (memory > 0 && memory < 6 * 1024 * 1024) return invalid("Minimum memory limit allowed is 6MB");
  if (swap > 0 && memory == 0) return invalid("You should always set the Memory limit when using Memoryswap limit, see usage");
  if (swap > 0 && swap < memory) return invalid("Minimum memoryswap limit should be larger than memory limit, see usage");
  if (memory > 0) {
    r["memory"]["limit"] = memory;
    // Docker's default: as much swap as memory (memory+swap = twice the memory).
    r["memory"]["swap"] = swap == 0 ? 2 * memory : swap;
  }
  if (int64_t reservation = integer_field(host, "MemoryReservation"); reservation > 0) r["memory"]["reservation"] = reservation;
  if (int64_t shares = integer_field(host, "CpuShares"); shares > 0) r["cpu"]["shares"] = shares;
  int64_t nano = integer_field(host, "NanoCpus");
  if (nano < 0) return invalid("invalid value for cpus");
  if (nano > 0) {
    if (integer_field(host, "CpuQuota") > 0 || integer_field(host, "CpuPeriod") > 0)
      return invalid("Conflicting options: Nano CPUs and CPU Period cannot both be set");
    r["cpu"]["period"] = 100000;
    r["cpu"]["quota"] = nano * 100000 / 1000000000;
  }
  if (int64_t quota = integer_field(host, "CpuQuota"); quota > 0) r["cpu"]["quota"] = quota;
  if (int64_t period = integer_field(host, "CpuPeriod"); period > 0) r["cpu"]["period"] = period;
  if (Json cpus = field(host, "CpusetCpus"); cpus.is_string() && !cpus.get<std::string>().empty()) r["cpu"]["cpus"] = cpus;
  if (Json mems = field(host, "CpusetMems"); mems.is_string() && !mems.get<std::string>().empty()) r["cpu"]["mems"] = mems;
  if (Json pids = field(host, "PidsLimit"); pids.is_number_integer() && pids.get<int64_t>() != 0) r["pids"]["limit"] = pids;
  return r;
}

bool zero_value(const Json& v) {
  return v.is_null() || v == 0 || v == false || (v.is_string() && v.get<std::string>().empty()) ||
         ((v.is_array() || v.is_object()) && v.empty());
}

Result<Json> rlimits(const Json& host) {
  Json out = Json::array();
  Json ulimits = field(host, "Ulimits");
  if (!ulimits.is_array()) return out;
  for (const auto& u : ulimits) {
    std::string name = u.value("Name", "");
    if (name.empty()) return invalid("invalid ulimit: missing name");
    std::string type = "RLIMIT_" + name;
    std::transform(type.begin(), type.end(), type.begin(), [](unsigned char c) { return std::toupper(c); });
    int64_t soft = u.value("Soft", int64_t{0}), hard = u.value("Hard", int64_t{0});
    if (soft > hard) return invalid("ulimit soft limit must be less than or equal to hard limit: " + std::to_string(soft) + " > " + std::to_string(hard));
    out.push_back({{"type", type}, {"soft", soft}, {"hard", hard}});
  }
  return out;
}

// The namespaces: pid/ipc/uts/network "host" shares the host's; "container:ID"
// is resolved by the engine before this (path given in the mode as "path:…").
Result<Json> namespaces(const Json& host) {
  Json out = Json::array({{{"type", "mount"}}, {{"type", "cgroup"}}});
  auto add = [&](const char* key, const char* type) -> Result<void> {
    Json mode = field(host, key);
    std::string m = mode.is_string() ? mode.get<std::string>() : "";
    if (m == "host") return {};
    if (m.starts_with("path:")) {
      out.push_back({{"type", type}, {"path", m.substr(5)}});
      return {};
    }
    if (!m.empty() && m != "private" && m != "shareable" && m != "none" && m != "default" && m != "bridge")
      return invalid(std::string("invalid ") + key + ": " + m);
    out.push_back({{"type", type}});
    return {};
  };
  TRY(add("PidMode", "pid"));
  TRY(add("IpcMode", "ipc"));
  TRY(add("UTSMode", "uts"));
  TRY(add("NetworkMode", "network"));
  return out;
}

}  // namespace

Result<void> validate_restart_policy(const Json& host_config) {
  Json policy = field(host_config, "RestartPolicy");
  if (!policy.is_object()) return {};
  std::string name = string_field(policy, "Name");
  if (!name.empty() && name != "no" && name != "always" && name != "unless-stopped" && name != "on-failure")
    return invalid("invalid restart policy: " + name);
  if (name != "on-failure" && integer_field(policy, "MaximumRetryCount") != 0)
    return invalid("invalid restart policy: maximum retry count can only be used with 'on-failure'");
  if (integer_field(policy, "MaximumRetryCount") < 0) return invalid("invalid restart policy: maximum retry count cannot be negative");
  if (field(host_config, "AutoRemove") == true && !name.empty() && name != "no")
    return invalid("can't create 'AutoRemove' container with restart policy");
  return {};
}

Result<ResourceUpdate> update_resources(const Json& host_config, const Json& body) {
  static constexpr std::array kUpdatable = {"Memory",   "MemorySwap", "MemoryReservation", "NanoCpus",   "CpuShares",
                                            "CpuPeriod", "CpuQuota",  "CpusetCpus",        "CpusetMems", "PidsLimit",
                                            "RestartPolicy"};
  if (!body.is_object()) return invalid("the update must be a JSON object");
  for (const auto& [key, value] : body.items())
    if (std::ranges::find(kUpdatable, key) == kUpdatable.end() && !zero_value(value))
      return invalid("updating " + key + " is not supported");

  Json host = host_config.is_object() ? host_config : Json::object();
  int64_t memory = integer_field(body, "Memory"), swap = integer_field(body, "MemorySwap");
  if (memory != 0 && swap == 0 && integer_field(host, "MemorySwap") > 0 && memory > integer_field(host, "MemorySwap"))
    return invalid("Memory limit should be smaller than already set memoryswap limit, update the memoryswap at the same time");
  if (integer_field(body, "NanoCpus") != 0) {
    if (integer_field(host, "CpuPeriod") > 0) return invalid("Conflicting options: Nano CPUs cannot be updated as CPU Period has already been set");
    if (integer_field(host, "CpuQuota") > 0) return invalid("Conflicting options: Nano CPUs cannot be updated as CPU Quota has already been set");
  }
  if (integer_field(host, "NanoCpus") > 0) {
    if (integer_field(body, "CpuPeriod") != 0) return invalid("Conflicting options: CPU Period cannot be updated as NanoCPUs has already been set");
    if (integer_field(body, "CpuQuota") != 0) return invalid("Conflicting options: CPU Quota cannot be updated as NanoCPUs has already been set");
  }
  // Zero means "unchanged", as in Docker; PidsLimit is absent when unchanged.
  for (const char* key : {"Memory", "MemorySwap", "MemoryReservation", "NanoCpus", "CpuShares", "CpuPeriod", "CpuQuota",
                          "CpusetCpus", "CpusetMems"})
    if (!zero_value(field(body, key))) host[key] = body[key];
  Json pids = field(body, "PidsLimit");
  if (!pids.is_null() && !pids.is_number_integer()) return invalid("PidsLimit must be an integer");
  if (pids.is_number_integer()) host["PidsLimit"] = std::max<int64_t>(pids.get<int64_t>(), 0);
  if (Json policy = field(body, "RestartPolicy"); policy.is_object() && !string_field(policy, "Name").empty()) {
    if (field(host, "AutoRemove") == true && string_field(policy, "Name") != "no")
      return invalid("Restart policy cannot be updated because AutoRemove is enabled for the container");
    host["RestartPolicy"] = policy;
    TRY(validate_restart_policy(host));
  }

  Json patch = TRY(resources(host));
  patch.erase("devices");
  if (pids.is_number_integer() && pids.get<int64_t>() <= 0) patch["pids"]["limit"] = -1;
  return ResourceUpdate{std::move(host), std::move(patch)};
}

Json merge_image_config(Json config, const Json& image_config) {
  Json image = field(image_config, "config");
  if (!image.is_object()) return config;
  auto empty = [](const Json& v) { return v.is_null() || ((v.is_array() || v.is_object() || v.is_string()) && v.empty()); };
  for (const char* key : {"User", "WorkingDir", "StopSignal", "Domainname"})
    if (empty(field(config, key)) && !empty(field(image, key))) config[key] = image[key];
  if (empty(field(config, "Entrypoint"))) {
    if (empty(field(config, "Cmd"))) config["Cmd"] = field(image, "Cmd");
    if (field(config, "Entrypoint").is_null()) config["Entrypoint"] = field(image, "Entrypoint");
  }
  if (field(config, "Entrypoint") == Json::array({""})) config["Entrypoint"] = nullptr;  // --entrypoint "": none at all
  config["Env"] = merge_env(strings(field(image, "Env")), field(config, "Env"));
  for (const char* key : {"Labels", "ExposedPorts", "Volumes"}) {
    Json merged = field(image, key).is_object() ? image[key] : Json::object();
    if (field(config, key).is_object()) merged.update(config[key]);
    if (!merged.empty() || config.contains(key)) config[key] = merged;
  }
  return config;
}

Result<std::vector<std::string>> process_args(const Json& image_config, const Json& config) {
  Json image = field(image_config, "config");
  Json entrypoint = field(config, "Entrypoint");
  Json cmd = field(config, "Cmd");
  std::vector<std::string> args;
  if (entrypoint.is_array()) {
    args = strings(entrypoint);  // a given entrypoint resets the image's Cmd
  } else {
    args = strings(field(image, "Entrypoint"));
    if (!cmd.is_array()) cmd = field(image, "Cmd");
  }
  for (const auto& c : strings(cmd)) args.push_back(c);
  if (args.empty()) return invalid("No command specified");
  return args;
}

Result<Json> exec_process(const Json& spec, const std::string& rootfs, const Json& exec) {
  Json process = field(spec, "process");
  if (!process.is_object()) return invalid("the container has no process");
  std::vector<std::string> args = strings(field(exec, "Cmd"));
  if (args.empty()) return invalid("No exec command specified");
  process["args"] = args;
  process["terminal"] = field(exec, "Tty") == true;
  process["env"] = merge_env(strings(field(process, "env")), field(exec, "Env"));
  if (Json cwd = field(exec, "WorkingDir"); cwd.is_string() && !cwd.get<std::string>().empty()) {
    if (!cwd.get<std::string>().starts_with('/')) return invalid("the working directory '" + cwd.get<std::string>() + "' is invalid, it needs to be an absolute path");
    process["cwd"] = cwd;
  }
  if (Json user = field(exec, "User"); user.is_string() && !user.get<std::string>().empty()) {
    auto resolved = TRY(resolve_user(rootfs, user.get<std::string>()));
    process["user"] = {{"uid", resolved.uid}, {"gid", resolved.gid}, {"additionalGids", resolved.additional_gids}};
  }
  if (field(exec, "Privileged") == true) process["capabilities"] = TRY(capabilities({{"Privileged", true}}));
  process.erase("consoleSize");
  return process;
}

Result<ResolvedUser> resolve_user(const std::string& rootfs, const std::string& user, const std::vector<std::string>& group_add) {
  ResolvedUser out;
  auto root = TRY(open_file(rootfs, O_PATH | O_DIRECTORY));
  auto read_in_root = [&](const char* path) -> std::string {
    auto fd = open_in_root(root.get(), path, O_RDONLY);
    if (!fd) return "";
    return read_fd(fd->get()).value_or("");
  };
  auto rows = [](const std::string& text) {
    std::vector<std::vector<std::string>> out;
    std::stringstream in(text);
    for (std::string line; std::getline(in, line);) {
      std::vector<std::string> fields;
      std::stringstream fs(line);
      for (std::string f; std::getline(fs, f, ':');) fields.push_back(f);
      if (fields.size() >= 3) out.push_back(fields);
    }
    return out;
  };
  auto numeric = [](const std::string& s) { return !s.empty() && s.find_first_not_of("0123456789") == std::string::npos; };
  std::string name = user.substr(0, user.find(':'));
  std::string group = user.find(':') == std::string::npos ? "" : user.substr(user.find(':') + 1);
  auto passwd = rows(read_in_root("/etc/passwd"));
  auto groups = rows(read_in_root("/etc/group"));
  bool found = false;
  for (const auto& p : passwd) {
    if (p.size() < 4) continue;
    if ((numeric(name) && p[2] == name) || (!numeric(name) && p[0] == name) || (name.empty() && p[2] == "0")) {
      out.uid = static_cast<uint32_t>(std::stoul(p[2]));
      out.gid = static_cast<uint32_t>(std::stoul(p[3]));
      if (p.size() >= 6 && !p[5].empty()) out.home = p[5];
      found = true;
      break;
    }
  }
  if (!found) {
    if (!name.empty() && !numeric(name)) return invalid("unable to find user " + name + ": no matching entries in passwd file");
    out.uid = name.empty() ? 0 : static_cast<uint32_t>(std::stoul(name));
    out.gid = out.uid == 0 ? 0 : out.uid;
  }
  auto group_id = [&](const std::string& group) -> Result<uint32_t> {
    for (const auto& g : groups)
      if ((numeric(group) && g[2] == group) || g[0] == group) return static_cast<uint32_t>(std::stoul(g[2]));
    if (!numeric(group)) return invalid("unable to find group " + group + ": no matching entries in group file");
    return static_cast<uint32_t>(std::stoul(group));
  };
  if (!group.empty()) out.gid = TRY(group_id(group));
  // Supplementary groups: those that list the user by name.
  std::string user_name;
  for (const auto& p : passwd)
    if (p[2] == std::to_string(out.uid)) user_name = p[0];
  for (const auto& g : groups) {
    if (g.size() < 4 || user_name.empty()) continue;
    std::stringstream members(g[3]);
    for (std::string m; std::getline(members, m, ',');)
      if (m == user_name) out.additional_gids.push_back(static_cast<uint32_t>(std::stoul(g[2])));
  }
  // --group-add: names from the container's /etc/group, or numbers.
  for (const auto& extra : group_add) out.additional_gids.push_back(TRY(group_id(extra)));
  return out;
}

namespace {

bool is_ip(const std::string& text) {
  unsigned char buf[16];
  return ::inet_pton(AF_INET, text.c_str(), buf) == 1 || ::inet_pton(AF_INET6, text.c_str(), buf) == 1;
}

bool host_network(const Json& host_config) { return string_field(host_config, "NetworkMode") == "host"; }

}  // namespace

Result<std::string> hosts_file(std::string base, const Json& host_config) {
  auto extra = strings(field(host_config, "ExtraHosts"));
  if (!extra.empty() && host_network(host_config))
    return invalid("conflicting options: custom host-to-IP mapping and the network mode");
  if (!base.empty() && !base.ends_with('\n')) base += '\n';
  for (const auto& entry : extra) {
    size_t sep = entry.find_first_of("=:");
    std::string name = entry.substr(0, sep), ip = sep == std::string::npos ? "" : entry.substr(sep + 1);
    if (ip.starts_with('[') && ip.ends_with(']')) ip = ip.substr(1, ip.size() - 2);
    if (name.empty() || ip.empty()) return invalid("bad format for add-host: \"" + entry + "\"");
    if (ip == "host-gateway") return invalid("add-host " + entry + ": host-gateway needs the bridge network, which berth does not provide yet");
    if (!is_ip(ip)) return invalid("invalid IP address in add-host: \"" + ip + "\"");
    base += ip + "\t" + name + "\n";
  }
  return base;
}

Result<std::string> resolv_conf(const std::string& host_resolv, const Json& host_config) {
  auto dns = strings(field(host_config, "Dns"));
  auto search = strings(field(host_config, "DnsSearch"));
  auto options = strings(field(host_config, "DnsOptions"));
  if ((!dns.empty() || !search.empty() || !options.empty()) && host_network(host_config))
    return invalid("conflicting options: dns and the network mode");
  for (const auto& ip : dns)
    if (!is_ip(ip)) return invalid("invalid IP address in dns: \"" + ip + "\"");
  std::string out;
  std::stringstream in(host_resolv);
  for (std::string line; std::getline(in, line);) {
    std::string key = line.substr(0, line.find_first_of(" \t"));
    if ((key == "nameserver" && !dns.empty()) || ((key == "search" || key == "domain") && !search.empty()) ||
        (key == "options" && !options.empty()))
      continue;
    out += line + "\n";
  }
  auto joined = [](const std::vector<std::string>& items) {
    std::string text;
    for (const auto& item : items) text += " " + item;
    return text;
  };
  for (const auto& ip : dns) out += "nameserver " + ip + "\n";
  // "." alone means no search domains at all, as in Docker.
  if (!search.empty() && !(search.size() == 1 && search[0] == ".")) out += "search" + joined(search) + "\n";
  if (!options.empty()) out += "options" + joined(options) + "\n";
  return out;
}

Result<Json> make_runtime_spec(const SpecInput& in) {
  const Json& image = field(in.image_config, "config");
  const Json& config = in.config;
  const Json& host = in.host_config;

  auto args = TRY(process_args(in.image_config, config));
  std::vector<std::string> env = merge_env(strings(field(image, "Env")), field(config, "Env"));
  if (std::ranges::none_of(env, [](const std::string& e) { return e.starts_with("PATH="); }))
    env.insert(env.begin(), "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin");
  std::string hostname = field(config, "Hostname").is_string() && !config["Hostname"].get<std::string>().empty()
                             ? config["Hostname"].get<std::string>() : in.id.substr(0, 12);
  env.insert(env.begin() + 1, "HOSTNAME=" + hostname);
  bool tty = field(config, "Tty") == true;
  if (tty && std::ranges::none_of(env, [](const std::string& e) { return e.starts_with("TERM="); })) env.push_back("TERM=xterm");

  std::string user = field(config, "User").is_string() && !config["User"].get<std::string>().empty()
                         ? config["User"].get<std::string>() : field(image, "User").is_string() ? image["User"].get<std::string>() : "";
  auto resolved = TRY(resolve_user(in.rootfs, user, strings(field(host, "GroupAdd"))));
  if (std::ranges::none_of(env, [](const std::string& e) { return e.starts_with("HOME="); })) env.push_back("HOME=" + resolved.home);
  std::string cwd = field(config, "WorkingDir").is_string() && !config["WorkingDir"].get<std::string>().empty()
                        ? config["WorkingDir"].get<std::string>() : field(image, "WorkingDir").is_string() ? image["WorkingDir"].get<std::string>() : "";
  if (cwd.empty()) cwd = "/";
  if (!cwd.starts_with('/')) return invalid("the working directory '" + cwd + "' is invalid, it needs to be an absolute path");

  bool privileged = field(host, "Privileged") == true;
  Json process = {{"terminal", tty},
                  {"user", {{"uid", resolved.uid}, {"gid", resolved.gid}, {"additionalGids", resolved.additional_gids}}},
                  {"args", args},
                  {"env", env},
                  {"cwd", cwd},
                  {"capabilities", TRY(capabilities(host))},
                  {"rlimits", TRY(rlimits(host))},
                  {"noNewPrivileges", false}};
  for (const auto& opt : strings(field(host, "SecurityOpt"))) {
    if (opt == "no-new-privileges" || opt == "no-new-privileges:true" || opt == "no-new-privileges=true") process["noNewPrivileges"] = true;
    else if (opt == "no-new-privileges:false" || opt == "no-new-privileges=false") process["noNewPrivileges"] = false;
    else return invalid("invalid --security-opt: \"" + opt + "\"");
  }
  if (Json adj = field(host, "OomScoreAdj"); adj.is_number_integer() && adj.get<int64_t>() != 0) {
    if (adj.get<int64_t>() < -1000 || adj.get<int64_t>() > 1000) return invalid("Invalid value " + adj.dump() + ", range for oom score adj is [-1000, 1000]");
    process["oomScoreAdj"] = adj;
  }

  std::vector<Json> mounts = default_mounts(host);
  tmpfs_mounts(host, mounts);
  Json linux = {{"namespaces", TRY(namespaces(host))},
                {"resources", TRY(resources(host))},
                {"cgroupsPath", in.cgroup_parent + "/" + in.id},
                {"maskedPaths", privileged ? Json::array() : Json(kMaskedPaths)},
                {"readonlyPaths", privileged ? Json::array() : Json(kReadonlyPaths)}};
  if (privileged) linux["resources"]["devices"] = {{{"allow", true}, {"access", "rwm"}}};
  if (Json sysctls = field(host, "Sysctls"); sysctls.is_object() && !sysctls.empty()) linux["sysctl"] = sysctls;

  Json spec = {{"ociVersion", "1.0.2"},
               {"process", process},
               {"root", {{"path", in.rootfs}, {"readonly", field(host, "ReadonlyRootfs") == true}}},
               {"mounts", mounts},
               {"linux", linux}};
  bool host_uts = field(host, "UTSMode") == "host";
  if (!host_uts) spec["hostname"] = hostname;
  if (Json domain = field(config, "Domainname"); domain.is_string() && !domain.get<std::string>().empty() && !host_uts) spec["domainname"] = domain;
  Json labels = field(config, "Labels");
  if (labels.is_object()) {
    Json annotations = Json::object();
    for (const auto& [k, v] : labels.items())
      if (v.is_string()) annotations[k] = v;
    if (!annotations.empty()) spec["annotations"] = annotations;
  }
  return spec;
}

}  // namespace berth::engine
