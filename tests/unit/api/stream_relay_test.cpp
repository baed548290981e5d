#include "api/stream_relay.h"

#include <gtest/gtest.h>

#include "shim/protocol.h"

namespace berth::api {
namespace {

TEST(DetachKeys, ParsesDockersSyntax) {
  EXPECT_EQ(*parse_detach_keys("ctrl-p,ctrl-q"), std::string("\x10\x11"));
  EXPECT_EQ(*parse_detach_keys("a,ctrl-@"), std::string("a\0", 2));
  EXPECT_EQ(*parse_detach_keys("ctrl-["), std::string("\x1b"));
  EXPECT_FALSE(parse_detach_keys("ctrl-1"));
  EXPECT_FALSE(parse_detach_keys("ab"));
}

TEST(DetachScanner, HoldsBackAPartialMatchAcrossReads) {
  DetachScanner scanner("\x10\x11");
  std::string out;
  EXPECT_FALSE(scanner.feed("ab\x10", out));
  EXPECT_EQ(out, "ab");
  EXPECT_FALSE(scanner.feed("c", out));  // not the sequence after all: the held byte goes on
  EXPECT_EQ(out, "ab\x10" "c");
  out.clear();
  EXPECT_FALSE(scanner.feed("x\x10", out));
  EXPECT_TRUE(scanner.feed("\x11", out));
  EXPECT_EQ(out, "x");
}

TEST(ShimFrames, TakeWholeFramesOnly) {
  std::string buffer = shim::frame_header(shim::kStdout, 5) + "hello" + shim::frame_header(shim::kExit, 1);
  auto first = shim::take_frame(buffer);
  ASSERT_TRUE(first);
  EXPECT_EQ(first->type, shim::kStdout);
  EXPECT_EQ(first->payload, "hello");
  EXPECT_FALSE(shim::take_frame(buffer));  // the exit frame's payload has not come yet
  buffer += "0";
  auto exit = shim::take_frame(buffer);
  ASSERT_TRUE(exit);
  EXPECT_EQ(exit->payload, "0");
  EXPECT_TRUE(buffer.empty());
}

}  // namespace
}  // namespace berth::api
