#include "engine/container.h"

#include <gtest/gtest.h>

#include "base/clock.h"

namespace berth::engine {
namespace {

TEST(ContainerRecord, RoundTripsThroughJson) {
  Container c;
  c.id = std::string(64, 'a');
  c.name = "web";
  c.created = "2026-11-23T06:00:00.000000000Z";
  c.image_id = "sha256:" + std::string(64, 'b');
  c.config = {{"Image", "busybox"}};
  c.host_config = Json::object();
  c.state.status = "running";
  c.state.pid = 42;
  c.restart_count = 2;
  c.manually_stopped = true;
  auto back = container_from_json(container_to_json(c));
  ASSERT_TRUE(back);
  EXPECT_EQ(container_to_json(*back), container_to_json(c));
  EXPECT_FALSE(container_from_json(Json{{"id", "x"}}));
}

TEST(StatusText, AsDockerPrintsIt) {
  int64_t now = rfc3339_to_unix("2026-11-23T07:00:00Z");
  ContainerState s;
  EXPECT_EQ(status_text(s, now), "Created");
  s.status = "running";
  s.started_at = "2026-11-23T06:52:00Z";
  EXPECT_EQ(status_text(s, now), "Up 8 minutes");
  s.status = "paused";
  EXPECT_EQ(status_text(s, now), "Up 8 minutes (Paused)");
  s.status = "exited";
  s.exit_code = 137;
  s.finished_at = "2026-11-23T06:59:55Z";
  EXPECT_EQ(status_text(s, now), "Exited (137) 5 seconds ago");
  s.status = "restarting";
  EXPECT_EQ(status_text(s, now), "Restarting (137) 5 seconds ago");
  EXPECT_TRUE(s.running());
}

TEST(CommandText, QuotesOnlyArgumentsWithSpaces) {
  EXPECT_EQ(command_text({"sh", "-c", "echo hi"}), "sh -c 'echo hi'");
  EXPECT_EQ(command_text({"sleep", "1000"}), "sleep 1000");
}

}  // namespace
}  // namespace berth::engine
