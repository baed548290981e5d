// The local images: configs and layer tars in the content store, unpacked
// layers under layers/, and tags and layer records in SQLite so that a tag
// change or an image removal is one transaction.
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "base/error.h"
#include "base/json.h"
#include "base/sqlite.h"
#include "image/content_store.h"
#include "image/reference.h"

namespace berth::image {

struct Image {
  std::string id;  // sha256:… of the config
  Json config;
  std::vector<std::string> tags;  // full references: docker.io/library/busybox:latest
  std::vector<std::string> digests;  // the manifests it was pulled or pushed as: localhost:5000/app@sha256:…
  std::vector<std::string> chain_ids;
  int64_t size = 0;  // bytes of all layers' content
  std::string created;
};

// A compressed blob a registry repository holds for a layer: a push finds
// the layer there (or mounts it from there) without compressing it again.
struct BlobSource {
  std::string digest;
  std::string media_type;
  int64_t size = 0;
  std::string repository;  // "localhost:5000/app"
};

struct ImportOptions {
  std::vector<std::string> changes;  // Dockerfile instructions (CMD, ENV, …)
  std::string message;               // history comment
  std::optional<Reference> tag;
};

// What `rmi` did, one line each: "Untagged: busybox:latest", "Deleted: sha256:…".
struct RemoveEvent {
  bool deleted = false;  // false: untagged
  std::string what;
};

class ImageStore {
 public:
  static Result<std::unique_ptr<ImageStore>> open(const std::string& root);

  // A one-layer image from a rootfs tarball (plain or compressed).
  Result<std::string> import(const std::function<Result<size_t>(char*, size_t)>& input, const ImportOptions& options);
  // Stores a layer tar (plain or compressed) in the content store, as its
  // uncompressed form; returns its diff ID.
  Result<std::string> store_layer(const std::function<Result<size_t>(char*, size_t)>& input);
  // Records an image whose config (exact bytes: they are its ID) names
  // layers already stored; tags it.
  Result<std::string> add_image(const std::string& config_bytes, const std::vector<Reference>& tags);
  // Removes the blobs no image uses that are not in `before` (sorted), and
  // unpacked layers without a record: what a failed import or load left.
  // With an empty list, all garbage, as after a crash.
  void drop_unused_blobs(const std::vector<std::string>& before);

  // A tag ("busybox", "busybox:1"), a full or unique short ID.
  Result<Image> resolve(std::string_view name) const;
  Result<std::vector<Image>> list() const;
  Result<void> tag(const std::string& image_id, const Reference& ref);
  // Records NAME@DIGEST (a reference with a digest) for the image.
  Result<void> add_digest(const std::string& image_id, const Reference& ref);
  Result<void> add_blob_source(const std::string& diff_id, const BlobSource& source);
  // The blobs known for a layer, most recent first.
  Result<std::vector<BlobSource>> blob_sources(const std::string& diff_id) const;
  // Untags or deletes as `docker rmi` does; force deletes an image with
  // several tags; keep_image only untags.
  Result<std::vector<RemoveEvent>> remove(std::string_view name, bool force, bool keep_image = false);

  Result<int64_t> layer_size(const std::string& chain_id) const;
  // The unpacked content of a layer (for overlay lowerdir).
  Result<std::string> layer_path(const std::string& chain_id) const;
  const ContentStore& content() const { return content_; }

 private:
  ImageStore(std::string root, Database db) : root_(std::move(root)), db_(std::move(db)), content_(root_ + "/content") {}
  Result<void> migrate();
  Result<void> remove_orphan_layers();
  Result<std::string> register_layer(const std::string& diff_id, const std::string& parent_chain);
  Result<Image> load(const std::string& id) const;
  Result<std::vector<RemoveEvent>> delete_image(const Image& image);

  std::string root_;
  mutable Database db_;
  ContentStore content_;
};

// chain_id(parent, diff) = sha256(parent + " " + diff); the first layer's is its diff_id.
std::string chain_id(const std::string& parent_chain, const std::string& diff_id);

}  // namespace berth::image
