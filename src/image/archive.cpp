#include "image/archive.h"

#include <archive.h>
#include <archive_entry.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <map>
#include <memory>
#include <set>

#include "base/file.h"
#include "image/archive_reader.h"
#include "image/tar_writer.h"

namespace berth::image {

namespace {

using Archive = std::unique_ptr<archive, int (*)(archive*)>;
constexpr const char* kManifestType = "application/vnd.oci.image.manifest.v1+json";
constexpr const char* kIndexType = "application/vnd.oci.image.index.v1+json";
constexpr const char* kConfigType = "application/vnd.oci.image.config.v1+json";
constexpr const char* kLayerType = "application/vnd.oci.image.layer.v1.tar";

std::string blob_path(const std::string& digest) { return "blobs/sha256/" + hex_of(digest); }

// The files of an untrusted archive, each stored as a blob as it streams
// by: members are then found by path without anything being written at a
// path the archive chose. A docker-archive layer is an uncompressed tar,
// so its blob is already the layer as the store keeps it.
class ArchiveMembers {
 public:
  explicit ArchiveMembers(const ContentStore& store) : store_(store) {}

  Result<void> read(const ByteReader& input) {
    ArchiveReader reader(input, ArchiveReader::Format::kTar, "invalid archive");
    while (archive_entry* entry = TRY(reader.next())) {
      std::string name = archive_entry_pathname(entry) ? archive_entry_pathname(entry) : "";
      std::string path = TRY(normalize(name));
      if (archive_entry_filetype(entry) == AE_IFLNK) {
        links_[path] = archive_entry_symlink(entry);
      } else if (archive_entry_filetype(entry) == AE_IFREG) {
        auto writer = TRY(store_.writer());
        const void* block;
        size_t size;
        la_int64_t offset;
        int rc;
        while ((rc = archive_read_data_block(reader.get(), &block, &size, &offset)) == ARCHIVE_OK)
          TRY(writer.write(std::string_view(static_cast<const char*>(block), size)));
        if (rc != ARCHIVE_EOF) return reader.error();
        files_[path] = TRY(writer.commit());
      }
    }
    return {};
  }

  // The blob holding the member at path, following the archive's symlinks.
  Result<std::string> digest(const std::string& path) const {
    std::string current = TRY(normalize(path));
    for (int depth = 0; depth < 16; ++depth) {
      if (auto file = files_.find(current); file != files_.end()) return file->second;
      auto link = links_.find(current);
      if (link == links_.end()) break;
      std::string dir = current.substr(0, current.rfind('/') == std::string::npos ? 0 : current.rfind('/'));
      current = TRY(normalize(link->second.starts_with('/') ? link->second : dir + "/" + link->second));
    }
    return fail("archive: " + path + " is missing", EINVAL);
  }

  bool has(const std::string& path) const { return digest(path).has_value(); }
  Result<std::string> read_text(const std::string& path) const { return store_.read(TRY(digest(path))); }

 private:
  static Result<std::string> normalize(const std::string& name) {
    auto parts = layer_path_components(name);
    if (!parts) return fail("archive entry \"" + name + "\": path escapes the archive", EINVAL);
    std::string path;
    for (const auto& p : *parts) path += (path.empty() ? "" : "/") + p;
    return path;
  }

