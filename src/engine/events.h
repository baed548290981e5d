// The daemon's event stream (GET /events): recent events kept for `since`,
// and subscribers woken as new ones arrive.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <mutex>
#include <string>

#include "base/json.h"

namespace berth::engine {

class EventBus {
 public:
  // Records an event as Docker shapes it: Type, Action, Actor{ID, Attributes}, time, timeNano.
  void publish(const std::string& type, const std::string& action, const std::string& id, const Json& attributes = Json::object());

  // Events with timeNano > after_nano, waiting up to timeout_ms for one when
  // there are none yet. Returns them and the timeNano to pass next time.
  std::pair<std::vector<Json>, int64_t> wait_after(int64_t after_nano, int timeout_ms);

 private:
  static constexpr size_t kKept = 1024;
  std::mutex mutex_;
  std::condition_variable changed_;
  std::deque<Json> recent_;
  int64_t last_nano_ = 0;
};

}  // namespace berth::engine
