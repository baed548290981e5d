#include "registry/htpasswd.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

namespace berth::registry {
namespace {

namespace fs = std::filesystem;

TEST(Htpasswd, VerifiesBcryptHashes) {
  fs::path file = fs::temp_directory_path() / ("berth-htpasswd-" + std::to_string(::getpid()));
  std::ofstream(file) << "# users\nalice:$2b$04$xJES4B3IycTgnl.r9nqeK.MMEFyuuCVLE29lWYsCwis3qGIwtFgA2\n";
  auto users = Htpasswd::load(file);
  ASSERT_TRUE(users) << users.error().message();
  EXPECT_TRUE(users->verify("alice", "s3cret"));
  EXPECT_FALSE(users->verify("alice", "wrong"));
  EXPECT_FALSE(users->verify("bob", "s3cret"));
  std::ofstream(file) << "bob:{SHA}plain\n";
  EXPECT_EQ(Htpasswd::load(file).error().message(), "htpasswd " + file.string() + " line 1: want user:bcrypt-hash");
  fs::remove(file);
  EXPECT_EQ(Htpasswd::load(file).error().code(), ENOENT);
}

TEST(Htpasswd, BasicCredentials) {
  auto credentials = basic_credentials("Basic YWxpY2U6czNjcmV0");
  ASSERT_TRUE(credentials);
  EXPECT_EQ(*credentials, (std::pair<std::string, std::string>{"alice", "s3cret"}));
  EXPECT_EQ(basic_credentials("Basic YTpi")->second, "b");  // "a:b", no padding
  EXPECT_FALSE(basic_credentials("Bearer token"));
  EXPECT_FALSE(basic_credentials("Basic bm9jb2xvbg=="));  // "nocolon"
  EXPECT_FALSE(basic_credentials("Basic !!!"));
}

}  // namespace
}  // namespace berth::registry
