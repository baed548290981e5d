#include "cli/create_options.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>

namespace berth::cli {
namespace {

TEST(ParseMemory, TakesDockersUnits) {
  EXPECT_EQ(*parse_memory("1024"), 1024);
  EXPECT_EQ(*parse_memory("512k"), 512 * 1024);
  EXPECT_EQ(*parse_memory("64m"), 64 << 20);
  EXPECT_EQ(*parse_memory("64MB"), 64 << 20);
  EXPECT_EQ(*parse_memory("1.5g"), int64_t{3} << 29);
  for (const char* bad : {"", "lots", "10x", "-1m", "5mm"}) EXPECT_FALSE(parse_memory(bad)) << bad;
  EXPECT_EQ(parse_memory("lots").error().message(), "invalid size: 'lots'");
}

TEST(ParseRestartPolicy, NamesAndRetries) {
  EXPECT_EQ(*parse_restart_policy("always"), (Json{{"Name", "always"}, {"MaximumRetryCount", 0}}));
  EXPECT_EQ(*parse_restart_policy("on-failure:3"), (Json{{"Name", "on-failure"}, {"MaximumRetryCount", 3}}));
  EXPECT_FALSE(parse_restart_policy("sometimes"));
  EXPECT_FALSE(parse_restart_policy("always:3"));
  EXPECT_FALSE(parse_restart_policy("on-failure:x"));
}

TEST(ParseUlimit, SoftAndHard) {
  EXPECT_EQ(*parse_ulimit("nofile=1024:2048"), (Json{{"Name", "nofile"}, {"Soft", 1024}, {"Hard", 2048}}));
  EXPECT_EQ(*parse_ulimit("nproc=10"), (Json{{"Name", "nproc"}, {"Soft", 10}, {"Hard", 10}}));
  EXPECT_FALSE(parse_ulimit("nofile=10:5"));
  EXPECT_FALSE(parse_ulimit("nofile"));
  EXPECT_FALSE(parse_ulimit("=5"));
}

TEST(ReadEnvFile, LinesCommentsAndInheritedNames) {
  auto path = std::filesystem::temp_directory_path() / "berth-env-file-test";
  std::ofstream(path) << "# comment\n\nA=1\n  B=two words\nFROM_HOST_FOR_TEST\nMISSING_FOR_TEST\n";
  ::setenv("FROM_HOST_FOR_TEST", "x", 1);
  ::unsetenv("MISSING_FOR_TEST");
  EXPECT_EQ(*read_env_file(path), (std::vector<std::string>{"A=1", "B=two words", "FROM_HOST_FOR_TEST=x"}));
  std::filesystem::remove(path);
  EXPECT_FALSE(read_env_file("/nonexistent/env"));
}

TEST(CreateBody, FlagsBecomeConfigAndHostConfig) {
  CreateOptions o;
  o.image = "busybox";
  o.command = {"sh", "-c", "true"};
  o.interactive = o.tty = true;
  o.env = {"A=1"};
  o.labels = {"tier=web", "flag"};
  o.limits.memory = "64m";
  o.limits.cpus = "1.5";
  o.restart = "on-failure:2";
  o.tmpfs = {"/run:size=1m", "/cache"};
  o.log_opts = {"max-size=1m"};
  Json body = *create_body(o);
  EXPECT_EQ(body["Cmd"], Json({"sh", "-c", "true"}));
  EXPECT_EQ(body["AttachStdin"], true);
  EXPECT_EQ(body["StdinOnce"], true);
  EXPECT_EQ(body["Env"], Json({"A=1"}));
  EXPECT_EQ(body["Labels"], (Json{{"tier", "web"}, {"flag", ""}}));
  const Json& host = body["HostConfig"];
  EXPECT_EQ(host["Memory"], 64 << 20);
  EXPECT_EQ(host["NanoCpus"], 1500000000);
  EXPECT_EQ(host["RestartPolicy"]["MaximumRetryCount"], 2);
  EXPECT_EQ(host["Tmpfs"], (Json{{"/run", "size=1m"}, {"/cache", ""}}));
  EXPECT_EQ(host["LogConfig"], (Json{{"Type", "json-file"}, {"Config", {{"max-size", "1m"}}}}));
  o.auto_remove = true;
  EXPECT_EQ(create_body(o).error().message(), "Conflicting options: --restart and --rm");
  o.restart = "no";
  o.attach = {"stdout", "bogus"};
  EXPECT_FALSE(create_body(o));
}

TEST(UpdateBody, SendsOnlyTheGivenFlags) {
  UpdateOptions o;
  EXPECT_EQ(update_body(o).error().message(), "you must provide one or more flags when using this command");
  o.limits.memory = "64m";
  o.pids_limit = -1;
  o.restart = "on-failure:3";
  Json body = *update_body(o);
  EXPECT_EQ(body, (Json{{"Memory", 64 << 20}, {"PidsLimit", -1}, {"RestartPolicy", {{"Name", "on-failure"}, {"MaximumRetryCount", 3}}}}));
}

}  // namespace
}  // namespace berth::cli
