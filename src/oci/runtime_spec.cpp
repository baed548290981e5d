#include "oci/runtime_spec.h"

#include <algorithm>
#include <array>

#include "oci/json_reader.h"

namespace berth::oci {

static std::string join_path(const std::string& path, const char* key) { return path.empty() ? key : path + "." + key; }

Result<void> read_value(const Json& j, const std::string& path, ConsoleSize& out) {
  TRY(expect_object(j, path));
  TRY(read_required(j, "height", path, out.height));
  TRY(read_required(j, "width", path, out.width));
  return {};
}

Result<void> read_value(const Json& j, const std::string& path, User& out) {
  TRY(expect_object(j, path));
  TRY(read_required(j, "uid", path, out.uid));
  TRY(read_required(j, "gid", path, out.gid));
  TRY(read_field(j, "umask", path, out.umask));
  TRY(read_field(j, "additionalGids", path, out.additional_gids));
  return {};
}

Result<void> read_value(const Json& j, const std::string& path, Capabilities& out) {
  TRY(expect_object(j, path));
  TRY(read_field(j, "bounding", path, out.bounding));
  TRY(read_field(j, "effective", path, out.effective));
  TRY(read_field(j, "inheritable", path, out.inheritable));
  TRY(read_field(j, "permitted", path, out.permitted));
  TRY(read_field(j, "ambient", path, out.ambient));
  return {};
}

Result<void> read_value(const Json& j, const std::string& path, Rlimit& out) {
  TRY(expect_object(j, path));
  TRY(read_required(j, "type", path, out.type));
  TRY(read_required(j, "soft", path, out.soft));
  TRY(read_required(j, "hard", path, out.hard));
  if (!out.type.starts_with("RLIMIT_")) return fail(path + ".type: unknown rlimit \"" + out.type + "\"");
  return {};
}

Result<void> read_value(const Json& j, const std::string& path, IoPriority& out) {
  TRY(expect_object(j, path));
  TRY(read_required(j, "class", path, out.klass));
  TRY(read_field(j, "priority", path, out.priority));
  if (out.klass != "IOPRIO_CLASS_RT" && out.klass != "IOPRIO_CLASS_BE" && out.klass != "IOPRIO_CLASS_IDLE")
    return fail(path + ".class: unknown class \"" + out.klass + "\"");
  return {};
}

Result<void> read_value(const Json& j, const std::string& path, Process& out) {
  TRY(expect_object(j, path));
  TRY(read_field(j, "terminal", path, out.terminal));
  TRY(read_field(j, "consoleSize", path, out.console_size));
  TRY(read_required(j, "user", path, out.user));
  TRY(read_field(j, "args", path, out.args));
  if (out.args.empty()) return fail(join_path(path, "args") + ": must be a non-empty array");
  TRY(read_field(j, "env", path, out.env));
  TRY(read_required(j, "cwd", path, out.cwd));
  if (!out.cwd.starts_with('/')) return fail(join_path(path, "cwd") + ": must be an absolute path");
  TRY(read_field(j, "capabilities", path, out.capabilities));
  TRY(read_field(j, "rlimits", path, out.rlimits));
  TRY(read_field(j, "noNewPrivileges", path, out.no_new_privileges));
  TRY(read_field(j, "apparmorProfile", path, out.apparmor_profile));
  TRY(read_field(j, "oomScoreAdj", path, out.oom_score_adj));
  if (out.oom_score_adj && (*out.oom_score_adj < -1000 || *out.oom_score_adj > 1000))
    return fail(join_path(path, "oomScoreAdj") + ": must be between -1000 and 1000");
  TRY(read_field(j, "selinuxLabel", path, out.selinux_label));
  TRY(read_field(j, "ioPriority", path, out.io_priority));
  if (j.contains("scheduler")) return fail(join_path(path, "scheduler") + ": not supported");
  return {};
}

Result<void> read_value(const Json& j, const std::string& path, Root& out) {
  TRY(expect_object(j, path));
  TRY(read_required(j, "path", path, out.path));
  if (out.path.empty()) return fail(path + ".path: must not be empty");
  TRY(read_field(j, "readonly", path, out.readonly));
  return {};
}

Result<void> read_value(const Json& j, const std::string& path, IdMapping& out) {
  TRY(expect_object(j, path));
  TRY(read_required(j, "containerID", path, out.container_id));
  TRY(read_required(j, "hostID", path, out.host_id));
  TRY(read_required(j, "size", path, out.size));
  return {};
}

Result<void> read_value(const Json& j, const std::string& path, Mount& out) {
  TRY(expect_object(j, path));
  TRY(read_required(j, "destination", path, out.destination));
  if (!out.destination.starts_with('/')) return fail(path + ".destination: must be an absolute path");
  TRY(read_field(j, "type", path, out.type));
  TRY(read_field(j, "source", path, out.source));
  TRY(read_field(j, "options", path, out.options));
  if (j.contains("uidMappings") || j.contains("gidMappings"))
    return fail(path + ": idmapped mounts (uidMappings/gidMappings) are not supported");
  return {};
}

Result<void> read_value(const Json& j, const std::string& path, Hook& out) {
  TRY(expect_object(j, path));
  TRY(read_required(j, "path", path, out.path));
  if (!out.path.starts_with('/')) return fail(path + ".path: must be an absolute path");
  TRY(read_field(j, "args", path, out.args));
  TRY(read_field(j, "env", path, out.env));
  TRY(read_field(j, "timeout", path, out.timeout));
  if (out.timeout && *out.timeout <= 0) return fail(path + ".timeout: must be greater than zero");
  return {};
}

Result<void> read_value(const Json& j, const std::string& path, Hooks& out) {
  TRY(expect_object(j, path));
  TRY(read_field(j, "prestart", path, out.prestart));
  TRY(read_field(j, "createRuntime", path, out.create_runtime));
  TRY(read_field(j, "createContainer", path, out.create_container));
  TRY(read_field(j, "startContainer", path, out.start_container));
  TRY(read_field(j, "poststart", path, out.poststart));
  TRY(read_field(j, "poststop", path, out.poststop));
  return {};
}

static constexpr std::array kNamespaceTypes = {"pid", "network", "mount", "ipc", "uts", "user", "cgroup", "time"};

Result<void> read_value(const Json& j, const std::string& path, Namespace& out) {
  TRY(expect_object(j, path));
  TRY(read_required(j, "type", path, out.type));
  if (std::ranges::find(kNamespaceTypes, out.type) == kNamespaceTypes.end())
    return fail(path + ".type: unknown namespace type \"" + out.type + "\"");
  TRY(read_field(j, "path", path, out.path));
  return {};
}

Result<void> read_value(const Json& j, const std::string& path, Device& out) {
  TRY(expect_object(j, path));
  TRY(read_required(j, "type", path, out.type));
  if (out.type != "c" && out.type != "b" && out.type != "u" && out.type != "p")
    return fail(path + ".type: must be one of c, b, u, p");
  TRY(read_required(j, "path", path, out.path));
  if (!out.path.starts_with('/')) return fail(path + ".path: must be an absolute path");
  if (out.type != "p") {
    TRY(read_required(j, "major", path, out.major));
    TRY(read_required(j, "minor", path, out.minor));
  }
  TRY(read_field(j, "fileMode", path, out.file_mode));
  TRY(read_field(j, "uid", path, out.uid));
  TRY(read_field(j, "gid", path, out.gid));
  return {};
}

Result<void> read_value(const Json& j, const std::string& path, DeviceRule& out) {
  TRY(expect_object(j, path));
  TRY(read_required(j, "allow", path, out.allow));
  TRY(read_field(j, "type", path, out.type));
  if (!out.type.empty() && out.type != "a" && out.type != "c" && out.type != "b")
    return fail(path + ".type: must be one of a, c, b");
  TRY(read_field(j, "major", path, out.major));
  TRY(read_field(j, "minor", path, out.minor));
  TRY(read_field(j, "access", path, out.access));
  if (out.access.find_first_not_of("rwm") != std::string::npos) return fail(path + ".access: must be made of r, w, m");
  return {};
}

Result<void> read_value(const Json& j, const std::string& path, MemoryResources& out) {
  TRY(expect_object(j, path));
  TRY(read_field(j, "limit", path, out.limit));
  TRY(read_field(j, "reservation", path, out.reservation));
  TRY(read_field(j, "swap", path, out.swap));
  TRY(read_field(j, "kernel", path, out.kernel));
  TRY(read_field(j, "kernelTCP", path, out.kernel_tcp));
  TRY(read_field(j, "swappiness", path, out.swappiness));
  TRY(read_field(j, "disableOOMKiller", path, out.disable_oom_killer));
  if (out.swappiness && *out.swappiness > 100) return fail(path + ".swappiness: must be between 0 and 100");
  return {};
}

Result<void> read_value(const Json& j, const std::string& path, CpuResources& out) {
  TRY(expect_object(j, path));
  TRY(read_field(j, "shares", path, out.shares));
  TRY(read_field(j, "quota", path, out.quota));
  TRY(read_field(j, "period", path, out.period));
  TRY(read_field(j, "realtimeRuntime", path, out.realtime_runtime));
  TRY(read_field(j, "realtimePeriod", path, out.realtime_period));
  TRY(read_field(j, "cpus", path, out.cpus));
  TRY(read_field(j, "mems", path, out.mems));
  return {};
}

Result<void> read_value(const Json& j, const std::string& path, HugepageLimit& out) {
  TRY(expect_object(j, path));
  TRY(read_required(j, "pageSize", path, out.page_size));
  TRY(read_required(j, "limit", path, out.limit));
  return {};
}

Result<void> read_value(const Json& j, const std::string& path, WeightDevice& out) {
  TRY(expect_object(j, path));
  TRY(read_required(j, "major", path, out.major));
  TRY(read_required(j, "minor", path, out.minor));
  TRY(read_field(j, "weight", path, out.weight));
  TRY(read_field(j, "leafWeight", path, out.leaf_weight));
  return {};
}

Result<void> read_value(const Json& j, const std::string& path, ThrottleDevice& out) {
  TRY(expect_object(j, path));
  TRY(read_required(j, "major", path, out.major));
  TRY(read_required(j, "minor", path, out.minor));
  TRY(read_required(j, "rate", path, out.rate));
  return {};
}

Result<void> read_value(const Json& j, const std::string& path, BlockIo& out) {
  TRY(expect_object(j, path));
  TRY(read_field(j, "weight", path, out.weight));
  TRY(read_field(j, "leafWeight", path, out.leaf_weight));
  TRY(read_field(j, "weightDevice", path, out.weight_device));
  TRY(read_field(j, "throttleReadBpsDevice", path, out.throttle_read_bps_device));
  TRY(read_field(j, "throttleWriteBpsDevice", path, out.throttle_write_bps_device));
  TRY(read_field(j, "throttleReadIOPSDevice", path, out.throttle_read_iops_device));
  TRY(read_field(j, "throttleWriteIOPSDevice", path, out.throttle_write_iops_device));
  return {};
}

Result<void> read_value(const Json& j, const std::string& path, NetworkResources& out) {
  TRY(expect_object(j, path));
  TRY(read_field(j, "classID", path, out.class_id));
  if (auto it = j.find("priorities"); it != j.end() && !it->is_null()) {
    if (!it->is_array()) return type_error(path + ".priorities", "an array");
    for (size_t i = 0; i < it->size(); ++i) {
      std::string item_path = path + ".priorities[" + std::to_string(i) + "]";
      const Json& item = (*it)[i];
      TRY(expect_object(item, item_path));
      std::pair<std::string, uint32_t> prio;
      TRY(read_required(item, "name", item_path, prio.first));
      TRY(read_required(item, "priority", item_path, prio.second));
      out.priorities.push_back(prio);
    }
  }
  return {};
}

Result<void> read_value(const Json& j, const std::string& path, Resources& out) {
  TRY(expect_object(j, path));
  TRY(read_field(j, "devices", path, out.devices));
  TRY(read_field(j, "memory", path, out.memory));
  TRY(read_field(j, "cpu", path, out.cpu));
  if (auto it = j.find("pids"); it != j.end() && !it->is_null()) {
    TRY(expect_object(*it, path + ".pids"));
    int64_t limit = 0;
    TRY(read_required(*it, "limit", path + ".pids", limit));
    out.pids_limit = limit;
  }
  TRY(read_field(j, "blockIO", path, out.block_io));
  TRY(read_field(j, "hugepageLimits", path, out.hugepage_limits));
  TRY(read_field(j, "network", path, out.network));
  TRY(read_field(j, "unified", path, out.unified));
  if (j.contains("rdma")) return fail(path + ".rdma: not supported");
  return {};
}

Result<void> read_value(const Json& j, const std::string& path, SeccompArg& out) {
  TRY(expect_object(j, path));
  TRY(read_required(j, "index", path, out.index));
  TRY(read_required(j, "value", path, out.value));
  TRY(read_field(j, "valueTwo", path, out.value_two));
  TRY(read_required(j, "op", path, out.op));
  if (out.index > 5) return fail(path + ".index: must be between 0 and 5");
  return {};
}

Result<void> read_value(const Json& j, const std::string& path, SeccompSyscall& out) {
  TRY(expect_object(j, path));
  TRY(read_required(j, "names", path, out.names));
  if (out.names.empty()) return fail(path + ".names: must be a non-empty array");
  TRY(read_required(j, "action", path, out.action));
  TRY(read_field(j, "errnoRet", path, out.errno_ret));
  TRY(read_field(j, "args", path, out.args));
  return {};
}

Result<void> read_value(const Json& j, const std::string& path, Seccomp& out) {
  TRY(expect_object(j, path));
  TRY(read_required(j, "defaultAction", path, out.default_action));
  TRY(read_field(j, "defaultErrnoRet", path, out.default_errno_ret));
  TRY(read_field(j, "architectures", path, out.architectures));
  TRY(read_field(j, "flags", path, out.flags));
  TRY(read_field(j, "listenerPath", path, out.listener_path));
  TRY(read_field(j, "syscalls", path, out.syscalls));
  return {};
}

Result<void> read_value(const Json& j, const std::string& path, Linux& out) {
  TRY(expect_object(j, path));
  TRY(read_field(j, "namespaces", path, out.namespaces));
  for (size_t i = 0; i < out.namespaces.size(); ++i)
    for (size_t k = 0; k < i; ++k)
      if (out.namespaces[i].type == out.namespaces[k].type)
        return fail(path + ".namespaces[" + std::to_string(i) + "]: duplicate namespace \"" + out.namespaces[i].type + "\"");
  TRY(read_field(j, "uidMappings", path, out.uid_mappings));
  TRY(read_field(j, "gidMappings", path, out.gid_mappings));
  TRY(read_field(j, "devices", path, out.devices));
  TRY(read_field(j, "cgroupsPath", path, out.cgroups_path));
  TRY(read_field(j, "resources", path, out.resources));
  TRY(read_field(j, "rootfsPropagation", path, out.rootfs_propagation));
  TRY(read_field(j, "seccomp", path, out.seccomp));
  TRY(read_field(j, "sysctl", path, out.sysctl));
  TRY(read_field(j, "maskedPaths", path, out.masked_paths));
  TRY(read_field(j, "readonlyPaths", path, out.readonly_paths));
  TRY(read_field(j, "mountLabel", path, out.mount_label));
  for (const char* unsupported : {"intelRdt", "timeOffsets", "personality"})
    if (j.contains(unsupported)) return fail(path + "." + unsupported + ": not supported");
  bool has_userns = out.find_namespace("user") != nullptr;
  if (!has_userns && (!out.uid_mappings.empty() || !out.gid_mappings.empty()))
    return fail(path + ".uidMappings: requires a user namespace");
  return {};
}

const Namespace* Linux::find_namespace(std::string_view type) const {
  for (const auto& ns : namespaces)
    if (ns.type == type) return &ns;
  return nullptr;
}

Result<Spec> parse_spec_json(const Json& doc) {
  Spec spec;
  TRY(expect_object(doc, ""));
  TRY(read_required(doc, "ociVersion", "", spec.oci_version));
  TRY(read_field(doc, "process", "", spec.process));
  TRY(read_required(doc, "root", "", spec.root));
  TRY(read_field(doc, "hostname", "", spec.hostname));
  TRY(read_field(doc, "domainname", "", spec.domainname));
  TRY(read_field(doc, "mounts", "", spec.mounts));
  TRY(read_field(doc, "hooks", "", spec.hooks));
  TRY(read_field(doc, "annotations", "", spec.annotations));
  TRY(read_field(doc, "linux", "", spec.linux));
  if (!spec.linux) spec.linux.emplace();
  if (!spec.hostname.empty() && !spec.linux->find_namespace("uts")) return fail("hostname: requires a uts namespace");
  return spec;
}

Result<Spec> parse_spec(std::string_view json_text) {
  auto doc = TRY(parse_json(json_text));
  return parse_spec_json(doc);
}

Result<Process> parse_process(std::string_view json_text) {
  auto doc = TRY(parse_json(json_text));
  Process process;
  TRY(read_value(doc, "process", process));
  return process;
}

Result<Resources> parse_resources(const Json& doc) {
  Resources resources;
  TRY(read_value(doc, "resources", resources));
  return resources;
}

Json state_to_json(const State& state) {
  Json j = {{"ociVersion", state.oci_version}, {"id", state.id},         {"status", state.status},
            {"pid", state.pid},                {"bundle", state.bundle}};
  if (!state.annotations.empty()) j["annotations"] = state.annotations;
  return j;
}

}  // namespace berth::oci
