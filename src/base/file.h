// Whole-file reads and writes, including the crash-safe atomic write.
#pragma once

#include <fcntl.h>
#include <sys/types.h>

#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "base/error.h"
#include "base/unique_fd.h"

namespace berth {

// Opens a path with O_CLOEXEC added.
Result<UniqueFd> open_file(const std::string& path, int flags, mode_t mode = 0);

Result<std::string> read_file(const std::string& path);
Result<std::string> read_fd(int fd);
// Up to a newline (left out) or EOF: for a pipe whose writer may be shared
// with a process that keeps it open.
Result<std::string> read_line(int fd);

// Writes data with a single write(2), as cgroup and /proc files need.
Result<void> write_file(const std::string& path, std::string_view data, int flags = O_WRONLY | O_TRUNC);

// Writes to a temp file beside path, fsyncs, renames over path and fsyncs the
// directory: readers see the old or the new content, never a mix, even after
// a crash. durable=false skips the fsyncs, for state that a reboot makes
// meaningless anyway (under /run).
Result<void> write_file_atomic(const std::string& path, std::string_view data, mode_t mode = 0644, bool durable = true);

// A source of bytes: fills buf, returns how many (0 at the end).
using ByteReader = std::function<Result<size_t>(char* buf, size_t size)>;
// Reads fd (retrying EINTR).
ByteReader fd_reader(int fd);

// Writes all of data to fd, retrying short writes and EINTR.
Result<void> write_all(int fd, std::string_view data);

// mkdir -p with mode for the directories it creates.
Result<void> make_dirs(const std::string& path, mode_t mode = 0755);

// rm -rf; a missing path is not an error.
Result<void> remove_all(const std::string& path);

bool path_exists(const std::string& path);

// The names in the directory open at dir_fd, without "." and "..".
Result<std::vector<std::string>> list_directory(int dir_fd);

}  // namespace berth
