// /images/…: list, inspect, history, tag, remove, import.
#include <fcntl.h>
#include <fnmatch.h>
#include <stdlib.h>
#include <unistd.h>

#include <algorithm>

#include "api/routes.h"
#include "base/clock.h"
#include "base/file.h"
#include "image/layer.h"
#include "image/archive.h"
#include "image/image_config.h"
#include "image/reference.h"
#include "registry/http_client.h"

namespace berth::api {

namespace {

using image::Image;

std::vector<std::string> familiar(const std::vector<std::string>& names) {
  std::vector<std::string> out;
  for (const auto& name : names)
    if (auto ref = image::parse_reference(name)) out.push_back(ref->familiar());
  return out;
}

std::vector<std::string> familiar_tags(const Image& image) { return familiar(image.tags); }

Json summary(const Image& image) {
  const Json& config = image.config.value("config", Json::object());
  Json labels = config.contains("Labels") && config["Labels"].is_object() ? config["Labels"] : Json::object();
  return {{"Id", image.id},          {"ParentId", ""},           {"RepoTags", familiar_tags(image)},
          {"RepoDigests", familiar(image.digests)}, {"Created", rfc3339_to_unix(image.created)}, {"Size", image.size},
          {"SharedSize", -1},        {"VirtualSize", image.size}, {"Labels", labels}, {"Containers", -1}};
}

// The container config as Docker's API always shows it: every field, null
// where unset (templates such as {{.Config.Cmd}} rely on that).
Json full_config(const Json& config) {
  Json out = {{"Hostname", ""},    {"Domainname", ""},  {"User", ""},      {"AttachStdin", false}, {"AttachStdout", false},
              {"AttachStderr", false}, {"Tty", false},  {"OpenStdin", false}, {"StdinOnce", false},  {"Env", nullptr},
              {"Cmd", nullptr},    {"Image", ""},       {"Volumes", nullptr}, {"WorkingDir", ""},  {"Entrypoint", nullptr},
              {"OnBuild", nullptr}, {"Labels", nullptr}};
  if (config.is_object()) out.update(config);
  return out;
}

Json inspect(const Image& image, engine::Engine& engine) {
  const Json& c = image.config;
  Json diff_ids = c["rootfs"].value("diff_ids", Json::array());
  std::string lower;
  for (auto it = image.chain_ids.rbegin(); it != image.chain_ids.rend(); ++it)
    if (auto path = engine.images().layer_path(*it)) lower += (lower.empty() ? "" : ":") + *path;
  return {{"Id", image.id},
          {"RepoTags", familiar_tags(image)},
          {"RepoDigests", familiar(image.digests)},
          {"Parent", ""},
          {"Comment", c.value("comment", std::string())},
          {"Created", c.value("created", image.created)},
          {"Container", ""},
          {"ContainerConfig", Json::object()},
          {"DockerVersion", ""},
          {"Author", c.value("author", std::string())},
          {"Config", full_config(c.value("config", Json::object()))},
          {"Architecture", c.value("architecture", std::string("amd64"))},
          {"Os", c.value("os", std::string("linux"))},
          {"Size", image.size},
          {"VirtualSize", image.size},
          {"GraphDriver", {{"Name", "overlay2"}, {"Data", {{"LowerDir", lower}}}}},
          {"RootFS", {{"Type", "layers"}, {"Layers", diff_ids}}},
          {"Metadata", {{"LastTagTime", "0001-01-01T00:00:00Z"}}}};
}

// rmi's conflicts with containers, in Docker's words. True when the image
// must stay: forced, an image a container uses loses its tags but stays
// (dangling) under the container, as Docker keeps its layers.
Result<bool> check_unused(engine::Engine& engine, const Image& image, const std::string& name, bool force) {
  auto user = engine.containers().user_of_image(image.id);
  if (!user) return false;
  auto ref = image::parse_reference(name);
  bool by_tag = ref && std::ranges::find(image.tags, image::with_default_tag(*ref).str()) != image.tags.end();
  if (by_tag && image.tags.size() > 1) return false;
  bool running = user->state.running();
  if (force && (by_tag || !running)) return true;
  std::string image_short = image.id.substr(7, 12), container_short = user->id.substr(0, 12);
  if (by_tag)
    return fail("conflict: unable to remove repository reference \"" + name + "\" (must force) - container " + container_short +
                    " is using its referenced image " + image_short,
                EBUSY);
  return fail("conflict: unable to delete " + image_short + " (" + (running ? "cannot be forced" : "must be forced") +
                  ") - image is being used by " + (running ? "running" : "stopped") + " container " + container_short,
              EBUSY);
}

Result<Json> history(const Image& image, engine::Engine& engine) {
  Json out = Json::array();
  const Json& entries = image.config.value("history", Json::array());
  size_t layer = 0;
  std::vector<Json> rows;
  for (const auto& entry : entries) {
    bool empty = entry.value("empty_layer", false);
    int64_t size = 0;
    if (!empty && layer < image.chain_ids.size()) size = TRY(engine.images().layer_size(image.chain_ids[layer++]));
    rows.push_back({{"Id", "<missing>"},
                    {"Created", rfc3339_to_unix(entry.value("created", std::string()))},
                    {"CreatedBy", entry.value("created_by", std::string())},
                    {"Tags", nullptr},
                    {"Size", size},
                    {"Comment", entry.value("comment", std::string())}});
  }
  if (!rows.empty()) {
    rows.back()["Id"] = image.id;
    rows.back()["Tags"] = familiar_tags(image);
  }
  for (auto it = rows.rbegin(); it != rows.rend(); ++it) out.push_back(*it);
  return out;
}

// The filters `images` takes: dangling, reference (a glob), before, since, label.
Result<std::vector<Image>> filtered(engine::Engine& engine, const Request& request) {
  auto filters = TRY(parse_filters(request.query_value("filters")));
  for (const auto& [key, values] : filters)
    if (key != "dangling" && key != "reference" && key != "before" && key != "since" && key != "label")
      return fail("invalid filter '" + key + "'", EINVAL);
  std::vector<Image> all;
  {
    std::lock_guard lock(engine.image_mutex());
    all = TRY(engine.images().list());
  }
  auto created_of = [&](const std::string& name) -> Result<int64_t> {
    std::lock_guard lock(engine.image_mutex());
    return rfc3339_to_unix(TRY(engine.images().resolve(name)).created);
  };
  std::optional<int64_t> before, since;
  if (filters.contains("before")) before = TRY(created_of(filters["before"].front()));
  if (filters.contains("since")) since = TRY(created_of(filters["since"].front()));
  // `all` also shows intermediate images; there are none without parents,
  // which only builds make.
  std::vector<Image> out;
  for (auto& image : all) {
    bool dangling = image.tags.empty();
    if (filters.contains("dangling")) {
      const auto& v = filters["dangling"].front();
      if (v != "true" && v != "false" && v != "1" && v != "0") return fail("invalid filter 'dangling=" + v + "'", EINVAL);
      if (dangling != (v == "true" || v == "1")) continue;
    }
    if (filters.contains("reference")) {
      // Only the matching tags (and digests) are shown, as Docker does.
      auto unmatched = [&](const std::string& full) {
        auto ref = image::parse_reference(full);
        std::string shown = ref ? ref->familiar() : full;
        std::string name = ref ? ref->familiar_name() : full;
        for (const auto& pattern : filters["reference"])
          if (fnmatch(pattern.c_str(), shown.c_str(), FNM_PATHNAME) == 0 || fnmatch(pattern.c_str(), name.c_str(), FNM_PATHNAME) == 0)
            return false;
        return true;
      };
      std::erase_if(image.tags, unmatched);
      std::erase_if(image.digests, unmatched);
      if (image.tags.empty() && image.digests.empty()) continue;
    }
    int64_t created = rfc3339_to_unix(image.created);
    if (before && created >= *before) continue;
    if (since && created <= *since) continue;
    if (filters.contains("label")) {
      const Json labels = image.config["config"].value("Labels", Json::object());
      bool ok = true;
      for (const auto& want : filters["label"]) {
        auto eq = want.find('=');
        std::string key = want.substr(0, eq);
        if (!labels.contains(key) || (eq != std::string::npos && labels[key] != want.substr(eq + 1))) ok = false;
      }
      if (!ok) continue;
    }
    out.push_back(std::move(image));
  }
  return out;
}

Result<void> import_image(Request& request, ResponseWriter& response, engine::Engine& engine) {
  if (!request.query_value("fromImage").empty()) return pull_image(request, response, engine);
  std::string source = request.query_value("fromSrc");
  if (source.empty()) return fail("fromImage or fromSrc is required", EINVAL);
  // From a URL: downloaded to a temporary file first, then imported as a file.
  std::string downloaded;
  UniqueFd download_fd;
  ScopeGuard remove_download([&] {
    if (!downloaded.empty()) ::unlink(downloaded.c_str());
  });
  if (source != "-") {
    TRY(make_dirs(engine.config().data_root + "/tmp", 0700));
    std::string name = engine.config().data_root + "/tmp/import-XXXXXX";
    int fd = ::mkostemp(name.data(), O_CLOEXEC);
    if (fd < 0) return fail_errno("create a file for the download");
    ::close(fd);
    downloaded = name;
    TRY(registry::download(source, downloaded));
    download_fd = TRY(open_file(downloaded, O_RDONLY));
  }
  std::string platform = request.query_value("platform");
  if (!platform.empty() && platform != "linux" && platform != "linux/amd64")
    return fail("platform \"" + platform + "\" is not supported: this engine runs linux/amd64", EINVAL);
  image::ImportOptions options;
  options.changes = request.query_values("changes");
  options.message = request.query_value("message");
  std::string repo = request.query_value("repo");
  if (!repo.empty()) {
    std::string tag = request.query_value("tag");
    auto ref = image::parse_reference(tag.empty() ? repo : repo + ":" + tag);
    if (!ref) return std::unexpected(ref.error());
    if (!ref->digest.empty()) return fail("cannot import with a digest reference", EINVAL);
    options.tag = *ref;
  }
  std::string id;
  {
    std::lock_guard lock(engine.image_mutex());
    id = TRY(engine.images().import(download_fd ? fd_reader(download_fd.get()) : request.read_body, options));
  }
  Json attrs = Json::object();
  if (options.tag) attrs["name"] = image::with_default_tag(*options.tag).familiar();
  engine.events().publish("image", "import", id, attrs);
  return response.json(200, {{"status", id}});
}

// GET /images/get?names=…: one archive of the named images, streamed.
Result<void> save(const std::vector<std::string>& names, ResponseWriter& response, engine::Engine& engine) {
  if (names.empty()) return fail("no images named", EINVAL);
  std::vector<image::SaveItem> items;
  {
    std::lock_guard lock(engine.image_mutex());
    for (const auto& name : names) {
      image::SaveItem item{TRY(engine.images().resolve(name)), {}};
      // A name that is a tag saves that tag; an ID saves every tag of the image.
      auto ref = image::parse_reference(name);
      std::string full = ref ? image::with_default_tag(*ref).str() : "";
      if (ref && std::ranges::find(item.image.tags, full) != item.image.tags.end())
        item.tags = {full};
      else
        item.tags = item.image.tags;
      auto same = std::ranges::find_if(items, [&](const image::SaveItem& i) { return i.image.id == item.image.id; });
      if (same != items.end()) {
        for (const auto& tag : item.tags)
          if (std::ranges::find(same->tags, tag) == same->tags.end()) same->tags.push_back(tag);
      } else {
        items.push_back(std::move(item));
      }
    }
  }
  TRY(response.begin_stream(200, "application/x-tar"));
  // Blobs are immutable and an image's files are only removed with it, so
  // the stream needs no lock; a concurrent rmi makes it fail, not corrupt.
  TRY(image::save_images(engine.images(), items, [&](std::string_view data) { return response.write(data); }));
  for (const auto& item : items) engine.events().publish("image", "save", item.image.id, {{"name", item.image.id}});
  return response.finish();
}

Result<void> load(Request& request, ResponseWriter& response, engine::Engine& engine) {
  std::vector<image::LoadedImage> loaded;
  {
    std::lock_guard lock(engine.image_mutex());
    loaded = TRY(image::load_images(engine.images(), request.read_body));
  }
  std::string out;
  for (const auto& image : loaded) {
    engine.events().publish("image", "load", image.id, {{"name", image.tags.empty() ? image.id : image.tags.front()}});
    if (image.tags.empty()) out += Json{{"stream", "Loaded image ID: " + image.id + "\n"}}.dump() + "\n";
    for (const auto& tag : image.tags) out += Json{{"stream", "Loaded image: " + tag + "\n"}}.dump() + "\n";
  }
  return response.send(200, "application/json", out);
}

// POST /images/prune: dangling images, or with dangling=false every image
// no container uses (there are no containers yet, so all of them).
Result<void> prune(Request& request, ResponseWriter& response, engine::Engine& engine) {
  auto filters = TRY(parse_filters(request.query_value("filters")));
  bool only_dangling = true;
  for (const auto& [key, values] : filters) {
    if (key != "dangling" && key != "label" && key != "until") return fail("invalid filter '" + key + "'", EINVAL);
    if (key == "dangling") only_dangling = values.front() == "true" || values.front() == "1";
  }
  Json deleted = Json::array();
  int64_t reclaimed = 0;
  {
    std::lock_guard lock(engine.image_mutex());
    auto images = TRY(engine.images().list());
    for (const auto& image : images) {
      if (only_dangling && !image.tags.empty()) continue;
      if (filters.contains("until") && rfc3339_to_unix(image.created) >= std::stoll(filters["until"].front())) continue;
      if (filters.contains("label")) {
        const Json labels = image.config["config"].value("Labels", Json::object());
        bool ok = std::ranges::all_of(filters["label"], [&](const std::string& want) {
          auto eq = want.find('=');
          std::string key = want.substr(0, eq);
          return labels.contains(key) && (eq == std::string::npos || labels[key] == want.substr(eq + 1));
        });
        if (!ok) continue;
      }
      auto removed = TRY(engine.images().remove(image.id, true));
      for (const auto& event : removed) deleted.push_back({{event.deleted ? "Deleted" : "Untagged", event.what}});
      reclaimed += image.size;
      engine.events().publish("image", "delete", image.id, {{"name", image.id}});
    }
  }
  engine.events().publish("image", "prune", "", {{"reclaimed", std::to_string(reclaimed)}});
  return response.json(200, {{"ImagesDeleted", deleted.empty() ? Json(nullptr) : deleted}, {"SpaceReclaimed", reclaimed}});
}

}  // namespace

Result<Json> disk_usage_images(engine::Engine& engine) {
  std::map<std::string, int> containers;  // image id → containers made from it
  for (const auto& c : engine.containers().list()) ++containers[c.image_id];
  std::lock_guard lock(engine.image_mutex());
  auto images = TRY(engine.images().list());
  std::map<std::string, int> users;  // chain id → images using it
  for (const auto& image : images)
    for (const auto& chain : image.chain_ids) ++users[chain];
  int64_t layers_size = 0;
  for (const auto& [chain, count] : users) layers_size += TRY(engine.images().layer_size(chain));
  Json rows = Json::array();
  for (const auto& image : images) {
    int64_t shared = 0;
    for (const auto& chain : image.chain_ids)
      if (users[chain] > 1) shared += TRY(engine.images().layer_size(chain));
    Json row = summary(image);
    row["Containers"] = containers[image.id];
    row["SharedSize"] = shared;
    rows.push_back(row);
  }
  return Json{{"LayersSize", layers_size}, {"Images", rows}};
}

void add_image_routes(Router& router, engine::Engine& engine) {
  router.add("POST", "/images/prune", [&engine](Request& request, ResponseWriter& response) { return prune(request, response, engine); });
  router.add("GET", "/images/get", [&engine](Request& request, ResponseWriter& response) {
    return save(request.query_values("names"), response, engine);
  });
  router.add("GET", "/images/{name*}/get", [&engine](Request& request, ResponseWriter& response) {
    return save({request.params["name"]}, response, engine);
  });
  router.add("POST", "/images/load", [&engine](Request& request, ResponseWriter& response) { return load(request, response, engine); });
  router.add("GET", "/images/json", [&engine](Request& request, ResponseWriter& response) -> Result<void> {
    Json out = Json::array();
    for (const auto& image : TRY(filtered(engine, request))) out.push_back(summary(image));
    return response.json(200, out);
  });
  router.add("POST", "/images/create", [&engine](Request& request, ResponseWriter& response) {
    return import_image(request, response, engine);
  });
  router.add("GET", "/images/{name*}/json", [&engine](Request& request, ResponseWriter& response) -> Result<void> {
    std::lock_guard lock(engine.image_mutex());
    auto image = TRY(engine.images().resolve(request.params["name"]));
    return response.json(200, inspect(image, engine));
  });
  router.add("GET", "/images/{name*}/history", [&engine](Request& request, ResponseWriter& response) -> Result<void> {
    std::lock_guard lock(engine.image_mutex());
    auto image = TRY(engine.images().resolve(request.params["name"]));
    return response.json(200, TRY(history(image, engine)));
  });
  router.add("POST", "/images/{name*}/tag", [&engine](Request& request, ResponseWriter& response) -> Result<void> {
    std::string repo = request.query_value("repo"), tag = request.query_value("tag");
    if (repo.empty()) return fail("repository name must have at least one component", EINVAL);
    auto ref = TRY(image::parse_reference(tag.empty() ? repo : repo + ":" + tag));
    if (!ref.digest.empty()) return fail("refusing to create a tag with a digest reference", EINVAL);
    std::string id;
    {
      std::lock_guard lock(engine.image_mutex());
      id = TRY(engine.images().resolve(request.params["name"])).id;
      TRY(engine.images().tag(id, ref));
    }
    engine.events().publish("image", "tag", id, {{"name", image::with_default_tag(ref).familiar()}});
    return response.send(201, "text/plain", "");
  });
  router.add("DELETE", "/images/{name*}", [&engine](Request& request, ResponseWriter& response) -> Result<void> {
    std::vector<image::RemoveEvent> removed;
    std::string id;
    {
      std::lock_guard lock(engine.image_mutex());
      auto image = TRY(engine.images().resolve(request.params["name"]));
      id = image.id;
      bool keep = TRY(check_unused(engine, image, request.params["name"], request.query_flag("force")));
      removed = TRY(engine.images().remove(request.params["name"], request.query_flag("force"), keep));
    }
    Json out = Json::array();
    for (const auto& event : removed) {
      out.push_back({{event.deleted ? "Deleted" : "Untagged", event.what}});
      if (!event.deleted) engine.events().publish("image", "untag", id, {{"name", event.what}});
      else if (event.what == id) engine.events().publish("image", "delete", id, {{"name", id}});
    }
    return response.json(200, out);
  });
}

}  // namespace berth::api
