#include "image/archive_reader.h"

namespace berth::image {

ArchiveReader::ArchiveReader(const ByteReader& input, Format format, std::string what)
    : input_(input), what_(std::move(what)), archive_(archive_read_new(), archive_read_free) {
  archive_read_support_filter_all(archive_.get());
  if (format == Format::kRaw) {
    archive_read_support_format_raw(archive_.get());
  } else {
    archive_read_support_format_tar(archive_.get());
    archive_read_support_format_gnutar(archive_.get());
  }
}

la_ssize_t ArchiveReader::read_callback(archive*, void* self, const void** out) {
  auto* reader = static_cast<ArchiveReader*>(self);
  auto n = reader->input_(reader->buffer_.data(), reader->buffer_.size());
  if (!n) {
    reader->source_error_ = n.error();
    return -1;
  }
  *out = reader->buffer_.data();
  return static_cast<la_ssize_t>(*n);
}

std::unexpected<Error> ArchiveReader::error() {
  if (source_error_) return std::unexpected(*source_error_);
  const char* message = archive_error_string(archive_.get());
  return fail(what_ + ": " + (message ? message : "unknown error"), EINVAL);
}

Result<archive_entry*> ArchiveReader::next() {
  if (!opened_) {
    if (archive_read_open(archive_.get(), this, nullptr, &ArchiveReader::read_callback, nullptr) != ARCHIVE_OK)
      return error();
    opened_ = true;
  }
  archive_entry* entry = nullptr;
  int rc = archive_read_next_header(archive_.get(), &entry);
  if (rc == ARCHIVE_EOF) return nullptr;
  if (rc != ARCHIVE_OK && rc != ARCHIVE_WARN) return error();
  return entry;
}

}  // namespace berth::image
