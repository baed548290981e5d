#include "runtime/signals.h"

#include <signal.h>

#include <gtest/gtest.h>

namespace berth::runtime {
namespace {

TEST(SignalsTest, NamesAndNumbers) {
  EXPECT_EQ(parse_signal("TERM").value(), SIGTERM);
  EXPECT_EQ(parse_signal("SIGKILL").value(), SIGKILL);
  EXPECT_EQ(parse_signal("sigusr1").value(), SIGUSR1);
  EXPECT_EQ(parse_signal("9").value(), 9);
  EXPECT_EQ(parse_signal("SYS").value(), SIGSYS);
}

TEST(SignalsTest, RealtimeSignals) {
  EXPECT_EQ(parse_signal("RTMIN").value(), SIGRTMIN);
  EXPECT_EQ(parse_signal("SIGRTMIN+3").value(), SIGRTMIN + 3);
  EXPECT_EQ(parse_signal("RTMAX-1").value(), SIGRTMAX - 1);
  EXPECT_FALSE(parse_signal("RTMIN+100"));
}

TEST(SignalsTest, InvalidSignals) {
  for (const char* bad : {"", "0", "-1", "65", "NOPE", "SIG", "TERM1", "12abc"}) {
    auto parsed = parse_signal(bad);
    EXPECT_FALSE(parsed) << bad;
  }
  EXPECT_EQ(parse_signal("NOPE").error().message(), "invalid signal \"NOPE\"");
}

TEST(SignalsTest, Names) {
  EXPECT_EQ(signal_name(SIGTERM), "SIGTERM");
  EXPECT_EQ(signal_name(SIGABRT), "SIGABRT");
}

}  // namespace
}  // namespace berth::runtime
