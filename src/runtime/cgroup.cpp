#include "runtime/cgroup.h"

#include <signal.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <unistd.h>

#include <chrono>
#include <sstream>
#include <thread>

#include "base/file.h"
#include "runtime/cgroup_impl.h"

#ifndef CGROUP2_SUPER_MAGIC
#define CGROUP2_SUPER_MAGIC 0x63677270
#endif

namespace berth::runtime {

const std::vector<DefaultDeviceRule> kDefaultDeviceRules = {
    {'c', -1, -1, "m"}, {'b', -1, -1, "m"},                       // mknod of anything; access is checked on open
    {'c', 1, 3, "rwm"}, {'c', 1, 5, "rwm"}, {'c', 1, 7, "rwm"},   // null zero full
    {'c', 1, 8, "rwm"}, {'c', 1, 9, "rwm"}, {'c', 5, 0, "rwm"},   // random urandom tty
    {'c', 5, 1, "rwm"}, {'c', 5, 2, "rwm"}, {'c', 136, -1, "rwm"}, // console ptmx pts/*
    {'c', 10, 200, "rwm"},                                        // net/tun
};

uint64_t flat_key_value(const std::string& text, std::string_view key) {
  std::istringstream in(text);
  std::string name;
  uint64_t value = 0;
  while (in >> name >> value)
    if (name == key) return value;
  return 0;
}

bool cgroup_v2_unified() {
  struct statfs fs;
  return ::statfs("/sys/fs/cgroup", &fs) == 0 && fs.f_type == CGROUP2_SUPER_MAGIC;
}

std::vector<CgroupMount> cgroup_mounts() {
  std::vector<CgroupMount> mounts;
  auto text = read_file("/proc/self/mountinfo");
  if (!text) return mounts;
  std::istringstream in(*text);
  std::string line;
  while (std::getline(in, line)) {
    auto sep = line.find(" - ");
    if (sep == std::string::npos) continue;
    std::istringstream pre(line.substr(0, sep)), post(line.substr(sep + 3));
    std::string id, parent, devno, root, mount_point, fstype, source, options;
    pre >> id >> parent >> devno >> root >> mount_point;
    post >> fstype >> source >> options;
    if (fstype == "cgroup") mounts.push_back({mount_point, options, false});
    if (fstype == "cgroup2") mounts.push_back({mount_point, options, true});
  }
  return mounts;
}

std::string own_cgroup(const std::string& controllers) {
  auto text = read_file("/proc/self/cgroup");
  if (!text) return "/";
  std::istringstream in(*text);
  std::string line;
  while (std::getline(in, line)) {
    auto first = line.find(':');
    auto second = line.find(':', first + 1);
    if (first == std::string::npos || second == std::string::npos) continue;
    if (line.substr(first + 1, second - first - 1) == controllers) return line.substr(second + 1);
  }
  return "/";
}

Result<void> write_cgroup_file(const std::string& dir, const std::string& file, const std::string& value) {
  return write_file(dir + "/" + file, value);
}

Result<void> remove_cgroup_dir(const std::string& dir) {
  for (int attempt = 0;; ++attempt) {
    if (::rmdir(dir.c_str()) == 0 || errno == ENOENT) return {};
    if (errno != EBUSY || attempt >= 200) return fail_errno("remove cgroup " + dir);
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
}

Result<void> Cgroup::kill_all(int signal) const {
  auto pids = TRY(processes());
  for (pid_t pid : pids)
    if (::kill(pid, signal) != 0 && errno != ESRCH) return fail_errno("kill " + std::to_string(pid));
  return {};
}

Result<std::unique_ptr<Cgroup>> open_cgroup(const std::string& cgroups_path, const std::string& id) {
  std::string path = cgroups_path.empty() ? "/berth/" + id : cgroups_path;
  if (path.find(':') != std::string::npos)
    return fail("cgroupsPath \"" + path + "\": systemd cgroup paths (slice:prefix:name) need --systemd-cgroup, which is not supported");
  for (std::string_view part : {"/../", "/./"})
    if (("/" + path + "/").find(part) != std::string::npos) return fail("cgroupsPath \"" + path + "\": must not contain . or ..");
  bool relative = !path.starts_with('/');
  if (cgroup_v2_unified()) return make_cgroup_v2(path, relative);
  return make_cgroup_v1(path, relative);
}

}  // namespace berth::runtime
