// The storage of berth-registry, the OCI distribution server: blobs by
// digest (shared by all repositories, verified on the way in), and per
// repository the links that say which blobs and manifests it holds and
// where its tags point. Layout under root:
//
//   blobs/sha256/<hex>                       content (blobs and manifests)
//   repositories/<name>/_blobs/<hex>         the repository holds that blob
//   repositories/<name>/_manifests/<hex>     ... that manifest (text: its media type)
//   repositories/<name>/_tags/<tag>          text: the manifest digest
//
// Names' components cannot start with '_', so links never clash with nested
// repositories. Every write is atomic; uploads in progress live in memory.
//
// Errors carry an errno the server turns into the distribution error code:
// ENOENT unknown (blob, manifest, upload, repository), EINVAL invalid input,
// EBADMSG content that does not match its digest.
#pragma once

#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "base/error.h"
#include "base/json.h"
#include "image/content_store.h"

namespace berth::registry {

// The distribution spec's grammar for repository names and tags.
Result<void> validate_name(const std::string& name);
Result<void> validate_tag(const std::string& tag);

// The n/last pagination of _catalog and tags/list: the sorted items after
// last, at most n of them.
std::vector<std::string> paginate(const std::vector<std::string>& sorted, std::optional<size_t> n, const std::string& last);

struct Manifest {
  std::string digest;
  std::string media_type;
  std::string body;
};

class Storage {
 public:
  explicit Storage(std::string root);
  Result<void> init();

  // The file of a blob the repository holds.
  Result<std::string> blob_path(const std::string& name, const std::string& digest) const;
  Result<void> delete_blob(const std::string& name, const std::string& digest);
  // Makes a blob of repository from also one of name (cross-repository mount).
  Result<void> mount_blob(const std::string& from, const std::string& name, const std::string& digest);

  // An upload: started, appended to in order, then committed under the
  // digest the client names, which must match what it sent.
  Result<std::string> start_upload(const std::string& name);
  // Appends data at offset (when given, it must be the upload's size); the new size.
  Result<uint64_t> append_upload(const std::string& name, const std::string& id, std::string_view data,
                                 std::optional<uint64_t> offset = std::nullopt);
  Result<uint64_t> upload_size(const std::string& name, const std::string& id) const;
  Result<std::string> finish_upload(const std::string& name, const std::string& id, const std::string& digest);
  Result<void> cancel_upload(const std::string& name, const std::string& id);

  // Stores a manifest under a tag or its digest, after checking that what it
  // refers to is in the repository; returns its digest.
  Result<std::string> put_manifest(const std::string& name, const std::string& reference, std::string media_type,
                                   const std::string& body);
  Result<Manifest> manifest(const std::string& name, const std::string& reference) const;
  // By digest: the manifest and the tags that point at it; by tag: the tag.
  Result<void> delete_manifest(const std::string& name, const std::string& reference);

  // Removes the blobs no manifest of any repository refers to (and the
  // links to them); returns their digests. Run while nothing serves the
  // storage: an upload in progress is not a reference.
  Result<std::vector<std::string>> collect_garbage(bool dry_run);

  Result<std::vector<std::string>> tags(const std::string& name) const;
  Result<std::vector<std::string>> repositories() const;
  // The descriptors of the repository's manifests whose subject is digest
  // (the referrers API), only those of artifact_type when it is given.
  Result<Json> referrers(const std::string& name, const std::string& digest, const std::string& artifact_type) const;

 private:
  struct Upload;
  std::string repository_dir(const std::string& name) const { return root_ + "/repositories/" + name; }
  Result<std::shared_ptr<Upload>> find_upload(const std::string& name, const std::string& id) const;
  Result<void> link(const std::string& name, const char* kind, const std::string& digest, std::string_view text = {});
  bool linked(const std::string& name, const char* kind, const std::string& digest) const;
  Result<std::string> resolve(const std::string& name, const std::string& reference) const;
  // Every repository's links of a kind, as {name, digest}.
  std::vector<std::pair<std::string, std::string>> links(const char* kind) const;

  std::string root_;
  image::ContentStore blobs_;
  mutable std::mutex mutex_;
  std::map<std::string, std::shared_ptr<Upload>> uploads_;
};

}  // namespace berth::registry
