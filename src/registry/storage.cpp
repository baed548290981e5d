#include "registry/storage.h"

#include <fcntl.h>

#include <algorithm>
#include <filesystem>
#include <regex>
#include <set>

#include "base/digest.h"
#include "base/file.h"
#include "base/json.h"

namespace berth::registry {

namespace {

namespace fs = std::filesystem;

const std::regex kNameComponent("[a-z0-9]+((\\.|_|__|-+)[a-z0-9]+)*");
const std::regex kTag("[a-zA-Z0-9_][a-zA-Z0-9._-]{0,127}");

constexpr const char* kBlobs = "_blobs";
constexpr const char* kManifests = "_manifests";
constexpr const char* kTags = "_tags";

bool is_digest(const std::string& reference) { return reference.find(':') != std::string::npos; }

Result<void> validate_sha256(const std::string& digest) {
  if (!digest.starts_with("sha256:")) return fail("unsupported digest algorithm: " + digest, EINVAL);
  auto valid = validate_digest(digest);
  if (!valid) return fail(valid.error().message(), EINVAL);
  return {};
}

bool is_index(const std::string& media_type) {
  return media_type == "application/vnd.oci.image.index.v1+json" ||
         media_type == "application/vnd.docker.distribution.manifest.list.v2+json";
}

bool is_image_manifest(const std::string& media_type) {
  return media_type == "application/vnd.oci.image.manifest.v1+json" ||
         media_type == "application/vnd.docker.distribution.manifest.v2+json";
}

}  // namespace

Result<void> validate_name(const std::string& name) {
  if (name.empty() || name.size() > 255) return fail("invalid repository name \"" + name + "\"", EINVAL);
  size_t start = 0;
  for (;;) {
    size_t slash = name.find('/', start);
    std::string component = name.substr(start, slash == std::string::npos ? std::string::npos : slash - start);
    if (!std::regex_match(component, kNameComponent)) return fail("invalid repository name \"" + name + "\"", EINVAL);
    if (slash == std::string::npos) return {};
    start = slash + 1;
  }
}

Result<void> validate_tag(const std::string& tag) {
  if (!std::regex_match(tag, kTag)) return fail("invalid tag \"" + tag + "\"", EINVAL);
  return {};
}

std::vector<std::string> paginate(const std::vector<std::string>& sorted, std::optional<size_t> n, const std::string& last) {
  auto from = last.empty() ? sorted.begin() : std::upper_bound(sorted.begin(), sorted.end(), last);
  size_t count = std::min<size_t>(static_cast<size_t>(sorted.end() - from), n.value_or(sorted.size()));
  return {from, from + static_cast<std::ptrdiff_t>(count)};
}

struct Storage::Upload {
  std::string name;
  std::mutex mutex;  // one request at a time appends
  image::ContentStore::Writer writer;
};

Storage::Storage(std::string root) : root_(std::move(root)), blobs_(root_) {}

Result<void> Storage::init() {
  TRY(blobs_.init());
  return make_dirs(root_ + "/repositories", 0755);
}

Result<void> Storage::link(const std::string& name, const char* kind, const std::string& digest, std::string_view text) {
  std::string dir = repository_dir(name) + "/" + kind;
  TRY(make_dirs(dir, 0755));
  return write_file_atomic(dir + "/" + hex_of(digest), text, 0644);
}

bool Storage::linked(const std::string& name, const char* kind, const std::string& digest) const {
  return path_exists(repository_dir(name) + "/" + kind + "/" + hex_of(digest)) && blobs_.has(digest);
}

Result<std::string> Storage::blob_path(const std::string& name, const std::string& digest) const {
  TRY(validate_name(name));
  TRY(validate_sha256(digest));
  if (!linked(name, kBlobs, digest) && !linked(name, kManifests, digest)) return fail("blob unknown to registry", ENOENT);
  return blobs_.path(digest);
}

Result<void> Storage::delete_blob(const std::string& name, const std::string& digest) {
  TRY(blob_path(name, digest));
  if (::unlink((repository_dir(name) + "/" + kBlobs + "/" + hex_of(digest)).c_str()) != 0)
    return fail("blob unknown to registry", ENOENT);
  return {};
}

Result<void> Storage::mount_blob(const std::string& from, const std::string& name, const std::string& digest) {
  TRY(validate_name(name));
  TRY(blob_path(from, digest));
  return link(name, kBlobs, digest);
}

Result<std::string> Storage::start_upload(const std::string& name) {
  TRY(validate_name(name));
  std::shared_ptr<Upload> upload(new Upload{name, {}, TRY(blobs_.writer())});
  std::string id = random_hex(32);
  std::lock_guard lock(mutex_);
  uploads_[id] = std::move(upload);
  return id;
}

Result<std::shared_ptr<Storage::Upload>> Storage::find_upload(const std::string& name, const std::string& id) const {
  std::lock_guard lock(mutex_);
  auto it = uploads_.find(id);
  if (it == uploads_.end() || it->second->name != name) return fail("blob upload unknown to registry", ENOENT);
  return it->second;
}

Result<uint64_t> Storage::append_upload(const std::string& name, const std::string& id, std::string_view data,
                                        std::optional<uint64_t> offset) {
  auto upload = TRY(find_upload(name, id));
  std::lock_guard lock(upload->mutex);
  if (offset && *offset != upload->writer.size())
    return fail("chunk out of order: the upload has " + std::to_string(upload->writer.size()) + " bytes", ERANGE);
  TRY(upload->writer.write(data));
  return upload->writer.size();
}

Result<uint64_t> Storage::upload_size(const std::string& name, const std::string& id) const {
  auto upload = TRY(find_upload(name, id));
  std::lock_guard lock(upload->mutex);
  return upload->writer.size();
}

Result<std::string> Storage::finish_upload(const std::string& name, const std::string& id, const std::string& digest) {
  TRY(validate_sha256(digest));
  auto upload = TRY(find_upload(name, id));
  {
    std::lock_guard lock(mutex_);
    uploads_.erase(id);  // done, whatever the outcome: a bad digest ends the upload
  }
  std::lock_guard lock(upload->mutex);
  TRY(upload->writer.commit(digest));
  TRY(link(name, kBlobs, digest));
  return digest;
}

Result<void> Storage::cancel_upload(const std::string& name, const std::string& id) {
  TRY(find_upload(name, id));
  std::lock_guard lock(mutex_);
  uploads_.erase(id);
  return {};
}

Result<std::string> Storage::put_manifest(const std::string& name, const std::string& reference, std::string media_type,
                                          const std::string& body) {
  TRY(validate_name(name));
  if (is_digest(reference)) TRY(validate_sha256(reference));
  else TRY(validate_tag(reference));
  auto doc = parse_json(body);
  if (!doc || !doc->is_object()) return fail("manifest invalid: not a JSON object", EINVAL);
  if (doc->value("schemaVersion", 0) != 2) return fail("manifest invalid: only schema version 2 is supported", EINVAL);
  if (media_type.empty() || media_type == "application/json") media_type = doc->value("mediaType", std::string());
  // What the manifest refers to must be here already.
  if (is_image_manifest(media_type)) {
    std::vector<Json> blobs = {field(*doc, "config")};
    for (const auto& layer : field(*doc, "layers")) blobs.push_back(layer);
    for (const auto& blob : blobs) {
      std::string digest = string_field(blob, "digest");
      if (digest.empty() || !validate_sha256(digest)) return fail("manifest invalid: a blob without a valid digest", EINVAL);
      if (field(blob, "urls").is_array()) continue;  // foreign layers live elsewhere
      if (!linked(name, kBlobs, digest)) return fail("manifest blob unknown: " + digest, ENOENT);
    }
  } else if (is_index(media_type)) {
    for (const auto& child : field(*doc, "manifests")) {
      std::string digest = string_field(child, "digest");
      if (digest.empty() || !validate_sha256(digest)) return fail("manifest invalid: a manifest without a valid digest", EINVAL);
      if (!linked(name, kManifests, digest)) return fail("manifest blob unknown: " + digest, ENOENT);
    }
  } else if (!field(*doc, "config").is_object() && !field(*doc, "manifests").is_array()) {
    return fail("manifest invalid: unknown media type \"" + media_type + "\"", EINVAL);
  }
  std::string digest = sha256_digest(body);
  if (is_digest(reference) && reference != digest)
    return fail("digest mismatch: the reference is " + reference + ", the manifest " + digest, EBADMSG);
  TRY(blobs_.put(body));
  TRY(link(name, kManifests, digest, media_type));
  if (!is_digest(reference)) {
    TRY(make_dirs(repository_dir(name) + "/" + kTags, 0755));
    TRY(write_file_atomic(repository_dir(name) + "/" + kTags + "/" + reference, digest, 0644));
  }
  return digest;
}

Result<std::string> Storage::resolve(const std::string& name, const std::string& reference) const {
  TRY(validate_name(name));
  if (is_digest(reference)) {
    TRY(validate_sha256(reference));
    return reference;
  }
  // No such tag can exist: unknown, as registries answer (only a push of one is invalid).
  if (!validate_tag(reference)) return fail("manifest unknown", ENOENT);
  auto digest = read_file(repository_dir(name) + "/" + kTags + "/" + reference);
  if (!digest) return fail("manifest unknown", ENOENT);
  return *digest;
}

Result<Manifest> Storage::manifest(const std::string& name, const std::string& reference) const {
  std::string digest = TRY(resolve(name, reference));
  auto media_type = read_file(repository_dir(name) + "/" + kManifests + "/" + hex_of(digest));
  if (!media_type) return fail("manifest unknown", ENOENT);
  return Manifest{digest, *media_type, TRY(blobs_.read(digest))};
}

Result<void> Storage::delete_manifest(const std::string& name, const std::string& reference) {
  std::string digest = TRY(resolve(name, reference));
  if (!is_digest(reference)) {
    ::unlink((repository_dir(name) + "/" + kTags + "/" + reference).c_str());
    return {};
  }
  if (::unlink((repository_dir(name) + "/" + kManifests + "/" + hex_of(digest)).c_str()) != 0)
    return fail("manifest unknown", ENOENT);
  for (const auto& tag : TRY(tags(name)))
    if (read_file(repository_dir(name) + "/" + kTags + "/" + tag).value_or("") == digest)
      ::unlink((repository_dir(name) + "/" + kTags + "/" + tag).c_str());
  return {};
}

std::vector<std::pair<std::string, std::string>> Storage::links(const char* kind) const {
  std::vector<std::pair<std::string, std::string>> out;
  std::string base = root_ + "/repositories/";
  std::error_code ec;
  for (auto it = fs::recursive_directory_iterator(base, ec); !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
    std::string leaf = it->path().filename();
    if (!leaf.starts_with('_')) continue;
    it.disable_recursion_pending();
    if (leaf != kind) continue;
    std::string name = it->path().parent_path().string().substr(base.size());
    for (const auto& entry : fs::directory_iterator(it->path(), ec)) out.emplace_back(name, "sha256:" + entry.path().filename().string());
  }
  return out;
}

Result<std::vector<std::string>> Storage::collect_garbage(bool dry_run) {
  // Mark: every manifest, and what it refers to.
  std::set<std::string> marked;
  for (const auto& [name, digest] : links(kManifests)) {
    auto body = blobs_.read(digest);
    if (!body) continue;
    marked.insert(digest);
    auto doc = parse_json(*body);
    if (!doc || !doc->is_object()) continue;
    if (Json config = field(*doc, "config"); config.is_object()) marked.insert(string_field(config, "digest"));
    for (const auto& layer : field(*doc, "layers")) marked.insert(string_field(layer, "digest"));
  }
  // Sweep: the rest of the blobs, then the links to them.
  std::vector<std::string> removed;
  for (const auto& digest : TRY(blobs_.list()))
    if (!marked.contains(digest)) removed.push_back(digest);
  if (dry_run) return removed;
  std::set<std::string> gone(removed.begin(), removed.end());
  for (const auto& [name, digest] : links(kBlobs))
    if (gone.contains(digest)) ::unlink((repository_dir(name) + "/" + kBlobs + "/" + hex_of(digest)).c_str());
  for (const auto& digest : removed) TRY(blobs_.remove(digest));
  return removed;
}

Result<std::vector<std::string>> Storage::tags(const std::string& name) const {
  TRY(validate_name(name));
  if (!path_exists(repository_dir(name))) return fail("repository name not known to registry", ENOENT);
  std::vector<std::string> out;
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(repository_dir(name) + "/" + kTags, ec)) out.push_back(entry.path().filename());
  std::ranges::sort(out);
  return out;
}

