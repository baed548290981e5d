#include "registry/pull.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <ctime>
#include <map>
#include <memory>

#include "base/digest.h"
#include "base/file.h"
#include "registry/parallel.h"

namespace berth::registry {

namespace {

using image::Reference;

constexpr size_t kMaxManifest = 4 << 20;
constexpr size_t kMaxConfig = 16 << 20;

struct Fetched {
  std::string body;
  std::string content_type;
};

// A small document (manifest, config), refused past limit bytes.
Result<HttpResponse> fetch_small(Session& session, const std::string& url, const std::string& scope, const std::string& accept, size_t limit,
                                 std::string& body) {
  HttpRequest request{.url = url};
  if (!accept.empty()) request.headers.push_back("Accept: " + accept);
  request.follow_redirects = true;
  request.sink = [&](std::string_view data) -> Result<void> {
    if (body.size() + data.size() > limit) return fail("document at " + url + " is larger than " + std::to_string(limit >> 20) + " MiB", EFBIG);
    body.append(data);
    return {};
  };
  return session.send(std::move(request), scope);
}

Error denied(const Reference& ref, const HttpResponse& response) {
  return Error("pull access denied for " + ref.familiar_name() + ", repository does not exist or may require 'docker login': " +
                   registry_error(response),
               EACCES);
}

// The manifest a tag or digest names, checked against that digest.
Result<Fetched> fetch_manifest(Session& session, const Reference& ref, const std::string& reference, const std::string& scope) {
  Fetched out;
  auto response = TRY(fetch_small(session, "/v2/" + ref.path + "/manifests/" + reference, scope, kManifestAccept, kMaxManifest, out.body));
  if (response.status == 401 || response.status == 403) return std::unexpected(denied(ref, response));
  if (response.status == 404) {
    Reference shown = ref;
    if (reference.starts_with("sha256:")) shown.digest = reference, shown.tag.clear();
    else shown.tag = reference, shown.digest.clear();
    return fail("manifest for " + shown.familiar() + " not found: " + registry_error(response), ENOENT);
  }
  if (response.status != 200) return fail("fetch manifest " + reference + ": " + registry_error(response), EIO);
  if (reference.starts_with("sha256:") && sha256_digest(out.body) != reference)
    return fail("manifest verification failed for digest " + reference, EBADMSG);
  out.content_type = response.header("content-type");
  return out;
}

// Downloads one compressed layer into a partial file beside its final
// name, resuming what an earlier attempt fetched; returns the verified file.
Result<std::string> download_blob(Session& session, const std::string& path, const Descriptor& layer, const std::string& dir,
                                  Progress& progress, const std::atomic<bool>& cancelled) {
  std::string id = short_digest(layer.digest);
  std::string partial = dir + "/" + hex_of(layer.digest) + ".partial";
  auto file = TRY(open_file(partial, O_RDWR | O_CREAT, 0600));
  Sha256 hash;
  uint64_t have = 0;
  // What an interrupted pull left is hashed again: its bytes are trusted
  // no more than the rest.
  std::string buf(1 << 20, '\0');
  for (ssize_t n; (n = ::read(file.get(), buf.data(), buf.size())) > 0;) {
    hash.update(buf.data(), static_cast<size_t>(n));
    have += static_cast<uint64_t>(n);
  }
  auto restart = [&]() -> Result<void> {
    if (::ftruncate(file.get(), 0) != 0 || ::lseek(file.get(), 0, SEEK_SET) != 0) return fail_errno("truncate " + partial);
    hash = Sha256();
    have = 0;
    return {};
  };
  if (have > static_cast<uint64_t>(layer.size)) TRY(restart());
  // curl hands over what each read of the socket gave (16 KiB on
  // loopback): written and hashed a MiB at a time instead.
  std::string pending;
  pending.reserve(1 << 20);
  auto flush = [&]() -> Result<void> {
    TRY(write_all(file.get(), pending));
    hash.update(pending);
    pending.clear();
    return {};
  };
  auto fetch = [&](bool resume) -> Result<HttpResponse> {
    HttpRequest request{.url = "/v2/" + path + "/blobs/" + layer.digest};
    request.follow_redirects = true;
    if (resume) request.headers.push_back("Range: bytes=" + std::to_string(have) + "-");
    request.sink = [&](std::string_view data) -> Result<void> {
      if (cancelled) return fail("cancelled", ECANCELED);
      if (have + data.size() > static_cast<uint64_t>(layer.size)) return fail("layer " + layer.digest + " is larger than its manifest says", EBADMSG);
      pending.append(data);
      have += data.size();
      if (pending.size() >= (1 << 20)) TRY(flush());
      progress.bytes(id, "Downloading", static_cast<int64_t>(have), layer.size);
      return {};
    };
    auto response = session.send(std::move(request), repository_scope(path, false));
    TRY(flush());  // a failed transfer too: what came is kept to resume from
    return response;
  };
  if (have < static_cast<uint64_t>(layer.size)) {
    auto response = TRY(fetch(have > 0));
    if (response.status == 200 && have > 0) {
      // The registry ignored the Range and sent it all: what came is the
      // start again, so the partial file was wrong to keep. Start over.
      TRY(restart());
      response = TRY(fetch(false));
    }
    if (response.status != 200 && response.status != 206)
      return fail("fetch layer " + layer.digest + ": " + registry_error(response), response.status == 404 ? ENOENT : EIO);
  }
  progress.item(id, "Verifying Checksum");
  if (have != static_cast<uint64_t>(layer.size) || hash.finish() != layer.digest) {
    ::unlink(partial.c_str());
    return fail("filesystem layer verification failed for digest " + layer.digest, EBADMSG);
  }
  progress.item(id, "Download complete");
  return partial;
}

// One mutex per blob being downloaded (berthd is the only process pulling
// into its store).
std::shared_ptr<std::mutex> download_mutex(const std::string& digest) {
  static std::mutex mutex;
  static std::map<std::string, std::weak_ptr<std::mutex>> downloads;
  std::lock_guard lock(mutex);
  std::erase_if(downloads, [](const auto& entry) { return entry.second.expired(); });
  auto& slot = downloads[digest];
  auto held = slot.lock();
  if (!held) slot = held = std::make_shared<std::mutex>();
  return held;
}

// One layer: downloaded unless its content is stored, then decompressed
// into the content store, where its diff ID must be what the config says.
Result<void> fetch_layer(Session& session, image::ImageStore& store, const std::string& path, const Descriptor& layer,
                         const std::string& diff_id, const PullOptions& options, Progress& progress, const std::atomic<bool>& cancelled) {
  std::string id = short_digest(layer.digest);
  // Two pulls of one layer: the second waits, then finds it stored.
  auto mutex = download_mutex(layer.digest);
  std::lock_guard lock(*mutex);
  if (store.content().has(diff_id)) {
    progress.item(id, "Already exists");
    return {};
  }
  std::string file_path = TRY(download_blob(session, path, layer, options.download_dir, progress, cancelled));
  auto file = TRY(open_file(file_path, O_RDONLY));
  int64_t consumed = 0;
  ByteReader read = fd_reader(file.get());
  ByteReader counted = [&](char* buf, size_t size) -> Result<size_t> {
    size_t n = TRY(read(buf, size));
    consumed += static_cast<int64_t>(n);
    progress.bytes(id, "Extracting", consumed, layer.size);
    return n;
  };
  std::string stored = TRY_CTX(store.store_layer(counted), "extract layer " + layer.digest);
  ::unlink(file_path.c_str());
  if (stored != diff_id) return fail("layer " + layer.digest + ": its content is " + stored + ", not the " + diff_id + " of the image config", EBADMSG);
  progress.item(id, "Pull complete");
  return {};
}

}  // namespace

Result<PullResult> pull(Session& session, image::ImageStore& store, const Reference& ref, const PullOptions& options, Progress& progress) {
  std::string scope = repository_scope(ref.path, false);
  std::string reference = ref.digest.empty() ? ref.tag : ref.digest;
  auto top = TRY(fetch_manifest(session, ref, reference, scope));
  progress.status("Pulling from " + ref.path, reference);
  PullResult result;
  result.digest = sha256_digest(top.body);
  Manifest manifest = TRY(parse_manifest(top.body, top.content_type));
  if (manifest.kind == Manifest::Kind::kIndex) {
    Descriptor chosen = TRY(select_platform(manifest, options.platform));
    auto fetched = TRY(fetch_manifest(session, ref, chosen.digest, scope));
    manifest = TRY(parse_manifest(fetched.body, fetched.content_type));
    if (manifest.kind != Manifest::Kind::kImage) return fail("manifest " + chosen.digest + " of the index is not an image manifest", EINVAL);
  }
  std::string config;
  auto response = TRY(fetch_small(session, "/v2/" + ref.path + "/blobs/" + manifest.config.digest, scope, "", kMaxConfig, config));
  if (response.status != 200) return fail("fetch image config " + manifest.config.digest + ": " + registry_error(response), EIO);
  if (sha256_digest(config) != manifest.config.digest) return fail("image config verification failed for digest " + manifest.config.digest, EBADMSG);
  result.image_id = manifest.config.digest;

  auto config_doc = parse_json(config);
  if (!config_doc || !config_doc->is_object()) return fail("invalid image config " + manifest.config.digest, EINVAL);
  const Json& config_json = *config_doc;
  std::vector<std::string> diff_ids;
  if (config_json.contains("rootfs") && config_json["rootfs"].contains("diff_ids") && config_json["rootfs"]["diff_ids"].is_array())
    for (const auto& d : config_json["rootfs"]["diff_ids"])
      if (d.is_string()) diff_ids.push_back(d.get<std::string>());
  if (diff_ids.size() != manifest.layers.size())
    return fail("image config " + manifest.config.digest + " lists " + std::to_string(diff_ids.size()) + " layers, its manifest " +
                    std::to_string(manifest.layers.size()),
                EINVAL);
  for (const auto& layer : manifest.layers)
    if (layer.foreign) return fail("layer " + layer.digest + " is a foreign layer (it lives outside the registry): not supported", ENOTSUP);
  for (const auto& d : diff_ids) TRY(validate_digest(d));

  Reference by_digest = ref;
  by_digest.tag.clear();
  by_digest.digest = result.digest;
  std::optional<Reference> tag;
  if (!ref.tag.empty() && ref.digest.empty()) tag = ref;
  {
    std::lock_guard lock(*options.store_lock);
    if (tag) {
      auto current = store.resolve(tag->str());
      result.downloaded = !current || current->id != result.image_id;
    } else {
      result.downloaded = !store.resolve(result.image_id);
    }
  }
  std::vector<size_t> missing;
  for (size_t i = 0; i < manifest.layers.size(); ++i) {
    bool stored = store.content().has(diff_ids[i]);
    progress.item(short_digest(manifest.layers[i].digest), stored ? "Already exists" : "Pulling fs layer");
    if (!stored) missing.push_back(i);
  }
  TRY(make_dirs(options.download_dir, 0700));
  TRY(for_each_parallel(missing.size(), options.max_downloads, [&](size_t n, const std::atomic<bool>& cancelled) {
    size_t i = missing[n];
    return fetch_layer(session, store, ref.path, manifest.layers[i], diff_ids[i], options, progress, cancelled);
  }));

  std::lock_guard lock(*options.store_lock);
  std::vector<Reference> tags;
  if (tag) tags.push_back(*tag);
  TRY(store.add_image(config, tags));
  TRY(store.add_digest(result.image_id, by_digest));
  for (size_t i = 0; i < manifest.layers.size(); ++i) {
    const Descriptor& layer = manifest.layers[i];
    TRY(store.add_blob_source(diff_ids[i], {layer.digest, layer.media_type, layer.size, ref.name()}));
  }
  return result;
}

void remove_stale_downloads(const std::string& dir, std::chrono::seconds max_age) {
  auto fd = open_file(dir, O_RDONLY | O_DIRECTORY);
  if (!fd) return;
  auto names = list_directory(fd->get());
  if (!names) return;
  time_t oldest = ::time(nullptr) - max_age.count();
  for (const auto& name : *names) {
    struct stat st {};
    if (name.ends_with(".partial") && ::fstatat(fd->get(), name.c_str(), &st, AT_SYMLINK_NOFOLLOW) == 0 && st.st_mtime < oldest)
      ::unlinkat(fd->get(), name.c_str(), 0);
  }
}

Result<std::vector<std::string>> list_tags(Session& session, const std::string& path) {
  std::vector<std::string> tags;
  std::string url = "/v2/" + path + "/tags/list";
  while (!url.empty()) {
    std::string body;
    auto response = TRY(fetch_small(session, url, repository_scope(path, false), "", kMaxManifest, body));
    if (response.status != 200) return fail("list tags of " + path + ": " + registry_error(response), response.status == 404 ? ENOENT : EIO);
    auto doc = parse_json(body);
    if (!doc || !doc->is_object()) return fail("list tags of " + path + ": invalid response", EPROTO);
    if (doc->contains("tags") && (*doc)["tags"].is_array())
      for (const auto& t : (*doc)["tags"])
        if (t.is_string()) tags.push_back(t.get<std::string>());
    // Link: </v2/…/tags/list?n=…&last=…>; rel="next"
    std::string link = response.header("link");
    url.clear();
    if (link.starts_with('<') && link.find("rel=\"next\"") != std::string::npos) url = link.substr(1, link.find('>') - 1);
  }
  return tags;
}

}  // namespace berth::registry
