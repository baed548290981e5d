#include "runtime/devices.h"

#include <fcntl.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "base/safe_path.h"

namespace berth::runtime {

namespace {

const std::vector<oci::Device>& default_devices() {
  static const std::vector<oci::Device> devices = {
      {"c", "/dev/null", 1, 3, 0666, 0, 0},    {"c", "/dev/zero", 1, 5, 0666, 0, 0},
      {"c", "/dev/full", 1, 7, 0666, 0, 0},    {"c", "/dev/random", 1, 8, 0666, 0, 0},
      {"c", "/dev/urandom", 1, 9, 0666, 0, 0}, {"c", "/dev/tty", 5, 0, 0666, 0, 0},
  };
  return devices;
}

Result<void> create_device(int root_fd, const oci::Device& d, bool userns) {
  if (d.path.find("/../") != std::string::npos || d.path.ends_with("/.."))
    return fail("device " + d.path + ": path must not contain ..");
  if (userns) {
    auto target = TRY(make_in_root(root_fd, d.path, true));
    if (::mount(d.path.c_str(), fd_path(target.get()).c_str(), nullptr, MS_BIND, nullptr) != 0)
      return fail_errno("bind mount device " + d.path);
    return {};
  }
  auto slash = d.path.rfind('/');
  auto parent = TRY(make_in_root(root_fd, slash == 0 ? "/" : d.path.substr(0, slash), false));
  UniqueFd dir(::openat(parent.get(), ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!dir) return fail_errno("open parent of " + d.path);
  std::string name = d.path.substr(slash + 1);
  mode_t type = d.type == "b" ? S_IFBLK : d.type == "p" ? S_IFIFO : S_IFCHR;
  mode_t mode = d.file_mode.value_or(0666) & 07777;
  ::unlinkat(dir.get(), name.c_str(), 0);
  dev_t dev = d.type == "p" ? 0 : makedev(static_cast<unsigned>(d.major), static_cast<unsigned>(d.minor));
  if (::mknodat(dir.get(), name.c_str(), type | mode, dev) != 0) return fail_errno("mknod " + d.path);
  if (::fchmodat(dir.get(), name.c_str(), mode, 0) != 0) return fail_errno("chmod " + d.path);
  if (::fchownat(dir.get(), name.c_str(), d.uid.value_or(0), d.gid.value_or(0), AT_SYMLINK_NOFOLLOW) != 0)
    return fail_errno("chown " + d.path);
  return {};
}

}  // namespace

Result<void> create_devices(int root_fd, const std::vector<oci::Device>& devices, bool userns) {
  for (const auto& d : default_devices()) {
    bool overridden = false;
    for (const auto& own : devices) overridden |= own.path == d.path;
    if (!overridden) TRY(create_device(root_fd, d, userns));
  }
  for (const auto& d : devices) TRY(create_device(root_fd, d, userns));
  return {};
}

}  // namespace berth::runtime
