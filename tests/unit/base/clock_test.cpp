#include "base/clock.h"

#include <time.h>

#include <regex>

#include <gtest/gtest.h>

namespace berth {
namespace {

TEST(Rfc3339NowTest, IsUtcWithNanosecondsAndNow) {
  std::string now = rfc3339_now();
  EXPECT_TRUE(std::regex_match(now, std::regex(R"(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{9}Z)"))) << now;
  EXPECT_LE(std::llabs(rfc3339_to_unix(now) - static_cast<int64_t>(::time(nullptr))), 1);
}

}  // namespace
}  // namespace berth
