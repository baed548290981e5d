// Cases from Docker's reference grammar (distribution/reference) and the
// examples in Docker's documentation for `docker pull` and `docker tag`.
#include "image/reference.h"

#include <gtest/gtest.h>

namespace berth::image {
namespace {

const std::string kDigest = "sha256:" + std::string(64, 'a');

struct Good {
  std::string input, domain, path, tag, digest, familiar;
};

class ReferenceTest : public testing::TestWithParam<Good> {};

TEST_P(ReferenceTest, ParsesAndNormalizes) {
  const Good& c = GetParam();
  auto ref = parse_reference(c.input);
  ASSERT_TRUE(ref) << c.input << ": " << ref.error().message();
  EXPECT_EQ(ref->domain, c.domain) << c.input;
  EXPECT_EQ(ref->path, c.path) << c.input;
  EXPECT_EQ(ref->tag, c.tag) << c.input;
  EXPECT_EQ(ref->digest, c.digest) << c.input;
  EXPECT_EQ(ref->familiar(), c.familiar) << c.input;
}

INSTANTIATE_TEST_SUITE_P(
    Docker, ReferenceTest,
    testing::Values(Good{"ubuntu", "docker.io", "library/ubuntu", "", "", "ubuntu"},
                    Good{"ubuntu:22.04", "docker.io", "library/ubuntu", "22.04", "", "ubuntu:22.04"},
                    Good{"docker.io/ubuntu", "docker.io", "library/ubuntu", "", "", "ubuntu"},
                    Good{"index.docker.io/library/ubuntu:latest", "docker.io", "library/ubuntu", "latest", "", "ubuntu:latest"},
                    Good{"foo/bar", "docker.io", "foo/bar", "", "", "foo/bar"},
                    Good{"foo/bar/baz:v1", "docker.io", "foo/bar/baz", "v1", "", "foo/bar/baz:v1"},
                    Good{"localhost/foo", "localhost", "foo", "", "", "localhost/foo"},
                    Good{"localhost:5000/foo/bar:tag", "localhost:5000", "foo/bar", "tag", "", "localhost:5000/foo/bar:tag"},
                    Good{"registry.example.com/app", "registry.example.com", "app", "", "", "registry.example.com/app"},
                    Good{"myhost:443/a_b/c-d/e.f", "myhost:443", "a_b/c-d/e.f", "", "", "myhost:443/a_b/c-d/e.f"},
                    Good{"[::1]:5000/foo", "[::1]:5000", "foo", "", "", "[::1]:5000/foo"},
                    Good{"Example.com/foo", "Example.com", "foo", "", "", "Example.com/foo"},
                    Good{"foo__bar/a--b---c", "docker.io", "foo__bar/a--b---c", "", "", "foo__bar/a--b---c"},
                    Good{"localhost:5000", "docker.io", "library/localhost", "5000", "", "localhost:5000"},
                    Good{"ubuntu@" + kDigest, "docker.io", "library/ubuntu", "", kDigest, "ubuntu@" + kDigest},
                    Good{"ubuntu:22.04@" + kDigest, "docker.io", "library/ubuntu", "22.04", kDigest, "ubuntu:22.04@" + kDigest},
                    Good{"busybox:Latest_1.36-x", "docker.io", "library/busybox", "Latest_1.36-x", "", "busybox:Latest_1.36-x"}));

struct Bad {
  std::string input, message;
};

class ReferenceErrorTest : public testing::TestWithParam<Bad> {};

TEST_P(ReferenceErrorTest, RejectsWithDockersMessage) {
  auto ref = parse_reference(GetParam().input);
  ASSERT_FALSE(ref) << GetParam().input;
  EXPECT_EQ(ref.error().message(), GetParam().message) << GetParam().input;
}

INSTANTIATE_TEST_SUITE_P(
    Docker, ReferenceErrorTest,
    testing::Values(Bad{"", "invalid reference format"},
                    Bad{"Ubuntu", "invalid reference format: repository name (library/Ubuntu) must be lowercase"},
                    Bad{"foo/Bar:1", "invalid reference format: repository name (foo/Bar) must be lowercase"},
                    Bad{"ubuntu:", "invalid reference format"},
                    Bad{":tag", "invalid reference format"},
                    Bad{"ubuntu:a:b", "invalid reference format"},
                    Bad{"-ubuntu", "invalid reference format"},
                    Bad{"ubuntu-", "invalid reference format"},
                    Bad{"foo___bar", "invalid reference format"},
                    Bad{"foo..bar", "invalid reference format"},
                    Bad{"foo//bar", "invalid reference format"},
                    Bad{"foo/", "invalid reference format"},
                    Bad{"ubuntu:-tag", "invalid reference format"},
                    Bad{"ubuntu:" + std::string(129, 'a'), "invalid reference format"},
                    Bad{"ubuntu@sha256:abc", "invalid reference format"},
                    Bad{"ubuntu@md5:" + std::string(32, 'a'), "invalid reference format"},
                    Bad{"host:port/foo", "invalid reference format"},
                    Bad{"-host.com/foo", "invalid reference format"},
                    Bad{"a/" + std::string(250, 'b'), "invalid reference format: repository name must not be more than 255 characters"},
                    Bad{std::string(64, 'f'),
                        "invalid repository name (" + std::string(64, 'f') + "), cannot specify 64-byte hexadecimal strings"}));

TEST(ReferenceTest, DefaultTagIsLatest) {
  EXPECT_EQ(with_default_tag(*parse_reference("ubuntu")).str(), "docker.io/library/ubuntu:latest");
  EXPECT_EQ(with_default_tag(*parse_reference("ubuntu@" + kDigest)).str(), "docker.io/library/ubuntu@" + kDigest);
  EXPECT_EQ(with_default_tag(*parse_reference("localhost:5000/a:b")).str(), "localhost:5000/a:b");
}

TEST(ReferenceTest, FamiliarName) {
  EXPECT_EQ(parse_reference("docker.io/library/ubuntu:1")->familiar_name(), "ubuntu");
  EXPECT_EQ(parse_reference("docker.io/library/a/b")->familiar_name(), "library/a/b");
  EXPECT_EQ(parse_reference("quay.io/x/y")->familiar_name(), "quay.io/x/y");
}

TEST(ReferenceTest, ImageIds) {
  EXPECT_TRUE(looks_like_id("3f57d9401f8d"));
  EXPECT_TRUE(looks_like_id("sha256:" + std::string(64, '0')));
  EXPECT_FALSE(looks_like_id("ubuntu"));
  EXPECT_FALSE(looks_like_id(std::string(65, 'a')));
}

}  // namespace
}  // namespace berth::image
