#include "registry/session.h"

#include <gtest/gtest.h>

namespace berth::registry {
namespace {

TEST(Session, ParsesBearerAndBasicChallenges) {
  auto bearer = parse_challenge(R"(Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:library/busybox:pull")");
  EXPECT_EQ(bearer["scheme"], "bearer");
  EXPECT_EQ(bearer["realm"], "https://auth.docker.io/token");
  EXPECT_EQ(bearer["service"], "registry.docker.io");
  EXPECT_EQ(bearer["scope"], "repository:library/busybox:pull");
  auto basic = parse_challenge(R"(Basic realm="Registry Realm")");
  EXPECT_EQ(basic["scheme"], "basic");
  EXPECT_EQ(basic["realm"], "Registry Realm");
  EXPECT_EQ(parse_challenge("Bearer realm=plain, service=x")["service"], "x");
}

TEST(Session, RegistryErrorsReadAsDockerPrintsThem) {
  HttpResponse unknown{404, {}, R"({"errors":[{"code":"MANIFEST_UNKNOWN","message":"manifest unknown","detail":null}]})"};
  EXPECT_EQ(registry_error(unknown), "manifest unknown: manifest unknown");
  HttpResponse bare{401, {}, ""};
  EXPECT_EQ(registry_error(bare), "unauthorized: authentication required");
  HttpResponse token{401, {}, R"({"details":"incorrect username or password"})"};
  EXPECT_EQ(registry_error(token), "unauthorized: incorrect username or password");
  HttpResponse other{503, {}, "<html>"};
  EXPECT_EQ(registry_error(other), "Service Unavailable");
}

TEST(Session, LoopbackRegistriesMaySpeakPlainHttp) {
  for (const char* domain : {"localhost:5000", "127.0.0.1:5000", "127.8.9.1", "[::1]:5000", "localhost"})
    EXPECT_TRUE(is_loopback_registry(domain)) << domain;
  for (const char* domain : {"docker.io", "10.0.0.1:5000", "localhost.example.com", "128.0.0.1"})
    EXPECT_FALSE(is_loopback_registry(domain)) << domain;
}

TEST(Session, Scopes) {
  EXPECT_EQ(repository_scope("library/busybox", false), "repository:library/busybox:pull");
  EXPECT_EQ(repository_scope("team/app", true), "repository:team/app:pull,push");
}

}  // namespace
}  // namespace berth::registry
