#include "engine/events.h"

#include <chrono>

namespace berth::engine {

void EventBus::publish(const std::string& type, const std::string& action, const std::string& id, const Json& attributes) {
  std::lock_guard lock(mutex_);
  auto now = std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::system_clock::now().time_since_epoch()).count();
  // Strictly increasing, so "after" never skips an event published in the same nanosecond.
  int64_t nano = std::max<int64_t>(now, last_nano_ + 1);
  last_nano_ = nano;
  Json event = {{"Type", type}, {"Action", action}, {"Actor", {{"ID", id}, {"Attributes", attributes}}},
                {"scope", "local"}, {"time", nano / 1000000000}, {"timeNano", nano}};
  // The fields API versions before 1.22 used, which clients still read.
  event["status"] = action;
  event["id"] = id;
  if (attributes.contains("name") && type == "container") event["from"] = attributes["name"];
  recent_.push_back(std::move(event));
  if (recent_.size() > kKept) recent_.pop_front();
  changed_.notify_all();
}

std::pair<std::vector<Json>, int64_t> EventBus::wait_after(int64_t after_nano, int timeout_ms) {
  std::unique_lock lock(mutex_);
  changed_.wait_for(lock, std::chrono::milliseconds(timeout_ms), [&] { return last_nano_ > after_nano; });
  std::vector<Json> out;
  for (const auto& event : recent_)
    if (event["timeNano"].get<int64_t>() > after_nano) out.push_back(event);
  return {out, std::max(after_nano, last_nano_)};
}

}  // namespace berth::engine
