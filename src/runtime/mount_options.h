// Mount options from config.json split into mount(2) flags, propagation
// flags and the filesystem's data string.
#pragma once

#include <string>
#include <vector>

#include "base/error.h"

namespace berth::runtime {

struct MountOptions {
  unsigned long flags = 0;        // MS_RDONLY, MS_NOSUID, …
  unsigned long propagation = 0;  // MS_SHARED, MS_SLAVE, MS_PRIVATE, MS_UNBINDABLE, maybe | MS_REC
  std::string data;               // "mode=755,size=65536k"
  bool bind = false;
  bool recursive = false;    // rbind
  bool tmpcopyup = false;    // copy the image's content into a fresh tmpfs
  bool recursive_ro = false; // rro: read-only for submounts too
};

// Parses an options list; options that are neither flags nor known runtime
// extensions go to data, where the filesystem judges them.
Result<MountOptions> parse_mount_options(const std::vector<std::string>& options);

// Parses a rootfsPropagation value ("rslave", "private", …) into flags.
Result<unsigned long> parse_propagation(std::string_view value);

}  // namespace berth::runtime
