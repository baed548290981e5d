// libarchive reading from a ByteReader: the one place that feeds our byte
// sources (files, request bodies) to libarchive and keeps their own errors.
#pragma once

#include <archive.h>
#include <archive_entry.h>

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "base/error.h"
#include "image/layer.h"

namespace berth::image {

class ArchiveReader {
 public:
  enum class Format {
    kTar,  // tar, possibly compressed
    kRaw,  // any single compressed (or plain) stream, decompressed
  };

  // what names the input in errors: "read layer: Unrecognized archive format".
  ArchiveReader(const ByteReader& input, Format format, std::string what);
  ArchiveReader(const ArchiveReader&) = delete;
  ArchiveReader& operator=(const ArchiveReader&) = delete;

  // The next entry; nullptr at the end of the archive.
  Result<archive_entry*> next();
  archive* get() { return archive_.get(); }
  // Why reading failed: the source's error if it had one, else libarchive's.
  std::unexpected<Error> error();

 private:
  static la_ssize_t read_callback(archive*, void* self, const void** out);

  const ByteReader& input_;
  std::string what_;
  std::unique_ptr<archive, int (*)(archive*)> archive_;
  std::vector<char> buffer_ = std::vector<char>(1 << 20);
  std::optional<Error> source_error_;
  bool opened_ = false;
};

}  // namespace berth::image
