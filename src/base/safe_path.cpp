#include "base/safe_path.h"

#include <fcntl.h>
#include <linux/openat2.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

namespace berth {

std::string fd_path(int fd) { return "/proc/self/fd/" + std::to_string(fd); }

Result<UniqueFd> open_in_root(int root_fd, const std::string& path, int flags) {
  open_how how{};
  how.flags = static_cast<uint64_t>(flags | O_CLOEXEC);
  how.resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS;
  std::string relative = path;
  while (relative.starts_with('/')) relative.erase(0, 1);
  if (relative.empty()) relative = ".";
  for (;;) {
    int fd = static_cast<int>(::syscall(SYS_openat2, root_fd, relative.c_str(), &how, sizeof how));
    if (fd >= 0) return UniqueFd(fd);
    if (errno != EAGAIN && errno != EINTR) return fail_errno("open " + path + " in rootfs");
  }
}

namespace {

Result<UniqueFd> make_in_root_at_depth(int root_fd, const std::string& path, bool is_file, mode_t mode, int depth) {
  if (depth > 40) return fail("create " + path + " in rootfs: too many levels of symbolic links", ELOOP);
  if (auto fd = open_in_root(root_fd, path, O_PATH)) return fd;
  else if (fd.error().code() != ENOENT) return std::unexpected(fd.error());

  std::string trimmed = path;
  while (trimmed.size() > 1 && trimmed.ends_with('/')) trimmed.pop_back();
  auto slash = trimmed.rfind('/');
  std::string parent = slash == 0 || slash == std::string::npos ? "/" : trimmed.substr(0, slash);
  std::string name = trimmed.substr(slash + 1);
  if (name.empty() || name == "." || name == "..") return fail("invalid path " + path + " in rootfs");
  auto parent_fd = TRY(make_in_root_at_depth(root_fd, parent, false, 0755, depth + 1));
  auto dir = TRY(open_in_root(parent_fd.get(), ".", O_RDONLY | O_DIRECTORY));
  if (is_file) {
    int fd = ::openat(dir.get(), name.c_str(), O_CREAT | O_WRONLY | O_NOFOLLOW | O_CLOEXEC, 0644);
    if (fd < 0 && errno != EEXIST) return fail_errno("create " + path + " in rootfs");
    if (fd >= 0) ::close(fd);
  } else if (::mkdirat(dir.get(), name.c_str(), mode) != 0 && errno != EEXIST) {
    return fail_errno("mkdir " + path + " in rootfs");
  }
  // A dangling symlink (often absolute, meant for inside the container):
  // create what it points to, resolved inside the rootfs.
  char target[4096];
  ssize_t n = ::readlinkat(dir.get(), name.c_str(), target, sizeof target - 1);
  if (n > 0) {
    target[n] = 0;
    std::string next = target[0] == '/' ? std::string(target) : parent + "/" + target;
    return make_in_root_at_depth(root_fd, next, is_file, mode, depth + 1);
  }
  return open_in_root(root_fd, path, O_PATH);
}

}  // namespace

Result<UniqueFd> make_in_root(int root_fd, const std::string& path, bool is_file, mode_t mode) {
  return make_in_root_at_depth(root_fd, path, is_file, mode, 0);
}

}  // namespace berth
