#include "registry/manifest.h"

#include <gtest/gtest.h>

namespace berth::registry {
namespace {

const std::string kDigestA = "sha256:" + std::string(64, 'a');
const std::string kDigestB = "sha256:" + std::string(64, 'b');

TEST(Manifest, ParsesADockerImageManifest) {
  std::string body = R"({"schemaVersion":2,"mediaType":"application/vnd.docker.distribution.manifest.v2+json",
    "config":{"mediaType":"application/vnd.docker.container.image.v1+json","size":7,"digest":")" + kDigestA + R"("},
    "layers":[{"mediaType":"application/vnd.docker.image.rootfs.diff.tar.gzip","size":9,"digest":")" + kDigestB + R"("}]})";
  auto m = parse_manifest(body, "");
  ASSERT_TRUE(m) << m.error().message();
  EXPECT_EQ(m->kind, Manifest::Kind::kImage);
  EXPECT_EQ(m->config.digest, kDigestA);
  ASSERT_EQ(m->layers.size(), 1u);
  EXPECT_EQ(m->layers[0].size, 9);
}

TEST(Manifest, AnOciIndexWithoutMediaTypeIsKnownByItsManifests) {
  std::string body = R"({"schemaVersion":2,"manifests":[
    {"mediaType":"application/vnd.oci.image.manifest.v1+json","size":1,"digest":")" + kDigestA + R"(","platform":{"os":"linux","architecture":"arm64","variant":"v8"}},
    {"mediaType":"application/vnd.oci.image.manifest.v1+json","size":1,"digest":")" + kDigestB + R"(","platform":{"os":"linux","architecture":"amd64"}}]})";
  auto index = parse_manifest(body, "application/vnd.oci.image.index.v1+json");
  ASSERT_TRUE(index) << index.error().message();
  EXPECT_EQ(index->kind, Manifest::Kind::kIndex);
  EXPECT_EQ(select_platform(*index, Platform{})->digest, kDigestB);
  EXPECT_EQ(select_platform(*index, *parse_platform("linux/arm64"))->digest, kDigestA);
  EXPECT_EQ(select_platform(*index, *parse_platform("linux/aarch64/v8"))->digest, kDigestA);
  auto none = select_platform(*index, *parse_platform("linux/arm/v7"));
  ASSERT_FALSE(none);
  EXPECT_EQ(none.error().message(), "no matching manifest for linux/arm/v7 in the manifest list entries");
}

TEST(Manifest, SchemaOneIsRefusedWithDockersNotice) {
  auto m = parse_manifest(R"({"schemaVersion":1,"name":"x","tag":"latest","fsLayers":[]})",
                          "application/vnd.docker.distribution.manifest.v1+prettyjws");
  ASSERT_FALSE(m);
  EXPECT_TRUE(m.error().message().starts_with("[DEPRECATION NOTICE] Docker Image Format v1 and Docker Image manifest version 2, schema 1"));
}

TEST(Manifest, MalformedDocumentsAreErrors) {
  for (const char* body : {"", "[]", R"({"schemaVersion":3})", R"({"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json"})",
                           R"({"schemaVersion":2,"config":{"digest":"sha256:zz","size":1},"layers":[]})",
                           R"({"schemaVersion":2,"mediaType":"text/plain","config":{},"layers":[]})"}) {
    EXPECT_FALSE(parse_manifest(body, "")) << body;
  }
  EXPECT_FALSE(parse_platform("linux//v7"));
  EXPECT_FALSE(parse_platform("a/b/c/d"));
}

TEST(Manifest, DockerManifestOfAPush) {
  std::string body = docker_manifest({.media_type = kDockerConfig, .digest = kDigestA, .size = 3},
                                     {{.media_type = kDockerLayerGzip, .digest = kDigestB, .size = 4}});
  auto m = parse_manifest(body, "");
  ASSERT_TRUE(m);
  EXPECT_EQ(m->media_type, kDockerManifest);
  EXPECT_EQ(m->layers[0].digest, kDigestB);
}

}  // namespace
}  // namespace berth::registry
