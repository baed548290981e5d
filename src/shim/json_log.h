// Docker's json-file log format, which berth-shim writes and `logs` reads:
// one JSON object a line, {"log":"hello\n","stream":"stdout","time":"…"},
// rotated at max-size into at most max-file files (name, name.1, name.2, …).
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/error.h"
#include "base/unique_fd.h"

namespace berth::shim {

struct LogOptions {
  uint64_t max_size = 0;  // bytes per file; 0: unlimited (no rotation)
  int max_files = 1;      // files kept, the current one included
};

// Parses --log-opt values as Docker does: max-size ("10m", "1g", "512k",
// plain bytes) and max-file (a positive number, needing max-size).
Result<LogOptions> parse_log_options(const std::map<std::string, std::string>& opts);

class JsonLogWriter {
 public:
  static Result<JsonLogWriter> open(std::string path, LogOptions options);

  // Appends data read from a stream ("stdout"/"stderr"). Whole lines become
  // entries; a trailing partial line waits for its end (or flush()).
  Result<void> write(const std::string& stream, std::string_view data);
  // Writes out partial lines (when the stream ends).
  Result<void> flush();

 private:
  JsonLogWriter(std::string path, LogOptions options, UniqueFd fd, uint64_t size)
      : path_(std::move(path)), options_(options), fd_(std::move(fd)), size_(size) {}
  Result<void> entry(const std::string& stream, std::string_view text);
  Result<void> rotate();

  std::string path_;
  LogOptions options_;
  UniqueFd fd_;
  uint64_t size_ = 0;
  std::map<std::string, std::string> partial_;  // per stream
};

struct LogEntry {
  std::string stream;
  std::string text;  // with its newline
  std::string time;  // RFC 3339 nano
  int64_t time_nano = 0;
};

struct LogQuery {
  std::optional<size_t> tail;        // the last N entries
  std::optional<int64_t> since_nano;  // entries at or after
  std::optional<int64_t> until_nano;  // entries before
};

// The entries of all files, oldest first, filtered by query.
Result<std::vector<LogEntry>> read_json_log(const std::string& path, int max_files, const LogQuery& query);

// One line of a log file; nullopt if it is not an entry.
std::optional<LogEntry> parse_log_line(std::string_view line);

// `logs -f`: the entries appended after open(), across rotations.
class JsonLogFollower {
 public:
  static Result<JsonLogFollower> open(std::string path);
  Result<std::vector<LogEntry>> poll();

 private:
  std::string path_;
  UniqueFd fd_;
  ino_t inode_ = 0;
  std::string partial_;
};

// Nanoseconds since the epoch of an RFC 3339 time with fraction.
std::optional<int64_t> parse_rfc3339_nano(const std::string& text);

}  // namespace berth::shim
