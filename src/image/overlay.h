// overlayfs mounts of an image's layers (read-only, lowest first) under a
// writable upper directory: a container's root filesystem.
#pragma once

#include <string>
#include <vector>

#include "base/error.h"

namespace berth::image {

struct OverlayDirs {
  std::vector<std::string> lower;  // layer directories, lowest first
  std::string upper;               // the writable layer
  std::string work;                // overlayfs scratch, on the upper's filesystem
};

// Mounts the overlay on target. Layers are passed one by one through the
// new mount API ("lowerdir+", Linux 6.8+), so any number fits; on older
// kernels the classic option string is used with short relative names (as
// Docker's l/ links), built in a child process so the daemon's working
// directory never changes.
Result<void> mount_overlay(const OverlayDirs& dirs, const std::string& target);

// Unmounts target (lazily if busy).
Result<void> unmount(const std::string& target);

}  // namespace berth::image
