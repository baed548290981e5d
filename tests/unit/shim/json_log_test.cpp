#include "shim/json_log.h"

#include <unistd.h>

#include <gtest/gtest.h>

#include <filesystem>

#include "base/file.h"
#include "base/json.h"

namespace berth::shim {
namespace {

namespace fs = std::filesystem;

class JsonLogTest : public testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("berth-log-test-" + std::to_string(::getpid()));
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    path_ = (dir_ / "container-json.log").string();
  }
  void TearDown() override { fs::remove_all(dir_); }
  fs::path dir_;
  std::string path_;
};

TEST_F(JsonLogTest, WholeLinesBecomeEntries) {
  auto log = JsonLogWriter::open(path_, {});
  ASSERT_TRUE(log);
  ASSERT_TRUE(log->write("stdout", "hello\nwor"));
  ASSERT_TRUE(log->write("stderr", "oops\n"));
  ASSERT_TRUE(log->write("stdout", "ld\nlast"));
  ASSERT_TRUE(log->flush());
  auto entries = read_json_log(path_, 1, {});
  ASSERT_TRUE(entries);
  ASSERT_EQ(entries->size(), 4u);
  EXPECT_EQ((*entries)[0].text, "hello\n");
  EXPECT_EQ((*entries)[1].stream, "stderr");
  EXPECT_EQ((*entries)[2].text, "world\n");
  EXPECT_EQ((*entries)[3].text, "last");
  auto first_line = read_file(path_).value().substr(0, read_file(path_).value().find('\n'));
  auto doc = parse_json(first_line).value();
  EXPECT_EQ(doc["log"], "hello\n");
  EXPECT_EQ(doc["stream"], "stdout");
  EXPECT_TRUE(doc["time"].get<std::string>().ends_with("Z"));
}

TEST_F(JsonLogTest, RotationKeepsMaxFiles) {
  auto log = JsonLogWriter::open(path_, {200, 3});
  ASSERT_TRUE(log);
  for (int i = 0; i < 40; ++i) ASSERT_TRUE(log->write("stdout", "line " + std::to_string(i) + "\n"));
  EXPECT_TRUE(fs::exists(path_ + ".1"));
  EXPECT_TRUE(fs::exists(path_ + ".2"));
  EXPECT_FALSE(fs::exists(path_ + ".3"));
  EXPECT_LE(fs::file_size(path_), 200u);
  auto entries = read_json_log(path_, 3, {});
  ASSERT_TRUE(entries);
  ASSERT_FALSE(entries->empty());
  EXPECT_EQ(entries->back().text, "line 39\n");
  // Oldest first, with no gaps: what is left is the most recent run of lines.
  int first = std::stoi(entries->front().text.substr(5));
  for (size_t i = 0; i < entries->size(); ++i) EXPECT_EQ((*entries)[i].text, "line " + std::to_string(first + static_cast<int>(i)) + "\n");
}

TEST_F(JsonLogTest, TailSinceUntil) {
  auto log = JsonLogWriter::open(path_, {});
  for (int i = 0; i < 5; ++i) ASSERT_TRUE(log->write("stdout", std::to_string(i) + "\n"));
  auto all = read_json_log(path_, 1, {}).value();
  ASSERT_EQ(all.size(), 5u);
  LogQuery tail;
  tail.tail = 2;
  auto last = read_json_log(path_, 1, tail).value();
  ASSERT_EQ(last.size(), 2u);
  EXPECT_EQ(last[0].text, "3\n");
  LogQuery window;
  window.since_nano = all[1].time_nano;
  window.until_nano = all[3].time_nano;
  auto middle = read_json_log(path_, 1, window).value();
  ASSERT_GE(middle.size(), 1u);
  EXPECT_EQ(middle.front().text, "1\n");
  for (const auto& e : middle) EXPECT_LT(e.time_nano, all[3].time_nano);
}

TEST(LogOptionsTest, DockerValues) {
  auto options = parse_log_options({{"max-size", "10m"}, {"max-file", "3"}});
  ASSERT_TRUE(options);
  EXPECT_EQ(options->max_size, 10000000u);
  EXPECT_EQ(options->max_files, 3);
  EXPECT_EQ(parse_log_options({{"max-size", "512k"}})->max_size, 512000u);
  EXPECT_EQ(parse_log_options({{"max-size", "12x"}}).error().message(), "invalid max-size \"12x\"");
  EXPECT_EQ(parse_log_options({{"max-file", "0"}, {"max-size", "1m"}}).error().message(), "max-file cannot be less than 1");
  EXPECT_EQ(parse_log_options({{"max-file", "2"}}).error().message(), "max-file cannot be set without max-size");
  EXPECT_EQ(parse_log_options({{"mode", "x"}}).error().message(), "unknown log opt 'mode' for json-file log driver");
}

TEST(Rfc3339Test, Nanoseconds) {
  EXPECT_EQ(parse_rfc3339_nano("1970-01-01T00:00:01.5Z").value(), 1500000000);
  EXPECT_EQ(parse_rfc3339_nano("2026-11-23T05:07:02.123456789Z").value() % 1000000000, 123456789);
  EXPECT_FALSE(parse_rfc3339_nano("yesterday"));
}

}  // namespace
}  // namespace berth::shim
