#include "image/tar_writer.h"

#include <fcntl.h>
#include <unistd.h>

#include <memory>
#include <vector>

#include "base/file.h"

namespace berth::image {

TarWriter::TarWriter(const ByteSink& sink) : sink_(sink), archive_(archive_write_new(), archive_write_free) {
  archive_write_set_format_pax_restricted(archive_.get());
  archive_write_set_bytes_per_block(archive_.get(), 0);
}

Result<void> TarWriter::open() {
  if (archive_write_open(archive_.get(), this, nullptr, &TarWriter::write_cb, nullptr) != ARCHIVE_OK) return error("open");
  return {};
}

Result<void> TarWriter::add_directory(const std::string& path) {
  return add_header(path, AE_IFDIR, 0755, 0);
}

Result<void> TarWriter::add_file(const std::string& path, std::string_view data) {
  TRY(add_header(path, AE_IFREG, 0644, static_cast<int64_t>(data.size())));
  if (!data.empty() && archive_write_data(archive_.get(), data.data(), data.size()) < 0) return error("write " + path);
  return {};
}

Result<void> TarWriter::add_file_from(const std::string& path, const std::string& source) {
  auto fd = TRY(open_file(source, O_RDONLY));
  struct stat st;
  if (::fstat(fd.get(), &st) != 0) return fail_errno("stat " + source);
  TRY(add_header(path, AE_IFREG, 0644, st.st_size));
  // Not zero-filled: pages are paid for only as data arrives (page faults are dear).
    auto buf = std::make_unique_for_overwrite<char[]>(1 << 20);
  for (;;) {
    ssize_t n = ::read(fd.get(), buf.get(), (1 << 20));
    if (n < 0) return fail_errno("read " + source);
    if (n == 0) return {};
    if (archive_write_data(archive_.get(), buf.get(), static_cast<size_t>(n)) < 0) return error("write " + path);
  }
}

Result<void> TarWriter::close() {
  if (archive_write_close(archive_.get()) != ARCHIVE_OK) return error("close");
  return {};
}

Result<void> TarWriter::add_header(const std::string& path, mode_t type, mode_t perm, int64_t size) {
  std::unique_ptr<archive_entry, void (*)(archive_entry*)> entry(archive_entry_new(), archive_entry_free);
  archive_entry_set_pathname(entry.get(), path.c_str());
  archive_entry_set_filetype(entry.get(), type);
  archive_entry_set_perm(entry.get(), perm);
  archive_entry_set_size(entry.get(), size);
  archive_entry_set_mtime(entry.get(), 0, 0);
  if (archive_write_header(archive_.get(), entry.get()) != ARCHIVE_OK) return error("write " + path);
  return {};
}

la_ssize_t TarWriter::write_cb(archive*, void* self, const void* buf, size_t size) {
  auto* writer = static_cast<TarWriter*>(self);
  auto written = writer->sink_(std::string_view(static_cast<const char*>(buf), size));
  if (!written) {
    writer->failure_ = written.error();
    return -1;
  }
  return static_cast<la_ssize_t>(size);
}

std::unexpected<Error> TarWriter::error(const std::string& what) {
  if (failure_) return std::unexpected(*failure_);
  return fail("tar: " + what + ": " + archive_error_string(archive_.get()));
}

Result<void> TarWriter::add_entry(archive_entry* entry) {
  if (archive_write_header(archive_.get(), entry) != ARCHIVE_OK) return error(std::string("write ") + archive_entry_pathname(entry));
  return {};
}

Result<void> TarWriter::write_data(std::string_view data) {
  if (!data.empty() && archive_write_data(archive_.get(), data.data(), data.size()) < 0) return error("write data");
  return {};
}

}  // namespace berth::image
