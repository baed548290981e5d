#include "base/error.h"

#include <gtest/gtest.h>

namespace berth {
namespace {

Result<int> parse_positive(int value) {
  if (value <= 0) return fail("must be positive", EINVAL);
  return value;
}

Result<int> doubled(int value) {
  int v = TRY(parse_positive(value));
  return v * 2;
}

Result<void> checked(int value) {
  TRY_CTX(parse_positive(value), "check " + std::to_string(value));
  return {};
}

TEST(ErrorTest, FromErrnoReadsLikeGo) {
  Error e = Error::from_errno("mount proc on /proc", EACCES);
  EXPECT_EQ(e.message(), "mount proc on /proc: permission denied");
  EXPECT_EQ(e.code(), EACCES);
}

TEST(ErrorTest, WrapPrependsContext) {
  Error e("digest mismatch");
  e.wrap("layer sha256:ab12").wrap("pull alpine");
  EXPECT_EQ(e.message(), "pull alpine: layer sha256:ab12: digest mismatch");
}

TEST(ErrorTest, TryYieldsValueOrPropagates) {
  EXPECT_EQ(doubled(21).value(), 42);
  auto bad = doubled(-1);
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().message(), "must be positive");
  EXPECT_EQ(bad.error().code(), EINVAL);
}

TEST(ErrorTest, TryCtxAddsContextOnlyOnFailure) {
  EXPECT_TRUE(checked(1));
  auto bad = checked(-5);
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().message(), "check -5: must be positive");
}

}  // namespace
}  // namespace berth
