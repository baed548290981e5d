// From what `docker create` sends (Config and HostConfig, as the Engine API
// shapes them) and the image's config, the OCI runtime spec that
// berth-runtime runs: Docker's defaults for mounts, capabilities, masked
// paths and devices, and the user's overrides.
#pragma once

#include <string>

#include "base/error.h"
#include "base/json.h"

namespace berth::engine {

struct SpecInput {
  std::string id;          // container ID (64 hex)
  std::string rootfs;      // the mounted root filesystem
  Json image_config;       // the image's config (its "config" part is the defaults)
  Json config;             // Engine API Config
  Json host_config;        // Engine API HostConfig
  std::string cgroup_parent = "/berth";
};

// The runtime spec as JSON (what berth-runtime reads from config.json).
// Errors name the bad field the way Docker's daemon does.
Result<Json> make_runtime_spec(const SpecInput& input);

// The container's Config completed from the image's, as Docker does at
// create: Cmd and Entrypoint (unless the container sets an Entrypoint), Env
// by key, Labels, ExposedPorts, Volumes, User, WorkingDir, StopSignal.
Json merge_image_config(Json config, const Json& image_config);

// The process arguments: Entrypoint + Cmd, the container's overriding the
// image's (a given Entrypoint drops the image's Cmd).
Result<std::vector<std::string>> process_args(const Json& image_config, const Json& config);

// The process of an exec (Engine API ExecConfig: Cmd, Env, User,
// WorkingDir, Tty, Privileged) in a container started with spec: the
// container's process with those changes.
Result<Json> exec_process(const Json& spec, const std::string& rootfs, const Json& exec_config);

// HostConfig.RestartPolicy checked as Docker's daemon does at create.
Result<void> validate_restart_policy(const Json& host_config);

// Docker's update (POST /containers/{id}/update): the fields body sets
// replace the container's, checked as at create; patch is what changes in
// the running container's linux.resources.
struct ResourceUpdate {
  Json host_config;
  Json patch;
};
Result<ResourceUpdate> update_resources(const Json& host_config, const Json& body);

// The container's /etc/hosts: base (loopback entries, or the host's file
// with --network host) plus HostConfig.ExtraHosts ("name:ip", "name=ip").
Result<std::string> hosts_file(std::string base, const Json& host_config);
// The container's /etc/resolv.conf: the host's, with the nameservers, search
// domains and options that HostConfig.Dns, DnsSearch and DnsOptions give.
Result<std::string> resolv_conf(const std::string& host_resolv, const Json& host_config);

// "uid", "uid:gid", "name" or "name:group", resolved against the rootfs's
// /etc/passwd and /etc/group (read inside the rootfs); group_add
// (--group-add) adds groups by name or number.
struct ResolvedUser {
  uint32_t uid = 0, gid = 0;
  std::vector<uint32_t> additional_gids;
  std::string home = "/";
};
Result<ResolvedUser> resolve_user(const std::string& rootfs, const std::string& user, const std::vector<std::string>& group_add = {});

}  // namespace berth::engine
