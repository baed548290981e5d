#include "image/overlay.h"

#include <fcntl.h>
#include <linux/mount.h>
#include <sys/mount.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "base/file.h"
#include "base/unique_fd.h"

namespace berth::image {

namespace {

Result<void> set_string(int fs, const char* key, const std::string& value) {
  if (::syscall(SYS_fsconfig, fs, FSCONFIG_SET_STRING, key, value.c_str(), 0) != 0)
    return fail_errno(std::string("overlay option ") + key + "=" + value);
  return {};
}

// The new mount API: each lower layer its own fsconfig call.
Result<void> mount_with_fsconfig(const OverlayDirs& dirs, const std::string& target) {
  UniqueFd fs(static_cast<int>(::syscall(SYS_fsopen, "overlay", FSOPEN_CLOEXEC)));
  if (!fs) return fail_errno("fsopen overlay");
  // Highest layer first, as overlayfs stacks lowerdir.
  for (auto it = dirs.lower.rbegin(); it != dirs.lower.rend(); ++it) TRY(set_string(fs.get(), "lowerdir+", *it));
  TRY(set_string(fs.get(), "upperdir", dirs.upper));
  TRY(set_string(fs.get(), "workdir", dirs.work));
  if (::syscall(SYS_fsconfig, fs.get(), FSCONFIG_CMD_CREATE, nullptr, nullptr, 0) != 0) return fail_errno("create overlay");
  UniqueFd mnt(static_cast<int>(::syscall(SYS_fsmount, fs.get(), FSMOUNT_CLOEXEC, 0)));
  if (!mnt) return fail_errno("fsmount overlay");
  if (::syscall(SYS_move_mount, mnt.get(), "", AT_FDCWD, target.c_str(), MOVE_MOUNT_F_EMPTY_PATH) != 0)
    return fail_errno("mount overlay on " + target);
  return {};
}

// The classic mount(2) option string, with lower paths relative to their
// common parent so that long stacks stay under the one-page limit.
Result<void> mount_with_options(const OverlayDirs& dirs, const std::string& target) {
  // The longest directory all layers are under.
  std::string parent = dirs.lower.front();
  for (const auto& dir : dirs.lower)
    while (!parent.empty() && !dir.starts_with(parent + "/")) parent.resize(parent.rfind('/') == std::string::npos ? 0 : parent.rfind('/'));
  if (parent.empty()) parent = "/";
  std::string lower;
  for (auto it = dirs.lower.rbegin(); it != dirs.lower.rend(); ++it)
    lower += (lower.empty() ? "" : ":") + it->substr(parent == "/" ? 1 : parent.size() + 1);
  std::string options = "lowerdir=" + lower + ",upperdir=" + dirs.upper + ",workdir=" + dirs.work;
  if (options.size() >= static_cast<size_t>(::getpagesize())) return fail("overlay: too many layers for this kernel's mount options");
  pid_t pid = ::fork();
  if (pid < 0) return fail_errno("fork");
  if (pid == 0) {
    // Relative lowerdir paths are resolved against the mounting process's cwd.
    if (::chdir(parent.c_str()) != 0) ::_exit(errno);
    ::_exit(::mount("overlay", target.c_str(), "overlay", 0, options.c_str()) == 0 ? 0 : errno);
  }
  int status = 0;
  ::waitpid(pid, &status, 0);
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) return fail_errno("mount overlay on " + target, WIFEXITED(status) ? WEXITSTATUS(status) : EIO);
  return {};
}

}  // namespace

Result<void> mount_overlay(const OverlayDirs& dirs, const std::string& target) {
  if (dirs.lower.empty()) return fail("overlay: no layers");
  auto mounted = mount_with_fsconfig(dirs, target);
  // "lowerdir+" is new in Linux 6.8; before that fsconfig refuses it.
  if (!mounted && (mounted.error().code() == EINVAL || mounted.error().code() == ENOSYS))
    return mount_with_options(dirs, target);
  return mounted;
}

Result<void> unmount(const std::string& target) {
  if (::umount2(target.c_str(), 0) == 0) return {};
  if (errno == EBUSY && ::umount2(target.c_str(), MNT_DETACH) == 0) return {};
  return fail_errno("unmount " + target);
}

}  // namespace berth::image
