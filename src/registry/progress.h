// Docker's JSON progress messages ({"status": …, "id": …, "progressDetail":
// …}) as pulls and pushes report them, from any of their threads.
#pragma once

#include <chrono>
#include <functional>
#include <map>
#include <mutex>
#include <string>

#include "base/json.h"

namespace berth::registry {

class Progress {
 public:
  explicit Progress(std::function<void(const Json&)> out) : out_(std::move(out)) {}

  // A line of its own: "Digest: sha256:…", "latest: Pulling from app".
  void status(const std::string& text, const std::string& id = "");
  // A line per id: "Pulling fs layer", "Pull complete".
  void item(const std::string& id, const std::string& text);
  // "Downloading" with a bar; at most every 100 ms per id, and the end.
  void bytes(const std::string& id, const std::string& action, int64_t current, int64_t total);

 private:
  std::function<void(const Json&)> out_;
  std::mutex mutex_;
  std::map<std::string, std::chrono::steady_clock::time_point> last_;
};

// Docker's bar: "[=====>      ]  1.2MB/3.4MB".
std::string progress_bar(int64_t current, int64_t total);

// The 12 hex digits Docker shows for a digest.
std::string short_digest(const std::string& digest);

}  // namespace berth::registry
