#include "runtime/state.h"

#include <dirent.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>

#include "base/file.h"
#include "runtime/cgroup.h"

namespace berth::runtime {

std::string status_text(Status status) {
  switch (status) {
    case Status::kCreating: return "creating";
    case Status::kCreated: return "created";
    case Status::kRunning: return "running";
    case Status::kPaused: return "paused";
    case Status::kStopped: return "stopped";
  }
  return "unknown";
}

Result<void> validate_id(const std::string& id) {
  if (id.empty()) return fail("container id must not be empty");
  if (id.size() > 1024 || id == "." || id == ".." ||
      id.find_first_not_of("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_+-.") != std::string::npos)
    return fail("invalid container id \"" + id + "\": use letters, digits and _+-.");
  return {};
}

std::optional<uint64_t> process_start_time(pid_t pid) {
  auto stat = read_file("/proc/" + std::to_string(pid) + "/stat");
  if (!stat) return std::nullopt;
  // The command name may hold spaces and parentheses: fields start after the last ')'.
  auto close = stat->rfind(')');
  if (close == std::string::npos) return std::nullopt;
  char state = 0;
  unsigned long long start = 0;
  // state is field 3, starttime field 22: 19 fields after state.
  const char* p = stat->c_str() + close + 2;
  if (std::sscanf(p, "%c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %*u %*u %*d %*d %*d %*d %*d %*d %llu", &state, &start) != 2)
    return std::nullopt;
  if (state == 'Z' || state == 'X') return std::nullopt;
  return start;
}

bool process_alive(const ContainerRecord& record) {
  if (record.pid <= 0) return false;
  auto start = process_start_time(record.pid);
  return start && *start == record.pid_start_time;
}

Result<void> StateStore::reserve(const std::string& id) {
  TRY(make_dirs(root_, 0700));
  if (::mkdir(dir(id).c_str(), 0700) != 0) {
    if (errno == EEXIST) return fail("container with id \"" + id + "\" already exists");
    return fail_errno("create state directory " + dir(id));
  }
  return {};
}

Result<void> StateStore::save(const ContainerRecord& r) {
  Json j = {{"id", r.id},           {"pid", r.pid},         {"pid_start_time", r.pid_start_time},
            {"bundle", r.bundle},   {"rootfs", r.rootfs},   {"created", r.created},
            {"owner", r.owner},     {"config", r.config}};
  // The containers do not outlive a reboot, so neither need their state.
  return write_file_atomic(dir(r.id) + "/state.json", j.dump(), 0600, /*durable=*/false);
}

Result<ContainerRecord> StateStore::load(const std::string& id) const {
  TRY(validate_id(id));
  auto text = read_file(dir(id) + "/state.json");
  if (!text) {
    if (text.error().code() == ENOENT) return fail("container \"" + id + "\" does not exist", ENOENT);
    return std::unexpected(text.error());
  }
  auto j = TRY_CTX(parse_json(*text), "state of " + id);
  ContainerRecord r;
  try {
    r.id = j.at("id").get<std::string>();
    r.pid = j.at("pid").get<pid_t>();
    r.pid_start_time = j.at("pid_start_time").get<uint64_t>();
    r.bundle = j.at("bundle").get<std::string>();
    r.rootfs = j.at("rootfs").get<std::string>();
    r.created = j.at("created").get<std::string>();
    r.owner = j.at("owner").get<uid_t>();
    r.config = j.at("config");
  } catch (const Json::exception& e) {
    return fail("state of " + id + ": " + e.what());
  }
  return r;
}

Result<void> StateStore::remove(const std::string& id) { return remove_all(dir(id)); }

Result<std::vector<std::string>> StateStore::list() const {
  std::vector<std::string> ids;
  DIR* d = ::opendir(root_.c_str());
  if (!d) {
    if (errno == ENOENT) return ids;
    return fail_errno("open " + root_);
  }
  while (dirent* entry = ::readdir(d)) {
    std::string name = entry->d_name;
    if (name == "." || name == "..") continue;
    if (path_exists(dir(name) + "/state.json")) ids.push_back(name);
  }
  ::closedir(d);
  std::ranges::sort(ids);
  return ids;
}

Status StateStore::status(const ContainerRecord& record) const {
  if (!process_alive(record)) return Status::kStopped;
  if (path_exists(fifo_path(record.id))) return Status::kCreated;
  std::string cgroups_path = record.config.value("/linux/cgroupsPath"_json_pointer, std::string());
  if (auto cgroup = open_cgroup(cgroups_path, record.id); cgroup && (*cgroup)->frozen()) return Status::kPaused;
  return Status::kRunning;
}

}  // namespace berth::runtime