  const ContentStore& store_;
  std::map<std::string, std::string> files_;  // path → blob digest
  std::map<std::string, std::string> links_;  // path → symlink target
};

struct ArchiveImage {
  std::string config_path;
  std::vector<std::string> layer_paths;
  std::vector<std::string> tags;
};

// docker-archive: manifest.json lists configs, layers and tags.
Result<std::vector<ArchiveImage>> from_docker_manifest(const std::string& text) {
  auto doc = TRY_CTX(parse_json(text), "manifest.json");
  if (!doc.is_array()) return fail("manifest.json: must be an array", EINVAL);
  std::vector<ArchiveImage> images;
  for (const auto& entry : doc) {
    if (!entry.is_object() || !entry.contains("Config") || !entry["Config"].is_string() || !entry.contains("Layers") ||
        !entry["Layers"].is_array())
      return fail("manifest.json: each entry needs Config and Layers", EINVAL);
    ArchiveImage image;
    image.config_path = entry["Config"];
    for (const auto& layer : entry["Layers"]) {
      if (!layer.is_string()) return fail("manifest.json: Layers must be paths", EINVAL);
      image.layer_paths.push_back(layer);
    }
    if (entry.contains("RepoTags") && entry["RepoTags"].is_array())
      for (const auto& tag : entry["RepoTags"])
        if (tag.is_string()) image.tags.push_back(tag);
    images.push_back(std::move(image));
  }
  return images;
}

// OCI layout: index.json → manifests (through nested indexes) → config and layers.
Result<void> from_oci_descriptor(const ArchiveMembers& members, const Json& descriptor, const std::string& tag,
                                 std::vector<ArchiveImage>& out, int depth) {
  if (depth > 8) return fail("index.json: indexes nested too deep", EINVAL);
  std::string digest = descriptor.value("digest", "");
  if (!validate_digest(digest)) return fail("index.json: bad digest \"" + digest + "\"", EINVAL);
  std::string media = descriptor.value("mediaType", "");
  auto doc = TRY_CTX(parse_json(TRY(members.read_text(blob_path(digest)))), digest);
  if (media == kIndexType || media == "application/vnd.docker.distribution.manifest.list.v2+json" || doc.contains("manifests")) {
    for (const auto& m : doc.value("manifests", Json::array())) {
      const Json& platform = m.value("platform", Json::object());
      if (platform.is_object() && platform.contains("architecture") &&
          (platform.value("architecture", "") != "amd64" || platform.value("os", "") != "linux"))
        continue;
      TRY(from_oci_descriptor(members, m, tag, out, depth + 1));
      return {};
    }
    return fail("index.json: no linux/amd64 image", EINVAL);
  }
  ArchiveImage image;
  image.config_path = blob_path(doc["config"].value("digest", ""));
  for (const auto& layer : doc.value("layers", Json::array())) image.layer_paths.push_back(blob_path(layer.value("digest", "")));
  if (!tag.empty()) image.tags.push_back(tag);
  out.push_back(std::move(image));
  return {};
}

Result<std::vector<ArchiveImage>> from_oci_index(const ArchiveMembers& members) {
  auto index = TRY_CTX(parse_json(TRY(members.read_text("index.json"))), "index.json");
  std::vector<ArchiveImage> images;
  for (const auto& m : index.value("manifests", Json::array())) {
    const Json& annotations = m.value("annotations", Json::object());
    std::string tag = annotations.value("io.containerd.image.name", "");
    if (tag.empty()) {
      std::string ref = annotations.value("org.opencontainers.image.ref.name", "");
      // A bare tag ("latest") names nothing without a repository.
      if (ref.find('/') != std::string::npos || ref.find(':') != std::string::npos) tag = ref;
    }
    TRY(from_oci_descriptor(members, m, tag, images, 0));
  }
  return images;
}

}  // namespace

Result<void> save_images(const ImageStore& store, const std::vector<SaveItem>& items, const ByteSink& out) {
  TarWriter tar(out);
  TRY(tar.open());
  TRY(tar.add_directory("blobs"));
  TRY(tar.add_directory("blobs/sha256"));
  Json manifest = Json::array();
  Json repositories = Json::object();
  Json index = {{"schemaVersion", 2}, {"mediaType", kIndexType}, {"manifests", Json::array()}};
  std::set<std::string> written;
  auto add_blob = [&](const std::string& digest, std::string_view data) -> Result<void> {
    if (written.insert(digest).second) TRY(tar.add_file(blob_path(digest), data));
    return {};
  };
  for (const auto& item : items) {
    const Image& image = item.image;
    std::string config = TRY(store.content().read(image.id));
    TRY(add_blob(image.id, config));
    Json layers = Json::array();
    Json oci_layers = Json::array();
    for (const auto& diff : image.config["rootfs"]["diff_ids"]) {
      std::string digest = diff.get<std::string>();
      std::string path = store.content().path(digest);
      struct stat st;
      if (::stat(path.c_str(), &st) != 0) return fail_errno("layer " + digest);
      if (written.insert(digest).second) TRY(tar.add_file_from(blob_path(digest), path));
      layers.push_back(blob_path(digest));
      oci_layers.push_back({{"mediaType", kLayerType}, {"digest", digest}, {"size", st.st_size}});
    }
    Json oci_manifest = {{"schemaVersion", 2}, {"mediaType", kManifestType},
                         {"config", {{"mediaType", kConfigType}, {"digest", image.id}, {"size", config.size()}}},
                         {"layers", oci_layers}};
    std::string manifest_bytes = oci_manifest.dump();
    std::string manifest_digest = sha256_digest(manifest_bytes);
    TRY(add_blob(manifest_digest, manifest_bytes));
    Json tags = Json::array();
    for (const auto& tag : item.tags) {
      auto ref = TRY(parse_reference(tag));
      tags.push_back(ref.familiar());
      repositories[ref.familiar_name()][ref.tag] = hex_of(layers.empty() ? image.id : layers.back().get<std::string>());
      index["manifests"].push_back({{"mediaType", kManifestType}, {"digest", manifest_digest}, {"size", manifest_bytes.size()},
                                    {"annotations", {{"io.containerd.image.name", ref.str()}, {"org.opencontainers.image.ref.name", ref.tag}}}});
    }
    if (item.tags.empty())
      index["manifests"].push_back({{"mediaType", kManifestType}, {"digest", manifest_digest}, {"size", manifest_bytes.size()}});
    manifest.push_back({{"Config", blob_path(image.id)}, {"RepoTags", item.tags.empty() ? Json(nullptr) : tags}, {"Layers", layers}});
  }
  TRY(tar.add_file("index.json", index.dump()));
  TRY(tar.add_file("manifest.json", manifest.dump()));
  TRY(tar.add_file("oci-layout", R"({"imageLayoutVersion":"1.0.0"})"));
  if (!repositories.empty()) TRY(tar.add_file("repositories", repositories.dump()));
  return tar.close();
}

Result<std::vector<LoadedImage>> load_images(ImageStore& store, const ByteReader& input) {
  std::vector<std::string> blobs_before = TRY(store.content().list());
  std::vector<LoadedImage> loaded;
  auto all = [&]() -> Result<void> {
    ArchiveMembers members(store.content());
    TRY(members.read(input));
    std::vector<ArchiveImage> images;
    if (members.has("manifest.json"))
      images = TRY(from_docker_manifest(TRY(members.read_text("manifest.json"))));
    else if (members.has("index.json"))
      images = TRY(from_oci_index(members));
    else
      return fail("invalid archive: neither manifest.json nor index.json found", EINVAL);
    if (images.empty()) return fail("invalid archive: no images in it", EINVAL);
    for (const auto& image : images) {
      std::string config = TRY(members.read_text(image.config_path));
      auto doc = TRY_CTX(parse_json(config), image.config_path);
      const Json& diff_ids = doc.value("rootfs", Json::object()).value("diff_ids", Json::array());
      if (!diff_ids.is_array() || diff_ids.size() != image.layer_paths.size())
        return fail(image.config_path + ": the config names " + std::to_string(diff_ids.size()) + " layers, the archive has " +
                        std::to_string(image.layer_paths.size()), EINVAL);
      for (size_t i = 0; i < image.layer_paths.size(); ++i) {
        std::string blob = TRY(members.digest(image.layer_paths[i]));
        std::string diff = blob;
        if (blob != diff_ids[i]) {
          // A compressed layer: its uncompressed form is what the store keeps.
          auto fd = TRY(open_file(store.content().path(blob), O_RDONLY));
          diff = TRY(store.store_layer(fd_reader(fd.get())));
        }
        if (diff != diff_ids[i]) return fail(image.layer_paths[i] + ": content is " + diff + ", the config says " + diff_ids[i].get<std::string>(), EINVAL);
      }
      std::vector<Reference> refs;
      LoadedImage result;
      for (const auto& tag : image.tags) {
        auto ref = TRY_CTX(parse_reference(tag), "tag \"" + tag + "\"");
        refs.push_back(ref);
        result.tags.push_back(with_default_tag(ref).familiar());
      }
      result.id = TRY(store.add_image(config, refs));
      loaded.push_back(std::move(result));
    }
    return {};
  }();
  // The archive's own files (manifests, compressed layers) are not kept;
  // what the loaded images use is.
  store.drop_unused_blobs(blobs_before);
  if (!all) return std::unexpected(all.error());
  return loaded;
}

}  // namespace berth::image
