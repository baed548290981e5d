#include "engine/names.h"

#include <gtest/gtest.h>

#include <regex>
#include <set>

namespace berth::engine {
namespace {

TEST(NamesTest, GeneratedNamesLookLikeDockers) {
  std::mt19937 rng(42);
  std::regex shape("^[a-z]+_[a-z]+$");
  std::set<std::string> seen;
  for (int i = 0; i < 200; ++i) {
    std::string name = random_name(rng);
    EXPECT_TRUE(std::regex_match(name, shape)) << name;
    EXPECT_TRUE(validate_container_name(name)) << name;
    seen.insert(name);
  }
  EXPECT_GT(seen.size(), 150u) << "names should rarely repeat";
}

TEST(NamesTest, UniqueNameAvoidsTakenOnes) {
  std::mt19937 rng(1);
  std::set<std::string> taken;
  for (int i = 0; i < 500; ++i) {
    std::string name = unique_name(rng, [&](const std::string& n) { return taken.contains(n); });
    EXPECT_FALSE(taken.contains(name));
    taken.insert(name);
  }
}

TEST(NamesTest, Validation) {
  EXPECT_EQ(validate_container_name("/web-1").value(), "web-1");
  EXPECT_TRUE(validate_container_name("a.b_c-d"));
  for (const char* bad : {"", "a", "-web", "_x", "we b", "x/y", "caf\xc3\xa9"}) {
    auto result = validate_container_name(bad);
    EXPECT_FALSE(result) << bad;
  }
  EXPECT_EQ(validate_container_name("-web").error().message(), "Invalid container name (-web), only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed");
}

}  // namespace
}  // namespace berth::engine
