#include "base/file.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstring>

namespace berth {

Result<UniqueFd> open_file(const std::string& path, int flags, mode_t mode) {
  int fd = ::open(path.c_str(), flags | O_CLOEXEC, mode);
  if (fd < 0) return fail_errno("open " + path);
  return UniqueFd(fd);
}

namespace {

// To EOF, or with `line` until a newline.
Result<std::string> read_up_to(int fd, bool line) {
  std::string out;
  char buf[8192];
  while (!(line && out.ends_with('\n'))) {
    ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0) {
      if (errno == EINTR) continue;
      return fail_errno("read");
    }
    if (n == 0) break;
    out.append(buf, static_cast<size_t>(n));
  }
  return out;
}

}  // namespace

Result<std::string> read_fd(int fd) { return read_up_to(fd, false); }

Result<std::string> read_line(int fd) {
  auto out = TRY(read_up_to(fd, true));
  if (out.ends_with('\n')) out.pop_back();
  return out;
}

Result<std::string> read_file(const std::string& path) {
  auto fd = TRY(open_file(path, O_RDONLY));
  return TRY_CTX(read_fd(fd.get()), path);
}

ByteReader fd_reader(int fd) {
  return [fd](char* buf, size_t size) -> Result<size_t> {
    for (;;) {
      ssize_t n = ::read(fd, buf, size);
      if (n >= 0) return static_cast<size_t>(n);
      if (errno != EINTR) return fail_errno("read");
    }
  };
}

Result<void> write_all(int fd, std::string_view data) {
  while (!data.empty()) {
    ssize_t n = ::write(fd, data.data(), data.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      return fail_errno("write");
    }
    data.remove_prefix(static_cast<size_t>(n));
  }
  return {};
}

Result<void> write_file(const std::string& path, std::string_view data, int flags) {
  auto fd = TRY(open_file(path, flags));
  ssize_t n = ::write(fd.get(), data.data(), data.size());
  if (n < 0) return fail_errno("write " + std::string(data) + " to " + path);
  if (static_cast<size_t>(n) != data.size()) return fail("short write to " + path);
  return {};
}

Result<void> write_file_atomic(const std::string& path, std::string_view data, mode_t mode, bool durable) {
  std::string tmp = path + ".tmp." + std::to_string(::getpid());
  {
    auto fd = TRY(open_file(tmp, O_WRONLY | O_CREAT | O_TRUNC, mode));
    auto written = write_all(fd.get(), data);
    if (!written || (durable && ::fsync(fd.get()) != 0)) {
      Error err = written ? Error::from_errno("fsync " + tmp) : written.error().wrap(tmp);
      ::unlink(tmp.c_str());
      return std::unexpected(err);
    }
  }
  if (::rename(tmp.c_str(), path.c_str()) != 0) {
    int err = errno;
    ::unlink(tmp.c_str());
    return fail_errno("rename " + tmp + " to " + path, err);
  }
  if (!durable) return {};
  auto slash = path.rfind('/');
  std::string dir = slash == std::string::npos ? "." : (slash == 0 ? "/" : path.substr(0, slash));
  auto dfd = TRY(open_file(dir, O_RDONLY | O_DIRECTORY));
  if (::fsync(dfd.get()) != 0) return fail_errno("fsync " + dir);
  return {};
}

Result<void> make_dirs(const std::string& path, mode_t mode) {
  if (path.empty()) return {};
  if (::mkdir(path.c_str(), mode) == 0 || errno == EEXIST) return {};
  if (errno != ENOENT) return fail_errno("mkdir " + path);
  auto slash = path.find_last_of('/');
  if (slash != std::string::npos && slash > 0) TRY(make_dirs(path.substr(0, slash), mode));
  if (::mkdir(path.c_str(), mode) != 0 && errno != EEXIST) return fail_errno("mkdir " + path);
  return {};
}

static Result<void> remove_at(int dirfd, const char* name) {
  if (::unlinkat(dirfd, name, 0) == 0 || errno == ENOENT) return {};
  if (errno != EISDIR && errno != EPERM) return fail_errno(std::string("remove ") + name);
  int fd = ::openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0) return fail_errno(std::string("open ") + name);
  DIR* dir = ::fdopendir(fd);
  if (!dir) {
    ::close(fd);
    return fail_errno(std::string("opendir ") + name);
  }
  Result<void> result;
  while (dirent* entry = ::readdir(dir)) {
    if (!strcmp(entry->d_name, ".") || !strcmp(entry->d_name, "..")) continue;
    result = remove_at(::dirfd(dir), entry->d_name);
    if (!result) break;
  }
  ::closedir(dir);
  if (!result) return result;
  if (::unlinkat(dirfd, name, AT_REMOVEDIR) != 0 && errno != ENOENT) return fail_errno(std::string("rmdir ") + name);
  return {};
}

Result<void> remove_all(const std::string& path) {
  TRY_CTX(remove_at(AT_FDCWD, path.c_str()), path);
  return {};
}

bool path_exists(const std::string& path) { return ::access(path.c_str(), F_OK) == 0; }

Result<std::vector<std::string>> list_directory(int dir_fd) {
  int fd = ::openat(dir_fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  DIR* dir = fd >= 0 ? ::fdopendir(fd) : nullptr;
  if (!dir) {
    if (fd >= 0) ::close(fd);
    return fail_errno("open directory");
  }
  std::vector<std::string> names;
  while (dirent* entry = ::readdir(dir))
    if (strcmp(entry->d_name, ".") != 0 && strcmp(entry->d_name, "..") != 0) names.emplace_back(entry->d_name);
  ::closedir(dir);
  return names;
}

}  // namespace berth
