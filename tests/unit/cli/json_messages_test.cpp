#include "cli/json_messages.h"

#include <gtest/gtest.h>

#include <sstream>

namespace berth::cli {
namespace {

TEST(MessageDisplay, PlainLinesWithoutBarsWhenNotATerminal) {
  std::ostringstream out;
  MessageDisplay display(out, false);
  ASSERT_TRUE(display.feed(R"({"status":"Pulling from app","id":"v1"})" "\n" R"({"status":"Pulling fs layer","progressDetail":{},"id":"abc"})" "\n"));
  // A message split across reads is shown once whole.
  ASSERT_TRUE(display.feed(R"({"status":"Downloading","progressDetail":{"current":1,"total":2},"progress":"[==>  ] 1B/2B",)"));
  ASSERT_TRUE(display.feed(R"("id":"abc"})" "\n" R"({"status":"Pull complete","progressDetail":{},"id":"abc"})" "\n"));
  ASSERT_TRUE(display.feed(R"({"status":"Digest: sha256:00"})" "\n"));
  EXPECT_EQ(out.str(), "v1: Pulling from app\nabc: Pulling fs layer\nabc: Pull complete\nDigest: sha256:00\n");
}

TEST(MessageDisplay, RedrawsEachLayersLineOnATerminal) {
  std::ostringstream out;
  MessageDisplay display(out, true);
  ASSERT_TRUE(display.feed(R"({"status":"Pulling fs layer","progressDetail":{},"id":"a"})" "\n"
                           R"({"status":"Pulling fs layer","progressDetail":{},"id":"b"})" "\n"
                           R"({"status":"Downloading","progressDetail":{"current":1,"total":2},"progress":"[=>] 1B/2B","id":"a"})" "\n"));
  // a is two lines up from the cursor when b has been added.
  EXPECT_EQ(out.str(),
            "\n\x1b[1A\x1b[2K\ra: Pulling fs layer\r\x1b[1B"
            "\n\x1b[1A\x1b[2K\rb: Pulling fs layer\r\x1b[1B"
            "\x1b[2A\x1b[2K\ra: Downloading [=>] 1B/2B\r\x1b[2B");
}

TEST(MessageDisplay, TheStreamsErrorIsTheError) {
  std::ostringstream out;
  MessageDisplay display(out, false);
  auto result = display.feed(R"({"errorDetail":{"message":"filesystem layer verification failed"},"error":"filesystem layer verification failed"})" "\n");
  ASSERT_FALSE(result);
  EXPECT_EQ(result.error().message(), "filesystem layer verification failed");
  EXPECT_FALSE(MessageDisplay(out, false).feed("not json\n"));
}

TEST(MessageDisplay, KeepsAuxObjects) {
  std::ostringstream out;
  MessageDisplay display(out, false);
  ASSERT_TRUE(display.feed(R"({"progressDetail":{},"aux":{"Tag":"v1","Digest":"sha256:00","Size":5}})" "\n"));
  ASSERT_EQ(display.aux().size(), 1u);
  EXPECT_EQ(display.aux()[0]["Tag"], "v1");
  EXPECT_EQ(out.str(), "");
}

}  // namespace
}  // namespace berth::cli
