#include "shim/json_log.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cstdio>

#include "base/clock.h"
#include "base/file.h"
#include "base/json.h"

namespace berth::shim {

Result<LogOptions> parse_log_options(const std::map<std::string, std::string>& opts) {
  LogOptions out;
  for (const auto& [key, value] : opts) {
    if (key == "max-size") {
      size_t used = 0;
      double number = 0;
      try {
        number = std::stod(value, &used);
      } catch (const std::exception&) {
        return fail("invalid max-size \"" + value + "\"", EINVAL);
      }
      std::string unit = value.substr(used);
      std::transform(unit.begin(), unit.end(), unit.begin(), [](unsigned char c) { return std::tolower(c); });
      double scale = unit.empty() || unit == "b" ? 1 : unit == "k" || unit == "kb" ? 1e3 : unit == "m" || unit == "mb" ? 1e6
                     : unit == "g" || unit == "gb" ? 1e9 : -1;
      if (scale < 0 || number < 0) return fail("invalid max-size \"" + value + "\"", EINVAL);
      out.max_size = static_cast<uint64_t>(number * scale);
    } else if (key == "max-file") {
      int files = 0;
      try {
        files = std::stoi(value);
      } catch (const std::exception&) {
        return fail("invalid max-file \"" + value + "\"", EINVAL);
      }
      if (files < 1) return fail("max-file cannot be less than 1", EINVAL);
      out.max_files = files;
    } else if (key != "compress" && key != "labels" && key != "env" && key != "tag") {
      return fail("unknown log opt '" + key + "' for json-file log driver", EINVAL);
    }
  }
  if (opts.contains("max-file") && out.max_files > 1 && out.max_size == 0)
    return fail("max-file cannot be set without max-size", EINVAL);
  return out;
}

Result<JsonLogWriter> JsonLogWriter::open(std::string path, LogOptions options) {
  auto fd = TRY(open_file(path, O_WRONLY | O_CREAT | O_APPEND, 0640));
  struct stat st;
  if (::fstat(fd.get(), &st) != 0) return fail_errno("stat " + path);
  return JsonLogWriter(std::move(path), options, std::move(fd), static_cast<uint64_t>(st.st_size));
}

Result<void> JsonLogWriter::entry(const std::string& stream, std::string_view text) {
  std::string line = Json{{"log", std::string(text)}, {"stream", stream}, {"time", rfc3339_now()}}.dump() + "\n";
  if (options_.max_size && size_ > 0 && size_ + line.size() > options_.max_size) TRY(rotate());
  TRY(write_all(fd_.get(), line));
  size_ += line.size();
  return {};
}

// name.N-1 → name.N … name → name.1; what falls past max-file is dropped.
Result<void> JsonLogWriter::rotate() {
  if (options_.max_files <= 1) {
    if (::ftruncate(fd_.get(), 0) != 0) return fail_errno("truncate " + path_);
    size_ = 0;
    return {};
  }
  for (int i = options_.max_files - 1; i >= 1; --i) {
    std::string from = i == 1 ? path_ : path_ + "." + std::to_string(i - 1);
    std::string to = path_ + "." + std::to_string(i);
    if (::rename(from.c_str(), to.c_str()) != 0 && errno != ENOENT) return fail_errno("rotate " + from);
  }
  fd_ = TRY(open_file(path_, O_WRONLY | O_CREAT | O_APPEND | O_TRUNC, 0640));
  size_ = 0;
  return {};
}

Result<void> JsonLogWriter::write(const std::string& stream, std::string_view data) {
  std::string& pending = partial_[stream];
  while (!data.empty()) {
    auto newline = data.find('\n');
    if (newline == std::string_view::npos) {
      pending.append(data);
      return {};
    }
    pending.append(data.substr(0, newline + 1));
    TRY(entry(stream, pending));
    pending.clear();
    data.remove_prefix(newline + 1);
  }
  return {};
}

Result<void> JsonLogWriter::flush() {
  for (auto& [stream, pending] : partial_) {
    if (pending.empty()) continue;
    TRY(entry(stream, pending));
    pending.clear();
  }
  return {};
}

std::optional<int64_t> parse_rfc3339_nano(const std::string& text) {
  tm t{};
  const char* rest = strptime(text.c_str(), "%Y-%m-%dT%H:%M:%S", &t);
  if (!rest) return std::nullopt;
  int64_t nanos = 0;
  if (*rest == '.') {
    int digits = 0;
    for (++rest; std::isdigit(static_cast<unsigned char>(*rest)); ++rest, ++digits)
      if (digits < 9) nanos = nanos * 10 + (*rest - '0');
    for (; digits < 9; ++digits) nanos *= 10;
  }
  return static_cast<int64_t>(timegm(&t)) * 1000000000 + nanos;
}

std::optional<LogEntry> parse_log_line(std::string_view line) {
  auto doc = parse_json(line);
  if (!doc || !doc->is_object()) return std::nullopt;
  LogEntry entry{doc->value("stream", ""), doc->value("log", ""), doc->value("time", ""), 0};
  entry.time_nano = parse_rfc3339_nano(entry.time).value_or(0);
  return entry;
}

Result<JsonLogFollower> JsonLogFollower::open(std::string path) {
  JsonLogFollower follower;
  follower.path_ = std::move(path);
  if (auto fd = open_file(follower.path_, O_RDONLY)) {
    struct stat st{};
    ::fstat(fd->get(), &st);
    follower.inode_ = st.st_ino;
    if (::lseek(fd->get(), 0, SEEK_END) < 0) return fail_errno("seek " + follower.path_);
    follower.fd_ = std::move(*fd);
  } else if (fd.error().code() != ENOENT) {
    return std::unexpected(fd.error());
  }
  return follower;
}

Result<std::vector<LogEntry>> JsonLogFollower::poll() {
  std::vector<LogEntry> out;
  auto drain = [&]() -> Result<void> {
    char buf[65536];
    for (;;) {
      ssize_t n = ::read(fd_.get(), buf, sizeof buf);
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) return fail_errno("read " + path_);
      if (n == 0) break;
      partial_.append(buf, static_cast<size_t>(n));
    }
    size_t start = 0;
    for (size_t end; (end = partial_.find('\n', start)) != std::string::npos; start = end + 1)
      if (auto entry = parse_log_line(std::string_view(partial_).substr(start, end - start))) out.push_back(std::move(*entry));
    partial_.erase(0, start);
    return {};
  };
  if (fd_) TRY(drain());
  // Rotated (or created since): the rest is in a new file at the path.
  struct stat st{};
  if (::stat(path_.c_str(), &st) == 0 && (!fd_ || st.st_ino != inode_)) {
    fd_ = TRY(open_file(path_, O_RDONLY));
    inode_ = st.st_ino;
    partial_.clear();
    TRY(drain());
  }
  return out;
}

Result<std::vector<LogEntry>> read_json_log(const std::string& path, int max_files, const LogQuery& query) {
  std::vector<LogEntry> entries;
  for (int i = std::max(max_files, 1) - 1; i >= 0; --i) {
    std::string file = i == 0 ? path : path + "." + std::to_string(i);
    auto text = read_file(file);
    if (!text) {
      if (text.error().code() == ENOENT) continue;
      return std::unexpected(text.error());
    }
    size_t start = 0;
    while (start < text->size()) {
      size_t end = text->find('\n', start);
      if (end == std::string::npos) break;  // a line still being written
      auto parsed = parse_log_line(std::string_view(*text).substr(start, end - start));
      start = end + 1;
      if (!parsed) continue;
      LogEntry entry = std::move(*parsed);
      if (query.since_nano && entry.time_nano < *query.since_nano) continue;
      if (query.until_nano && entry.time_nano >= *query.until_nano) continue;
      entries.push_back(std::move(entry));
    }
  }
  if (query.tail && entries.size() > *query.tail) entries.erase(entries.begin(), entries.end() - static_cast<long>(*query.tail));
  return entries;
}

}  // namespace berth::shim
