// Paths inside a root directory (a container's rootfs, a layer being
// unpacked) resolved with openat2(RESOLVE_IN_ROOT), so no symlink inside can
// lead outside.
#pragma once

#include <string>

#include "base/error.h"
#include "base/unique_fd.h"

namespace berth {

// Opens path (absolute, inside root) relative to root_fd, as if root_fd were "/".
Result<UniqueFd> open_in_root(int root_fd, const std::string& path, int flags);

// Makes sure path exists inside root as a directory (or an empty file when
// is_file), creating what is missing, and returns an O_PATH fd to it.
Result<UniqueFd> make_in_root(int root_fd, const std::string& path, bool is_file, mode_t mode = 0755);

// "/proc/self/fd/N": a path the mount syscalls accept for an fd.
std::string fd_path(int fd);

}  // namespace berth