Result<Json> Storage::referrers(const std::string& name, const std::string& digest, const std::string& artifact_type) const {
  TRY(validate_name(name));
  TRY(validate_sha256(digest));
  Json manifests = Json::array();
  for (const auto& [repository, manifest] : links(kManifests)) {
    if (repository != name) continue;
    auto body = blobs_.read(manifest);
    auto doc = body ? parse_json(*body) : Result<Json>(Json());
    if (!doc || !doc->is_object() || string_field(field(*doc, "subject"), "digest") != digest) continue;
    std::string type = string_field(*doc, "artifactType");
    if (type.empty()) type = string_field(field(*doc, "config"), "mediaType");
    if (!artifact_type.empty() && type != artifact_type) continue;
    Json descriptor = {{"mediaType", string_field(*doc, "mediaType")}, {"digest", manifest}, {"size", body->size()}};
    if (!type.empty()) descriptor["artifactType"] = type;
    if (Json annotations = field(*doc, "annotations"); annotations.is_object()) descriptor["annotations"] = annotations;
    manifests.push_back(descriptor);
  }
  return Json{{"schemaVersion", 2}, {"mediaType", "application/vnd.oci.image.index.v1+json"}, {"manifests", manifests}};
}

Result<std::vector<std::string>> Storage::repositories() const {
  std::set<std::string> names;
  for (const auto& [name, digest] : links(kManifests)) names.insert(name);
  return std::vector<std::string>(names.begin(), names.end());
}

}  // namespace berth::registry
