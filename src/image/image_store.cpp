#include "image/image_store.h"

#include <dirent.h>
#include <fcntl.h>
#include <stdlib.h>
#include <unistd.h>

#include <algorithm>

#include "base/clock.h"
#include "base/digest.h"
#include "base/file.h"
#include "image/image_config.h"
#include "image/layer.h"

namespace berth::image {

namespace {

constexpr const char* kSchema = R"(
CREATE TABLE IF NOT EXISTS layers (
  chain_id TEXT PRIMARY KEY,
  diff_id TEXT NOT NULL,
  parent TEXT,
  size INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS images (
  id TEXT PRIMARY KEY,
  created TEXT NOT NULL,
  size INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS image_layers (
  image_id TEXT NOT NULL REFERENCES images(id) ON DELETE CASCADE,
  position INTEGER NOT NULL,
  chain_id TEXT NOT NULL REFERENCES layers(chain_id),
  PRIMARY KEY (image_id, position)
);
CREATE TABLE IF NOT EXISTS tags (
  name TEXT PRIMARY KEY,
  image_id TEXT NOT NULL REFERENCES images(id) ON DELETE CASCADE
);
CREATE TABLE IF NOT EXISTS blob_sources (
  diff_id TEXT NOT NULL,
  repository TEXT NOT NULL,
  digest TEXT NOT NULL,
  media_type TEXT NOT NULL,
  size INTEGER NOT NULL,
  seen INTEGER NOT NULL,
  PRIMARY KEY (diff_id, repository)
);
)";

std::string short_id(const std::string& id) { return hex_of(id).substr(0, 12); }

}  // namespace

std::string chain_id(const std::string& parent_chain, const std::string& diff_id) {
  return parent_chain.empty() ? diff_id : sha256_digest(parent_chain + " " + diff_id);
}

Result<std::unique_ptr<ImageStore>> ImageStore::open(const std::string& root) {
  TRY(make_dirs(root + "/layers", 0700));
  auto db = TRY(Database::open(root + "/images.db"));
  std::unique_ptr<ImageStore> store(new ImageStore(root, std::move(db)));
  TRY(store->content_.init());
  TRY(store->migrate());
  return store;
}

Result<void> ImageStore::migrate() {
  TRY(db_.exec(kSchema));
  // A crash may have left blobs and layers that nothing refers to.
  drop_unused_blobs({});
  return remove_orphan_layers();
}

Result<int64_t> ImageStore::layer_size(const std::string& chain) const {
  auto row = TRY(db_.prepare("SELECT size FROM layers WHERE chain_id = ?"));
  row.bind(1, chain);
  if (!TRY(row.step())) return fail("no layer " + chain, ENOENT);
  return row.integer(0);
}

Result<std::string> ImageStore::layer_path(const std::string& chain) const {
  TRY(validate_digest(chain));
  return root_ + "/layers/" + hex_of(chain) + "/diff";
}

// Unpacks the layer tar (already in the content store under its diff_id)
// unless a layer with this chain is there already. Its record is written by
// the caller, in the transaction that makes the image visible.
Result<std::string> ImageStore::register_layer(const std::string& diff_id, const std::string& parent_chain) {
  std::string chain = chain_id(parent_chain, diff_id);
  std::string final_dir = root_ + "/layers/" + hex_of(chain);
  if (path_exists(final_dir)) return chain;
  TRY(make_dirs(root_ + "/layers/tmp", 0700));
  std::string tmp = root_ + "/layers/tmp/" + hex_of(chain);
  TRY(remove_all(tmp));
  TRY(make_dirs(tmp + "/diff", 0755));
  auto blob = TRY(open_file(content_.path(diff_id), O_RDONLY));
  auto applied = apply_layer(blob.get(), tmp + "/diff", WhiteoutMode::kOverlay);
  if (!applied) {
    (void)remove_all(tmp);
    return std::unexpected(applied.error());
  }
  TRY(write_file_atomic(tmp + "/size", std::to_string(applied->bytes)));
  if (::rename(tmp.c_str(), final_dir.c_str()) != 0) return fail_errno("store layer " + chain);
  return chain;
}

Result<std::string> ImageStore::store_layer(const ByteReader& input) {
  auto writer = TRY(content_.writer());
  TRY(decompress(input, [&](std::string_view data) { return writer.write(data); }));
  return writer.commit();
}

Result<std::string> ImageStore::import(const ByteReader& input, const ImportOptions& options) {
  std::string created = rfc3339_now();
  Json config = import_config("", created, options.message.empty() ? "Imported from -" : options.message);
  for (const auto& change : options.changes) {
    auto applied = apply_change(config, change);
    if (!applied) return fail(applied.error().message(), EINVAL);
  }
  std::vector<std::string> blobs_before = TRY(content_.list());
  auto added = [&]() -> Result<std::string> {
    std::string diff_id = TRY(store_layer(input));
    config["rootfs"]["diff_ids"] = Json::array({diff_id});
    std::vector<Reference> tags;
    if (options.tag) tags.push_back(*options.tag);
    return add_image(config.dump(), tags);
  }();
  if (!added) drop_unused_blobs(blobs_before);
  return added;
}

Result<std::string> ImageStore::add_image(const std::string& config_bytes, const std::vector<Reference>& tags) {
  auto config = parse_json(config_bytes);
  if (!config || !config->is_object()) return fail("invalid image config", EINVAL);
  const Json* diff_ids = config->contains("rootfs") ? &(*config)["rootfs"]["diff_ids"] : nullptr;
  if (!diff_ids || !diff_ids->is_array()) return fail("invalid image config: rootfs.diff_ids is missing", EINVAL);
  std::vector<std::pair<std::string, std::string>> layers;  // chain id, diff id
  int64_t size = 0;
  for (const auto& diff : *diff_ids) {
    if (!diff.is_string() || !validate_digest(diff.get<std::string>())) return fail("invalid image config: bad diff_id", EINVAL);
    std::string diff_id = diff.get<std::string>();
    if (!content_.has(diff_id)) return fail("layer " + diff_id + " is missing", EINVAL);
    std::string parent = layers.empty() ? "" : layers.back().first;
    std::string chain = TRY(register_layer(diff_id, parent));
    size += std::stoll(read_file(root_ + "/layers/" + hex_of(chain) + "/size").value_or("0"));
    layers.emplace_back(chain, diff_id);
  }
  std::string id = TRY(content_.put(config_bytes));
  std::string created = config->value("created", rfc3339_now());

  auto tx = TRY(Transaction::begin(db_));
  for (size_t i = 0; i < layers.size(); ++i) {
    auto insert = TRY(db_.prepare("INSERT OR IGNORE INTO layers (chain_id, diff_id, parent, size) VALUES (?, ?, ?, ?)"));
    insert.bind(1, layers[i].first).bind(2, layers[i].second);
    if (i == 0) insert.bind_null(3); else insert.bind(3, layers[i - 1].first);
    int64_t layer_size = std::stoll(read_file(root_ + "/layers/" + hex_of(layers[i].first) + "/size").value_or("0"));
    TRY(insert.bind(4, layer_size).run());
  }
  TRY(TRY(db_.prepare("INSERT OR IGNORE INTO images (id, created, size) VALUES (?, ?, ?)")).bind(1, id).bind(2, created).bind(3, size).run());
  for (size_t i = 0; i < layers.size(); ++i)
    TRY(TRY(db_.prepare("INSERT OR IGNORE INTO image_layers (image_id, position, chain_id) VALUES (?, ?, ?)"))
            .bind(1, id).bind(2, static_cast<int64_t>(i)).bind(3, layers[i].first).run());
  for (const auto& tag : tags)
    TRY(TRY(db_.prepare("INSERT OR REPLACE INTO tags (name, image_id) VALUES (?, ?)")).bind(1, with_default_tag(tag).str()).bind(2, id).run());
  TRY(tx.commit());
  return id;
}

void ImageStore::drop_unused_blobs(const std::vector<std::string>& before) {
  auto now = content_.list();
  if (!now) return;
  for (const auto& digest : *now) {
    if (std::ranges::binary_search(before, digest)) continue;
    // Still kept: what an image recorded meanwhile (a multi-image load) uses.
    auto used = db_.prepare("SELECT 1 FROM layers WHERE diff_id = ?1 UNION SELECT 1 FROM images WHERE id = ?1");
    if (!used) continue;
    used->bind(1, digest);
    auto row = used->step();
    if (row && !*row) (void)content_.remove(digest);
  }
  (void)remove_orphan_layers();
}

// Unpacked layers with no record: from a crash between unpacking and the
// transaction that records them, or a failed import.
Result<void> ImageStore::remove_orphan_layers() {
  auto layers = TRY(open_file(root_ + "/layers", O_RDONLY | O_DIRECTORY));
  for (const auto& name : TRY(list_directory(layers.get()))) {
    auto row = TRY(db_.prepare("SELECT 1 FROM layers WHERE chain_id = ?"));
    row.bind(1, "sha256:" + name);
    if (!TRY(row.step())) TRY(remove_all(root_ + "/layers/" + name));
  }
  return {};
}

Result<Image> ImageStore::load(const std::string& id) const {
  auto row = TRY(db_.prepare("SELECT created, size FROM images WHERE id = ?"));
  row.bind(1, id);
  if (!TRY(row.step())) return fail("No such image: " + id, ENOENT);
  Image image;
  image.id = id;
  image.created = row.text(0);
  image.size = row.integer(1);
  image.config = TRY(parse_json(TRY(content_.read(id))));
  auto tags = TRY(db_.prepare("SELECT name FROM tags WHERE image_id = ? ORDER BY name"));
  tags.bind(1, id);
  // Names with a digest share the table: a name is a tag or a digest, never both.
  while (TRY(tags.step())) (tags.text(0).find('@') == std::string::npos ? image.tags : image.digests).push_back(tags.text(0));
  auto layers = TRY(db_.prepare("SELECT chain_id FROM image_layers WHERE image_id = ? ORDER BY position"));
  layers.bind(1, id);
  while (TRY(layers.step())) image.chain_ids.push_back(layers.text(0));
  return image;
}

Result<Image> ImageStore::resolve(std::string_view name) const {
  if (auto ref = parse_reference(name)) {
    auto row = TRY(db_.prepare("SELECT image_id FROM tags WHERE name = ?"));
    row.bind(1, with_default_tag(*ref).str());
    if (TRY(row.step())) return load(row.text(0));
  }
  if (looks_like_id(name)) {
    std::string prefix = name.starts_with("sha256:") ? std::string(name) : "sha256:" + std::string(name);
    auto rows = TRY(db_.prepare("SELECT id FROM images WHERE substr(id, 1, ?) = ?"));
    rows.bind(1, static_cast<int64_t>(prefix.size())).bind(2, prefix);
    std::vector<std::string> ids;
    while (TRY(rows.step())) ids.push_back(rows.text(0));
    if (ids.size() == 1) return load(ids.front());
    if (ids.size() > 1) return fail("multiple IDs found with provided prefix: " + std::string(name), EINVAL);
  }
  std::string shown(name);
  if (auto ref = parse_reference(name); ref && ref->tag.empty() && ref->digest.empty()) shown += ":latest";
  return fail("No such image: " + shown, ENOENT);
}

Result<std::vector<Image>> ImageStore::list() const {
  auto rows = TRY(db_.prepare("SELECT id FROM images ORDER BY created DESC"));
  std::vector<Image> images;
  while (TRY(rows.step())) images.push_back(TRY(load(rows.text(0))));
  return images;
}

Result<void> ImageStore::tag(const std::string& image_id, const Reference& ref) {
  TRY(load(image_id));
  TRY(TRY(db_.prepare("INSERT OR REPLACE INTO tags (name, image_id) VALUES (?, ?)")).bind(1, with_default_tag(ref).str()).bind(2, image_id).run());
  return {};
}

Result<void> ImageStore::add_digest(const std::string& image_id, const Reference& ref) {
  if (ref.digest.empty()) return fail("add_digest: " + ref.str() + " has no digest", EINVAL);
  Reference name = ref;
  name.tag.clear();
  return TRY(db_.prepare("INSERT OR REPLACE INTO tags (name, image_id) VALUES (?, ?)")).bind(1, name.str()).bind(2, image_id).run();
}

Result<void> ImageStore::add_blob_source(const std::string& diff_id, const BlobSource& source) {
  auto insert = TRY(db_.prepare("INSERT OR REPLACE INTO blob_sources (diff_id, repository, digest, media_type, size, seen) "
                                "VALUES (?, ?, ?, ?, ?, strftime('%s','now'))"));
  return insert.bind(1, diff_id).bind(2, source.repository).bind(3, source.digest).bind(4, source.media_type).bind(5, source.size).run();
}

Result<std::vector<BlobSource>> ImageStore::blob_sources(const std::string& diff_id) const {
  auto rows = TRY(db_.prepare("SELECT digest, media_type, size, repository FROM blob_sources WHERE diff_id = ? ORDER BY seen DESC"));
  rows.bind(1, diff_id);
  std::vector<BlobSource> out;
  while (TRY(rows.step())) out.push_back({rows.text(0), rows.text(1), rows.integer(2), rows.text(3)});
  return out;
}

// As Docker: a name (tag or digest) is untagged, and a repository's last
// tag takes its digests along; the image goes with its last name. An ID
// untags every name: one tag and the digests of its repository, or any
// names with force.
Result<std::vector<RemoveEvent>> ImageStore::remove(std::string_view name, bool force, bool keep_image) {
  auto image = TRY(resolve(name));
  std::vector<Reference> names;
  for (const auto& list : {image.tags, image.digests})
    for (const auto& n : list) names.push_back(TRY(parse_reference(n)));
  std::vector<RemoveEvent> events;
  auto untag = [&](const Reference& r) -> Result<void> {
    TRY(TRY(db_.prepare("DELETE FROM tags WHERE name = ?")).bind(1, r.str()).run());
    events.push_back({false, r.familiar()});
    std::erase_if(names, [&](const Reference& n) { return n.str() == r.str(); });
    return {};
  };
  auto ref = parse_reference(name);
  auto named = ref ? std::ranges::find_if(names, [&](const Reference& n) { return n.str() == with_default_tag(*ref).str(); }) : names.end();
  if (named != names.end()) {
    Reference gone = *named;
    TRY(untag(gone));
    auto same_repository = [&](const Reference& n) { return n.name() == gone.name(); };
    if (gone.digest.empty() && std::ranges::none_of(names, [&](const Reference& n) { return same_repository(n) && n.digest.empty(); }))
      for (const Reference& n : std::vector<Reference>(names))
        if (same_repository(n)) TRY(untag(n));
    if (!names.empty()) return events;
  } else {
    bool single = image.tags.size() <= 1 && std::ranges::all_of(names, [&](const Reference& n) { return n.name() == names.front().name(); });
    if (!single && !force)
      return fail("conflict: unable to delete " + short_id(image.id) + " (must be forced) - image is referenced in multiple repositories", EBUSY);
    for (const Reference& n : std::vector<Reference>(names)) TRY(untag(n));
  }
  if (keep_image) return events;
  auto deleted = TRY(delete_image(image));
  events.insert(events.end(), deleted.begin(), deleted.end());
  return events;
}

// Deletes the image record, then every layer no other image uses: first the
// records (one transaction), then the files, so a crash leaves only garbage
// that nothing refers to.
Result<std::vector<RemoveEvent>> ImageStore::delete_image(const Image& image) {
  std::vector<RemoveEvent> events{{true, image.id}};
  std::vector<std::pair<std::string, std::string>> freed;  // chain id, diff id
  {
    auto tx = TRY(Transaction::begin(db_));
    TRY(TRY(db_.prepare("DELETE FROM images WHERE id = ?")).bind(1, image.id).run());
    for (auto it = image.chain_ids.rbegin(); it != image.chain_ids.rend(); ++it) {
      auto users = TRY(db_.prepare("SELECT COUNT(*) FROM image_layers WHERE chain_id = ?"));
      users.bind(1, *it);
      TRY(users.step());
      if (users.integer(0) > 0) continue;
      auto diff = TRY(db_.prepare("SELECT diff_id FROM layers WHERE chain_id = ?"));
      diff.bind(1, *it);
      if (TRY(diff.step())) freed.emplace_back(*it, diff.text(0));
      TRY(TRY(db_.prepare("DELETE FROM layers WHERE chain_id = ?")).bind(1, *it).run());
    }
    TRY(tx.commit());
  }
  TRY(content_.remove(image.id));
  for (const auto& [chain, diff] : freed) {
    TRY(remove_all(root_ + "/layers/" + hex_of(chain)));
    TRY(content_.remove(diff));
    events.push_back({true, chain});
  }
  return events;
}

}  // namespace berth::image
