#include "image/layer_diff.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <algorithm>
#include <map>
#include <memory>
#include <vector>

#include "base/file.h"
#include "base/unique_fd.h"

namespace berth::image {

namespace {

using Entry = std::unique_ptr<archive_entry, void (*)(archive_entry*)>;

bool is_whiteout(const struct stat& st) { return S_ISCHR(st.st_mode) && st.st_rdev == makedev(0, 0); }

bool is_opaque(int dir_fd) {
  char value[2] = {};
  return ::fgetxattr(dir_fd, "trusted.overlay.opaque", value, sizeof value) == 1 && value[0] == 'y';
}

class DiffWriter {
 public:
  explicit DiffWriter(TarWriter& tar) : tar_(tar) {}

  // Writes the entries of the directory dir_fd, at path in the layer ("" for its root).
  Result<void> directory(int dir_fd, const std::string& path) {
    auto names = TRY(list_directory(dir_fd));
    std::ranges::sort(names);
    if (!path.empty() && is_opaque(dir_fd)) TRY(marker(path + "/.wh..wh..opq"));
    for (const auto& name : names) TRY(entry(dir_fd, name, path.empty() ? name : path + "/" + name));
    return {};
  }

  // Writes name (in the directory dir_fd) as path, and what is under it.
  Result<void> entry(int dir_fd, const std::string& name, const std::string& path) {
    struct stat st;
    if (::fstatat(dir_fd, name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) return fail_errno("stat " + path);
    if (S_ISSOCK(st.st_mode)) return {};  // tar cannot hold one; Docker skips them too
    if (is_whiteout(st)) {
      auto slash = path.rfind('/');
      return marker((slash == std::string::npos ? "" : path.substr(0, slash + 1)) + ".wh." + name);
    }
    Entry entry(archive_entry_new(), archive_entry_free);
    archive_entry_set_pathname(entry.get(), path.c_str());
    archive_entry_copy_stat(entry.get(), &st);
    archive_entry_set_uname(entry.get(), "");
    archive_entry_set_gname(entry.get(), "");
    if (S_ISLNK(st.st_mode)) {
      char target[4096];
      ssize_t n = ::readlinkat(dir_fd, name.c_str(), target, sizeof target - 1);
      if (n < 0) return fail_errno("readlink " + path);
      target[n] = 0;
      archive_entry_set_symlink(entry.get(), target);
      return tar_.add_entry(entry.get());
    }
    if (S_ISREG(st.st_mode) && st.st_nlink > 1) {
      // The second name of a file already written is a hard link to it.
      auto key = std::pair{st.st_dev, st.st_ino};
      if (auto first = links_.find(key); first != links_.end()) {
        archive_entry_set_size(entry.get(), 0);
        archive_entry_set_hardlink(entry.get(), first->second.c_str());
        return tar_.add_entry(entry.get());
      }
      links_[key] = path;
    }
    int flags = O_RDONLY | O_NOFOLLOW | O_CLOEXEC | (S_ISDIR(st.st_mode) ? O_DIRECTORY : 0);
    UniqueFd fd;
    if (S_ISDIR(st.st_mode) || S_ISREG(st.st_mode)) {
      fd = UniqueFd(::openat(dir_fd, name.c_str(), flags));
      if (!fd) return fail_errno("open " + path);
      TRY(copy_xattrs(fd.get(), entry.get()));
    }
    if (!S_ISREG(st.st_mode)) archive_entry_set_size(entry.get(), 0);
    TRY(tar_.add_entry(entry.get()));
    if (S_ISREG(st.st_mode)) TRY(content(fd.get(), path));
    if (S_ISDIR(st.st_mode)) TRY(directory(fd.get(), path));
    return {};
  }

 private:
  Result<void> marker(const std::string& path) {
    Entry entry(archive_entry_new(), archive_entry_free);
    archive_entry_set_pathname(entry.get(), path.c_str());
    archive_entry_set_filetype(entry.get(), AE_IFREG);
    archive_entry_set_perm(entry.get(), 0644);
    archive_entry_set_size(entry.get(), 0);
    return tar_.add_entry(entry.get());
  }

  // Extended attributes travel with the file, except overlayfs's own.
  static Result<void> copy_xattrs(int fd, archive_entry* entry) {
    ssize_t size = ::flistxattr(fd, nullptr, 0);
    if (size <= 0) return {};
    std::vector<char> names(static_cast<size_t>(size));
    size = ::flistxattr(fd, names.data(), names.size());
    for (ssize_t at = 0; at < size;) {
      std::string name(names.data() + at);
      at += static_cast<ssize_t>(name.size()) + 1;
      if (name.starts_with("trusted.overlay.")) continue;
      ssize_t len = ::fgetxattr(fd, name.c_str(), nullptr, 0);
      if (len < 0) continue;
      std::vector<char> value(static_cast<size_t>(len));
      len = ::fgetxattr(fd, name.c_str(), value.data(), value.size());
      if (len >= 0) archive_entry_xattr_add_entry(entry, name.c_str(), value.data(), static_cast<size_t>(len));
    }
    return {};
  }

  Result<void> content(int fd, const std::string& path) {
    // Not zero-filled: pages are paid for only as data arrives (page faults are dear).
    auto buf = std::make_unique_for_overwrite<char[]>(1 << 20);
    for (;;) {
      ssize_t n = ::read(fd, buf.get(), (1 << 20));
      if (n < 0) return fail_errno("read " + path);
      if (n == 0) return {};
      TRY(tar_.write_data(std::string_view(buf.get(), static_cast<size_t>(n))));
    }
  }

  TarWriter& tar_;
  std::map<std::pair<dev_t, ino_t>, std::string> links_;
};

}  // namespace

Result<void> write_layer_diff(const std::string& upper, const ByteSink& out) {
  auto root = TRY(open_file(upper, O_RDONLY | O_DIRECTORY));
  TarWriter tar(out);
  TRY(tar.open());
  DiffWriter writer(tar);
  TRY(writer.directory(root.get(), ""));
  return tar.close();
}

Result<void> write_tree(int dir_fd, const std::string& name, const std::string& as, const ByteSink& out) {
  TarWriter tar(out);
  TRY(tar.open());
  DiffWriter writer(tar);
  if (name.empty()) TRY(writer.directory(dir_fd, ""));
  else TRY(writer.entry(dir_fd, name, as));
  return tar.close();
}

}  // namespace berth::image
