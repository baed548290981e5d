#include "registry/parallel.h"

#include <algorithm>
#include <mutex>
#include <optional>
#include <thread>
#include <vector>

namespace berth::registry {

Result<void> for_each_parallel(size_t count, int max, const std::function<Result<void>(size_t, const std::atomic<bool>&)>& work) {
  std::atomic<size_t> next{0};
  std::atomic<bool> cancelled{false};
  std::mutex error_mutex;
  std::optional<Error> first_error;
  auto worker = [&] {
    for (size_t i; !cancelled && (i = next++) < count;) {
      auto done = work(i, cancelled);
      if (done) continue;
      std::lock_guard lock(error_mutex);
      if (!first_error) first_error = done.error();
      cancelled = true;
    }
  };
  size_t threads_wanted = std::min<size_t>(std::max(max, 1), count);
  std::vector<std::thread> threads;
  for (size_t i = 1; i < threads_wanted; ++i) threads.emplace_back(worker);
  if (threads_wanted > 0) worker();
  for (auto& thread : threads) thread.join();
  if (first_error) return std::unexpected(*first_error);
  return {};
}

}  // namespace berth::registry
