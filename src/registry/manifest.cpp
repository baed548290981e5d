#include "registry/manifest.h"

#include "base/digest.h"

namespace berth::registry {

const char* const kManifestAccept =
    "application/vnd.docker.distribution.manifest.v2+json, application/vnd.docker.distribution.manifest.list.v2+json, "
    "application/vnd.oci.image.manifest.v1+json, application/vnd.oci.image.index.v1+json, "
    "application/vnd.docker.distribution.manifest.v1+prettyjws, application/json";

namespace {

Result<Descriptor> parse_descriptor(const Json& doc, const char* what) {
  if (!doc.is_object()) return fail(std::string("invalid manifest: ") + what + " is not an object", EINVAL);
  Descriptor d;
  d.media_type = doc.contains("mediaType") && doc["mediaType"].is_string() ? doc["mediaType"].get<std::string>() : "";
  if (!doc.contains("digest") || !doc["digest"].is_string() || !validate_digest(doc["digest"].get<std::string>()))
    return fail(std::string("invalid manifest: ") + what + " has no valid digest", EINVAL);
  d.digest = doc["digest"].get<std::string>();
  if (!doc.contains("size") || !doc["size"].is_number_integer() || doc["size"].get<int64_t>() < 0)
    return fail(std::string("invalid manifest: ") + what + " " + d.digest + " has no valid size", EINVAL);
  d.size = doc["size"].get<int64_t>();
  d.foreign = doc.contains("urls") && doc["urls"].is_array() && !doc["urls"].empty();
  if (doc.contains("platform") && doc["platform"].is_object()) {
    const Json& p = doc["platform"];
    d.has_platform = true;
    d.platform.os = p.value("os", "");
    d.platform.architecture = p.value("architecture", "");
    d.platform.variant = p.value("variant", "");
  }
  return d;
}

}  // namespace

std::string Platform::str() const { return os + "/" + architecture + (variant.empty() ? "" : "/" + variant); }

Result<Platform> parse_platform(const std::string& text) {
  Platform p;
  std::vector<std::string> parts;
  size_t start = 0;
  for (size_t slash; (slash = text.find('/', start)) != std::string::npos; start = slash + 1) parts.push_back(text.substr(start, slash - start));
  parts.push_back(text.substr(start));
  if (parts.size() > 3 || std::ranges::any_of(parts, [](const std::string& s) { return s.empty(); }))
    return fail("invalid platform \"" + text + "\": use os[/arch[/variant]]", EINVAL);
  p.os = parts[0];
  if (parts.size() > 1) p.architecture = parts[1];
  if (parts.size() > 2) p.variant = parts[2];
  if (p.architecture == "x86_64") p.architecture = "amd64";
  if (p.architecture == "aarch64") p.architecture = "arm64";
  return p;
}

Result<Manifest> parse_manifest(const std::string& body, const std::string& content_type) {
  auto doc = parse_json(body);
  if (!doc || !doc->is_object()) return fail("invalid manifest: not a JSON object", EINVAL);
  std::string type = doc->contains("mediaType") && (*doc)["mediaType"].is_string() ? (*doc)["mediaType"].get<std::string>() : "";
  if (type.empty()) type = content_type.substr(0, content_type.find(';'));
  if (doc->value("schemaVersion", 0) == 1 || type.starts_with("application/vnd.docker.distribution.manifest.v1"))
    return fail("[DEPRECATION NOTICE] Docker Image Format v1 and Docker Image manifest version 2, schema 1 support has been removed. "
                "Suggest the author of the image to upgrade it to the OCI Format or Docker Image manifest v2, schema 2. "
                "More information at https://docs.docker.com/go/deprecated-image-specs/",
                ENOTSUP);
  if (doc->value("schemaVersion", 0) != 2) return fail("invalid manifest: unsupported schemaVersion", EINVAL);
  Manifest m;
  // An OCI document may leave mediaType out: what it holds tells.
  if (type.empty() || type == "application/json") type = doc->contains("manifests") ? kOciIndex : kOciManifest;
  m.media_type = type;
  if (type == kDockerManifestList || type == kOciIndex) {
    m.kind = Manifest::Kind::kIndex;
    if (!doc->contains("manifests") || !(*doc)["manifests"].is_array()) return fail("invalid manifest: index has no manifests", EINVAL);
    for (const auto& entry : (*doc)["manifests"]) m.manifests.push_back(TRY(parse_descriptor(entry, "index entry")));
    return m;
  }
  if (type != kDockerManifest && type != kOciManifest) return fail("unsupported manifest media type " + type, ENOTSUP);
  if (!doc->contains("config")) return fail("invalid manifest: no config", EINVAL);
  m.config = TRY(parse_descriptor((*doc)["config"], "config"));
  if (!doc->contains("layers") || !(*doc)["layers"].is_array()) return fail("invalid manifest: no layers", EINVAL);
  for (const auto& layer : (*doc)["layers"]) m.layers.push_back(TRY(parse_descriptor(layer, "layer")));
  return m;
}

Result<Descriptor> select_platform(const Manifest& index, const Platform& platform) {
  for (const auto& entry : index.manifests) {
    if (!entry.has_platform || entry.platform.os != platform.os || entry.platform.architecture != platform.architecture) continue;
    if (!platform.variant.empty() && !entry.platform.variant.empty() && entry.platform.variant != platform.variant) continue;
    return entry;
  }
  return fail("no matching manifest for " + platform.str() + " in the manifest list entries", ENOENT);
}

std::string docker_manifest(const Descriptor& config, const std::vector<Descriptor>& layers) {
  Json doc = {{"schemaVersion", 2},
              {"mediaType", kDockerManifest},
              {"config", {{"mediaType", config.media_type}, {"size", config.size}, {"digest", config.digest}}},
              {"layers", Json::array()}};
  for (const auto& layer : layers) doc["layers"].push_back({{"mediaType", layer.media_type}, {"size", layer.size}, {"digest", layer.digest}});
  return doc.dump(3);
}

}  // namespace berth::registry
