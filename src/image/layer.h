// Applying a layer tar (plain, gzip, zstd, xz) to a directory, with Docker's
// whiteouts and with path safety: no entry can write outside the directory,
// whatever `..`, absolute paths, symlinks or hard links it uses.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "base/error.h"
#include "base/file.h"

namespace berth::image {

enum class WhiteoutMode {
  kApply,    // delete what a whiteout names: flatten layers into one tree
  kOverlay,  // keep whiteouts as overlayfs sees them (0/0 char devices, opaque xattr)
};

struct ApplyStats {
  uint64_t entries = 0;
  uint64_t bytes = 0;  // content of regular files
};

// Unpacks the archive read from fd into dest (an existing directory).
Result<ApplyStats> apply_layer(int fd, const std::string& dest, WhiteoutMode mode);

// Streams the decompressed bytes of input (gzip, zstd, xz, bzip2 or none) to sink.
Result<void> decompress(const ByteReader& input, const std::function<Result<void>(std::string_view)>& sink);

// The archive path split into its components, "./" and "/" prefixes dropped;
// an error if a ".." would leave the layer.
Result<std::vector<std::string>> layer_path_components(std::string_view path);

}  // namespace berth::image
