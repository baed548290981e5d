// Writing small tar archives for tests, entry by entry.
#pragma once

#include <archive.h>
#include <archive_entry.h>
#include <sys/stat.h>

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace berth::image {

struct Entry {
  std::string path;
  mode_t type = AE_IFREG;
  std::string content;  // file data, or the link target
  bool hardlink = false;
  mode_t perm = 0644;
};

// Writes a tar (optionally compressed) of entries to path.
inline void write_tar(const std::string& path, const std::vector<Entry>& entries, const char* filter = nullptr) {
  archive* a = archive_write_new();
  archive_write_set_format_pax_restricted(a);
  if (filter) archive_write_add_filter_by_name(a, filter);
  ASSERT_EQ(archive_write_open_filename(a, path.c_str()), ARCHIVE_OK);
  for (const auto& e : entries) {
    archive_entry* entry = archive_entry_new();
    archive_entry_set_pathname(entry, e.path.c_str());
    if (e.hardlink) {
      archive_entry_set_hardlink(entry, e.content.c_str());
    } else {
      archive_entry_set_filetype(entry, e.type);
      archive_entry_set_perm(entry, e.type == AE_IFDIR && e.perm == 0644 ? 0755 : e.perm);
      if (e.type == AE_IFLNK) archive_entry_set_symlink(entry, e.content.c_str());
      if (e.type == AE_IFREG) archive_entry_set_size(entry, static_cast<la_int64_t>(e.content.size()));
    }
    archive_entry_set_mtime(entry, 1700000000, 0);
    archive_write_header(a, entry);
    if (e.type == AE_IFREG && !e.hardlink) archive_write_data(a, e.content.data(), e.content.size());
    archive_entry_free(entry);
  }
  archive_write_close(a);
  archive_write_free(a);
}

}  // namespace berth::image
