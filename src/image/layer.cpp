#include "image/layer.h"

#include <archive.h>
#include <archive_entry.h>
#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <array>
#include <memory>
#include <optional>
#include <set>
#include <vector>

#include "base/file.h"
#include "base/safe_path.h"
#include "image/archive_reader.h"

namespace berth::image {

namespace {

constexpr std::string_view kWhiteoutPrefix = ".wh.";
constexpr std::string_view kOpaqueMarker = ".wh..wh..opq";

std::string join(const std::vector<std::string>& parts, size_t count) {
  std::string out;
  for (size_t i = 0; i < count; ++i) out += "/" + parts[i];
  return out.empty() ? "/" : out;
}

// Removes name (a file or a whole tree) from the directory dir_fd.
Result<void> remove_entry(int dir_fd, const std::string& name) {
  if (::unlinkat(dir_fd, name.c_str(), 0) == 0 || errno == ENOENT) return {};
  if (errno != EISDIR) return fail_errno("remove " + name);
  UniqueFd sub(::openat(dir_fd, name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
  if (!sub) return fail_errno("open " + name);
  for (const auto& child : TRY_CTX(list_directory(sub.get()), name)) TRY(remove_entry(sub.get(), child));
  if (::unlinkat(dir_fd, name.c_str(), AT_REMOVEDIR) != 0) return fail_errno("remove " + name);
  return {};
}

class LayerWriter {
 public:
  LayerWriter(UniqueFd root, WhiteoutMode mode) : root_(std::move(root)), mode_(mode) {}

  Result<void> apply(archive* in, archive_entry* entry, ApplyStats& stats) {
    std::string name = archive_entry_pathname(entry) ? archive_entry_pathname(entry) : "";
    auto parts = TRY_CTX(layer_path_components(name), "layer entry \"" + name + "\"");
    if (parts.empty()) return {};  // the layer's root itself
    std::string base = parts.back();
    std::string parent_path = join(parts, parts.size() - 1);
    auto parent = TRY(make_in_root(root_.get(), parent_path, false));
    ++stats.entries;

    if (base == kOpaqueMarker) return opaque(parent.get(), parent_path);
    if (base.starts_with(kWhiteoutPrefix)) return whiteout(parent.get(), base.substr(kWhiteoutPrefix.size()));
    std::string path = join(parts, parts.size());
    written_.insert(path);

    mode_t type = archive_entry_filetype(entry);
    if (const char* link = archive_entry_hardlink(entry)) return hardlink(parent.get(), base, link);
    // Whatever was there goes, except a directory that stays a directory.
    struct stat existing;
    bool exists = ::fstatat(parent.get(), base.c_str(), &existing, AT_SYMLINK_NOFOLLOW) == 0;
    if (exists && !(type == AE_IFDIR && S_ISDIR(existing.st_mode))) TRY(remove_entry(parent.get(), base));

    mode_t perm = archive_entry_perm(entry);
    switch (type) {
      case AE_IFDIR:
        if (!(exists && S_ISDIR(existing.st_mode)) && ::mkdirat(parent.get(), base.c_str(), 0700) != 0)
          return fail_errno("mkdir " + path);
        break;
      case AE_IFREG:
        TRY(write_file_entry(in, parent.get(), base, path, archive_entry_size(entry), stats));
        break;
      case AE_IFLNK:
        if (::symlinkat(archive_entry_symlink(entry), parent.get(), base.c_str()) != 0) return fail_errno("symlink " + path);
        break;
      case AE_IFCHR:
      case AE_IFBLK:
      case AE_IFIFO:
        if (::mknodat(parent.get(), base.c_str(), type | perm, makedev(archive_entry_rdevmajor(entry), archive_entry_rdevminor(entry))) != 0)
          return fail_errno("mknod " + path);
        break;
      default:
        return fail("layer entry \"" + name + "\": unsupported file type");
    }
    return set_metadata(entry, parent.get(), base, path, type);
  }

  // Directory times change as entries land in them: set them last.
  Result<void> finish() {
    for (const auto& [path, times] : directory_times_) {
      auto fd = TRY(open_in_root(root_.get(), path, O_PATH | O_DIRECTORY));
      if (::utimensat(fd.get(), "", times.data(), AT_EMPTY_PATH) != 0) return fail_errno("set times of " + path);
    }
    return {};
  }

 private:
  Result<void> write_file_entry(archive* in, int parent, const std::string& base, const std::string& path, int64_t file_size,
                               ApplyStats& stats) {
    UniqueFd out(::openat(parent, base.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600));
    if (!out) return fail_errno("create " + path);
    const void* block;
    size_t size;
    la_int64_t offset;
    int rc;
    while ((rc = archive_read_data_block(in, &block, &size, &offset)) == ARCHIVE_OK) {
      // Sparse files come as blocks at offsets; pwrite leaves the holes.
      const char* p = static_cast<const char*>(block);
      while (size > 0) {
        ssize_t n = ::pwrite(out.get(), p, size, offset);
        if (n < 0) return fail_errno("write " + path);
        p += n;
        offset += n;
        size -= static_cast<size_t>(n);
        stats.bytes += static_cast<uint64_t>(n);
      }
    }
    if (rc != ARCHIVE_EOF) return fail(std::string("read layer entry ") + path + ": " + archive_error_string(in));
    // A sparse file may end in a hole that no block covers.
    if (::ftruncate(out.get(), file_size) != 0) return fail_errno("truncate " + path);
    return {};
  }

  Result<void> hardlink(int parent, const std::string& base, const char* link) {
    auto target = TRY_CTX(layer_path_components(link), std::string("hard link target \"") + link + "\"");
    if (target.empty()) return fail(std::string("hard link to the layer root: ") + link);
    auto target_parent = TRY(open_in_root(root_.get(), join(target, target.size() - 1), O_PATH | O_DIRECTORY));
    ::unlinkat(parent, base.c_str(), 0);
    if (::linkat(target_parent.get(), target.back().c_str(), parent, base.c_str(), 0) != 0)
      return fail_errno(std::string("hard link to ") + link);
    return {};
  }

  Result<void> whiteout(int parent, const std::string& name) {
    if (name.empty() || name == "." || name == "..") return fail("invalid whiteout \"" + std::string(kWhiteoutPrefix) + name + "\"");
    if (mode_ == WhiteoutMode::kOverlay) {
      TRY(remove_entry(parent, name));
      if (::mknodat(parent, name.c_str(), S_IFCHR | 0, makedev(0, 0)) != 0) return fail_errno("whiteout " + name);
      return {};
    }
    return remove_entry(parent, name);
  }

  // The directory hides everything below it from lower layers; what this
  // layer put there stays.
  Result<void> opaque(int parent, const std::string& parent_path) {
    UniqueFd dir(::openat(parent, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (!dir) return fail_errno("open " + parent_path);
    if (mode_ == WhiteoutMode::kOverlay) {
      if (::fsetxattr(dir.get(), "trusted.overlay.opaque", "y", 1, 0) != 0) return fail_errno("mark " + parent_path + " opaque");
      return {};
    }
    std::string prefix = parent_path == "/" ? "/" : parent_path + "/";
    for (const auto& child : TRY_CTX(list_directory(dir.get()), parent_path))
      if (!written_.contains(prefix + child)) TRY(remove_entry(dir.get(), child));
    return {};
  }

  Result<void> set_metadata(archive_entry* entry, int parent, const std::string& base, const std::string& path, mode_t type) {
    if (::fchownat(parent, base.c_str(), static_cast<uid_t>(archive_entry_uid(entry)), static_cast<gid_t>(archive_entry_gid(entry)),
                   AT_SYMLINK_NOFOLLOW) != 0)
      return fail_errno("chown " + path);
    if (type == AE_IFLNK) {
      timespec times[2] = {{archive_entry_atime(entry), archive_entry_atime_nsec(entry)},
                           {archive_entry_mtime(entry), archive_entry_mtime_nsec(entry)}};
      ::utimensat(parent, base.c_str(), times, AT_SYMLINK_NOFOLLOW);
      return {};
    }
    // chmod after chown: chown clears setuid and setgid bits.
    if (::fchmodat(parent, base.c_str(), archive_entry_mode(entry) & 07777, 0) != 0) return fail_errno("chmod " + path);
    if (archive_entry_xattr_reset(entry) > 0) {
      UniqueFd fd(::openat(parent, base.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK | (type == AE_IFDIR ? O_DIRECTORY : 0)));
      const char* xname;
      const void* value;
      size_t size;
      while (fd && archive_entry_xattr_next(entry, &xname, &value, &size) == ARCHIVE_OK)
        if (::fsetxattr(fd.get(), xname, value, size, 0) != 0 && errno != ENOTSUP) return fail_errno(std::string("set ") + xname + " on " + path);
    }
    std::array<timespec, 2> times = {timespec{archive_entry_atime(entry), archive_entry_atime_nsec(entry)},
                                     timespec{archive_entry_mtime(entry), archive_entry_mtime_nsec(entry)}};
    if (!archive_entry_atime_is_set(entry)) times[0] = times[1];
    if (type == AE_IFDIR) {
      directory_times_.emplace_back(path, times);
      return {};
    }
    if (::utimensat(parent, base.c_str(), times.data(), AT_SYMLINK_NOFOLLOW) != 0) return fail_errno("set times of " + path);
    return {};
  }

  UniqueFd root_;
  WhiteoutMode mode_;
  std::set<std::string> written_;  // paths this layer wrote, which its own opaque markers spare
  std::vector<std::pair<std::string, std::array<timespec, 2>>> directory_times_;
};

}  // namespace

Result<std::vector<std::string>> layer_path_components(std::string_view path) {
  std::vector<std::string> parts;
  size_t start = 0;
  while (start <= path.size()) {
    size_t slash = path.find('/', start);
    if (slash == std::string_view::npos) slash = path.size();
    std::string_view part = path.substr(start, slash - start);
    start = slash + 1;
    if (part.empty() || part == ".") continue;
    if (part == "..") {
      if (parts.empty()) return fail("path escapes the layer");
      parts.pop_back();
      continue;
    }
    parts.emplace_back(part);
  }
  return parts;
}

Result<void> decompress(const ByteReader& input, const std::function<Result<void>(std::string_view)>& sink) {
  ArchiveReader reader(input, ArchiveReader::Format::kRaw, "read archive");
  if (!TRY(reader.next())) return fail("read archive: empty input", EINVAL);
  // Not zero-filled: pages are paid for only as data arrives (page faults are dear).
    auto buf = std::make_unique_for_overwrite<char[]>(1 << 20);
  for (;;) {
    la_ssize_t n = archive_read_data(reader.get(), buf.get(), (1 << 20));
    if (n < 0) return reader.error();
    if (n == 0) return {};
    TRY(sink(std::string_view(buf.get(), static_cast<size_t>(n))));
  }
}

Result<ApplyStats> apply_layer(int fd, const std::string& dest, WhiteoutMode mode) {
  ByteReader input = fd_reader(fd);
  ArchiveReader reader(input, ArchiveReader::Format::kTar, "read layer");
  UniqueFd root(::open(dest.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
  if (!root) return fail_errno("open " + dest);
  LayerWriter writer(std::move(root), mode);
  ApplyStats stats;
  while (archive_entry* entry = TRY(reader.next())) TRY(writer.apply(reader.get(), entry, stats));
  TRY(writer.finish());
  return stats;
}

}  // namespace berth::image
