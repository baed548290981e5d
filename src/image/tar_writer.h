// Writing tar streams through libarchive to a ByteSink: image archives
// (save) and layer tars (diff).
#pragma once

#include <archive.h>
#include <archive_entry.h>
#include <sys/stat.h>

#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "base/error.h"

namespace berth::image {

using ByteSink = std::function<Result<void>(std::string_view)>;

class TarWriter {
 public:
  explicit TarWriter(const ByteSink& sink);
  TarWriter(const TarWriter&) = delete;
  TarWriter& operator=(const TarWriter&) = delete;

  Result<void> open();
  Result<void> add_directory(const std::string& path);
  Result<void> add_file(const std::string& path, std::string_view data);
  // A regular file copied from disk in pieces, for layers too big to hold in memory.
  Result<void> add_file_from(const std::string& path, const std::string& source);
  // An entry described by the caller (any type, metadata, link target);
  // for a regular file, its content follows through write_data().
  Result<void> add_entry(archive_entry* entry);
  Result<void> write_data(std::string_view data);
  Result<void> close();

 private:
  Result<void> add_header(const std::string& path, mode_t type, mode_t perm, int64_t size);
  static la_ssize_t write_cb(archive*, void* self, const void* buf, size_t size);
  std::unexpected<Error> error(const std::string& what);

  const ByteSink& sink_;
  std::unique_ptr<archive, int (*)(archive*)> archive_;
  std::optional<Error> failure_;
};

}  // namespace berth::image
