#include "registry/progress.h"

#include <cstdio>

namespace berth::registry {

namespace {

// Docker's units.HumanSize: decimal, three significant digits.
std::string human_size(double bytes) {
  static const char* kUnits[] = {"B", "kB", "MB", "GB", "TB", "PB"};
  size_t unit = 0;
  while (bytes >= 1000 && unit + 1 < std::size(kUnits)) {
    bytes /= 1000;
    ++unit;
  }
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.3g%s", bytes, kUnits[unit]);
  return buf;
}

}  // namespace

std::string progress_bar(int64_t current, int64_t total) {
  if (total <= 0) return current > 0 ? human_size(static_cast<double>(current)) : "";
  int bars = std::min<int>(50, static_cast<int>(static_cast<double>(current) / static_cast<double>(total) * 100) / 2);
  char numbers[64];
  std::snprintf(numbers, sizeof numbers, "%8s/%s", human_size(static_cast<double>(current)).c_str(), human_size(static_cast<double>(total)).c_str());
  return "[" + std::string(bars, '=') + ">" + std::string(50 - bars, ' ') + "] " + numbers;
}

std::string short_digest(const std::string& digest) { return digest.substr(digest.find(':') + 1, 12); }

void Progress::status(const std::string& text, const std::string& id) {
  std::lock_guard lock(mutex_);
  Json message = {{"status", text}};
  if (!id.empty()) message["id"] = id;
  out_(message);
}

void Progress::item(const std::string& id, const std::string& text) {
  std::lock_guard lock(mutex_);
  out_({{"status", text}, {"progressDetail", Json::object()}, {"id", id}});
}

void Progress::bytes(const std::string& id, const std::string& action, int64_t current, int64_t total) {
  std::lock_guard lock(mutex_);
  auto now = std::chrono::steady_clock::now();
  auto& last = last_[id + action];
  if (current < total && now - last < std::chrono::milliseconds(100)) return;
  last = now;
  out_({{"status", action},
        {"progressDetail", {{"current", current}, {"total", total}}},
        {"progress", progress_bar(current, total)},
        {"id", id}});
}

}  // namespace berth::registry
