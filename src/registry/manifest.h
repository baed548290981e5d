// Image manifests and indexes as registries serve them: Docker's schema 2
// and manifest lists, OCI manifests and indexes; schema 1 is recognised
// only to be refused.
#pragma once

#include <string>
#include <vector>

#include "base/error.h"
#include "base/json.h"

namespace berth::registry {

inline constexpr const char* kDockerManifest = "application/vnd.docker.distribution.manifest.v2+json";
inline constexpr const char* kDockerManifestList = "application/vnd.docker.distribution.manifest.list.v2+json";
inline constexpr const char* kDockerConfig = "application/vnd.docker.container.image.v1+json";
inline constexpr const char* kDockerLayerGzip = "application/vnd.docker.image.rootfs.diff.tar.gzip";
inline constexpr const char* kOciManifest = "application/vnd.oci.image.manifest.v1+json";
inline constexpr const char* kOciIndex = "application/vnd.oci.image.index.v1+json";

// What a pull accepts, for the Accept header.
extern const char* const kManifestAccept;

struct Platform {
  std::string os = "linux";
  std::string architecture = "amd64";
  std::string variant;
  std::string str() const;
};

// "linux/amd64", "linux/arm64/v8", "linux".
Result<Platform> parse_platform(const std::string& text);

struct Descriptor {
  std::string media_type;
  std::string digest;
  int64_t size = 0;
  bool foreign = false;  // has urls: not in the registry (Windows base layers)
  Platform platform;     // in an index
  bool has_platform = false;
};

struct Manifest {
  enum class Kind { kImage, kIndex };
  Kind kind = Kind::kImage;
  std::string media_type;
  Descriptor config;                   // an image's
  std::vector<Descriptor> layers;      // an image's, base first
  std::vector<Descriptor> manifests;   // an index's
};

// Parses a manifest body; content_type is the response's Content-Type
// (the body's mediaType wins when it has one). Schema 1 gets Docker's
// deprecation error; anything malformed an error naming what.
Result<Manifest> parse_manifest(const std::string& body, const std::string& content_type);

// The index entry for platform: same os and architecture, and variant when
// one is asked for (arm64 images may omit "v8"). Docker's error otherwise.
Result<Descriptor> select_platform(const Manifest& index, const Platform& platform);

// The schema 2 manifest a push sends for a config and gzip layers.
std::string docker_manifest(const Descriptor& config, const std::vector<Descriptor>& layers);

}  // namespace berth::registry
