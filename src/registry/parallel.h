// The layers of a pull or push, a few at a time.
#pragma once

#include <atomic>
#include <functional>

#include "base/error.h"

namespace berth::registry {

// Calls work(i, cancelled) for i in [0, count) on at most max threads (the
// caller's among them). The first error sets cancelled, which stops the
// others taking more (and tells running ones to give up); it is returned.
Result<void> for_each_parallel(size_t count, int max, const std::function<Result<void>(size_t, const std::atomic<bool>&)>& work);

}  // namespace berth::registry
