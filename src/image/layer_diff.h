// A layer tar from an overlayfs upper directory: what a container changed,
// as `commit` and `build` record it. Files and directories as they are,
// overlayfs whiteouts (0/0 character devices) as ".wh.NAME", opaque
// directories (trusted.overlay.opaque=y) with a ".wh..wh..opq" entry.
#pragma once

#include <string>

#include "base/error.h"
#include "image/tar_writer.h"

namespace berth::image {

// Writes the diff of upper to out, entries sorted by name so the same
// changes give the same tar (and digest).
Result<void> write_layer_diff(const std::string& upper, const ByteSink& out);

// A tar of what is in a directory (export, cp): the entry `name` in the
// directory dir_fd, named `as` in the tar, with everything under it; or,
// with an empty name, the directory's whole content at the top.
Result<void> write_tree(int dir_fd, const std::string& name, const std::string& as, const ByteSink& out);

}  // namespace berth::image
