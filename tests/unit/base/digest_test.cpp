#include "base/digest.h"

#include <gtest/gtest.h>

namespace berth {
namespace {

TEST(DigestTest, KnownSha256Values) {
  EXPECT_EQ(sha256_digest(""), "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(sha256_digest("abc"), "sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

TEST(DigestTest, IncrementalEqualsOneShot) {
  Sha256 hash;
  hash.update("a");
  hash.update("bc");
  EXPECT_EQ(hash.finish(), sha256_digest("abc"));
}

TEST(DigestTest, Validation) {
  EXPECT_TRUE(validate_digest("sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"));
  EXPECT_FALSE(validate_digest("sha256:E3B0C44298FC1C149AFBF4C8996FB92427AE41E4649B934CA495991B7852B855"));
  EXPECT_FALSE(validate_digest("sha256:abc"));
  EXPECT_FALSE(validate_digest("md5:d41d8cd98f00b204e9800998ecf8427e"));
  EXPECT_FALSE(validate_digest("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"));
}

}  // namespace
}  // namespace berth
