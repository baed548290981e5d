// The Engine API's registry side: pull (/images/create?fromImage=), push,
// search and /auth. Credentials come in each request (X-Registry-Auth, or
// the /auth body) and are never logged or echoed.
#include <algorithm>

#include "api/routes.h"
#include "base/base64.h"
#include "base/file.h"
#include "image/reference.h"
#include "registry/pull.h"
#include "registry/push.h"
#include "registry/search.h"

namespace berth::api {

namespace {

using image::Reference;

// {"username", "password"} (or "auth": base64 "user:pass", or "registrytoken").
registry::Credentials credentials_from(const Json& doc) {
  registry::Credentials c;
  if (!doc.is_object()) return c;
  auto text = [&](const char* key) { return doc.contains(key) && doc[key].is_string() ? doc[key].get<std::string>() : std::string(); };
  c.username = text("username");
  c.password = text("password");
  c.registry_token = text("registrytoken");
  if (c.username.empty() && !text("auth").empty())
    if (auto decoded = base64_decode(text("auth")); decoded && decoded->find(':') != std::string::npos) {
      c.username = decoded->substr(0, decoded->find(':'));
      c.password = decoded->substr(decoded->find(':') + 1);
    }
  return c;
}

// X-Registry-Auth: base64url of the JSON auth config; absent or "{}" is anonymous.
registry::Credentials request_credentials(const Request& request) {
  auto it = request.headers.find("x-registry-auth");
  if (it == request.headers.end() || it->second.empty()) return {};
  auto decoded = base64_decode(it->second);
  if (!decoded) return {};
  auto doc = parse_json(*decoded);
  return doc ? credentials_from(*doc) : registry::Credentials{};
}

std::unique_ptr<registry::Session> session_for(engine::Engine& engine, const std::string& domain, registry::Credentials credentials) {
  const auto& insecure = engine.config().insecure_registries;
  bool allowed = std::ranges::find(insecure, domain) != insecure.end();
  return std::make_unique<registry::Session>(domain, std::move(credentials), allowed);
}

// Progress messages become a JSON stream, started by the first one so
// that a failure before any (no such image, no access) is an HTTP error.
struct ProgressStream {
  ResponseWriter& response;
  registry::Progress progress{[this](const Json& message) {
    if (!response.started()) (void)response.begin_stream(200, "application/json");
    (void)response.write(message.dump() + "\n");
  }};

  Result<void> end(const Result<void>& outcome) {
    if (outcome) return response.started() ? response.finish() : response.json(200, Json::object());
    if (!response.started()) return std::unexpected(outcome.error());
    (void)response.write(Json{{"errorDetail", {{"message", outcome.error().message()}}}, {"error", outcome.error().message()}}.dump() + "\n");
    return response.finish();
  }
};

Result<void> pull_tags(Request& request, ResponseWriter& response, engine::Engine& engine, Reference ref) {
  registry::PullOptions options;
  if (std::string platform = request.query_value("platform"); !platform.empty()) options.platform = TRY(registry::parse_platform(platform));
  options.download_dir = engine.download_dir();
  options.store_lock = &engine.image_mutex();
  auto session = session_for(engine, ref.domain, request_credentials(request));
  ProgressStream stream{response};
  auto outcome = [&]() -> Result<void> {
    std::vector<Reference> refs;
    bool all_tags = ref.tag.empty() && ref.digest.empty();
    if (all_tags) {
      for (const auto& tag : TRY(registry::list_tags(*session, ref.path))) refs.push_back(Reference{ref.domain, ref.path, tag, ""});
    } else {
      refs.push_back(ref);
    }
    bool downloaded = false;
    std::string last_digest;
    for (const auto& one : refs) {
      auto result = TRY(registry::pull(*session, engine.images(), one, options, stream.progress));
      downloaded |= result.downloaded;
      last_digest = result.digest;
      engine.events().publish("image", "pull", one.familiar(), {{"name", one.familiar()}});
    }
    Reference shown = all_tags ? Reference{ref.domain, ref.path, "", ""} : ref;
    std::string name = all_tags ? shown.familiar_name() : shown.familiar();
    if (!all_tags) stream.progress.status("Digest: " + last_digest);
    stream.progress.status(std::string("Status: ") + (downloaded ? "Downloaded newer image for " : "Image is up to date for ") + name);
    return {};
  }();
  return stream.end(outcome);
}

Result<void> push_tags(Request& request, ResponseWriter& response, engine::Engine& engine, const std::string& name) {
  auto repo = TRY(image::parse_reference(name));
  if (!repo.digest.empty()) return fail("cannot push a digest reference", EINVAL);
  std::string tag = request.query_value("tag");
  if (!tag.empty()) repo.tag = tag;
  std::vector<Reference> refs;
  if (!repo.tag.empty()) {
    refs.push_back(repo);
  } else {
    std::lock_guard lock(engine.image_mutex());
    for (const auto& image : TRY(engine.images().list()))
      for (const auto& t : image.tags)
        if (auto r = image::parse_reference(t); r && r->name() == repo.name()) refs.push_back(*r);
    if (refs.empty()) return fail("An image does not exist locally with the tag: " + repo.familiar_name(), ENOENT);
    std::ranges::sort(refs, {}, &Reference::tag);
  }
  registry::PushOptions options;
  options.work_dir = engine.config().data_root + "/tmp";
  options.store_lock = &engine.image_mutex();
  auto session = session_for(engine, repo.domain, request_credentials(request));
  ProgressStream stream{response};
  stream.progress.status("The push refers to repository [" + repo.name() + "]");
  auto outcome = [&]() -> Result<void> {
    for (const auto& ref : refs) {
      auto pushed = TRY(registry::push(*session, engine.images(), ref, options, stream.progress));
      stream.progress.status(ref.tag + ": digest: " + pushed.digest + " size: " + std::to_string(pushed.size));
      (void)response.write(Json{{"progressDetail", Json::object()}, {"aux", {{"Tag", ref.tag}, {"Digest", pushed.digest}, {"Size", pushed.size}}}}.dump() + "\n");
      engine.events().publish("image", "push", ref.familiar(), {{"name", ref.familiar()}});
    }
    return {};
  }();
  return stream.end(outcome);
}

Result<void> search(Request& request, ResponseWriter& response, engine::Engine& engine) {
  std::string term = request.query_value("term");
  if (term.empty()) return fail("term is required", EINVAL);
  int limit = 25;
  if (std::string text = request.query_value("limit"); !text.empty()) {
    char* end = nullptr;
    long value = std::strtol(text.c_str(), &end, 10);
    if (*end || value < 1 || value > 100) return fail("limit " + text + " is outside the range of [1, 100]", EINVAL);
    limit = static_cast<int>(value);
  }
  auto filters = TRY(parse_filters(request.query_value("filters")));
  for (const auto& [key, values] : filters)
    if (key != "stars" && key != "is-official" && key != "is-automated") return fail("invalid filter '" + key + "'", EINVAL);
  // "localhost:5000/app" searches localhost:5000 for "app"; a bare term, Docker Hub.
  std::string domain = "index.docker.io", query = term;
  if (auto slash = term.find('/'); slash != std::string::npos) {
    std::string first = term.substr(0, slash);
    if (first.find('.') != std::string::npos || first.find(':') != std::string::npos || first == "localhost") {
      domain = first;
      query = term.substr(slash + 1);
    }
  }
  auto session = session_for(engine, domain, request_credentials(request));
  Json results = TRY(registry::search(*session, query, limit));
  Json out = Json::array();
  for (const auto& r : results) {
    if (!r.is_object()) continue;
    int64_t stars = r.value("star_count", int64_t{0});
    bool official = r.value("is_official", false), automated = r.value("is_automated", false);
    if (filters.contains("stars") && stars < std::stoll(filters["stars"].front())) continue;
    if (filters.contains("is-official") && official != (filters["is-official"].front() == "true")) continue;
    if (filters.contains("is-automated") && automated != (filters["is-automated"].front() == "true")) continue;
    out.push_back({{"name", r.value("name", "")},
                   {"description", r.value("description", "")},
                   {"star_count", stars},
                   {"is_official", official},
                   {"is_automated", automated}});
  }
  return response.json(200, out);
}

Result<void> auth(Request& request, ResponseWriter& response, engine::Engine& engine) {
  Json body = TRY(read_json_body(request));
  registry::Credentials credentials = credentials_from(body);
  std::string address = body.value("serveraddress", "");
  auto session = session_for(engine, image::registry_domain(address), std::move(credentials));
  if (auto ok = session->login(); !ok) {
    Error error = ok.error();
    if (error.code() == EACCES) return response.json(401, {{"message", error.message()}});
    return std::unexpected(error);
  }
  return response.json(200, {{"Status", "Login Succeeded"}, {"IdentityToken", ""}});
}

}  // namespace

Result<void> pull_image(Request& request, ResponseWriter& response, engine::Engine& engine) {
  auto ref = TRY(image::parse_reference(request.query_value("fromImage")));
  std::string tag = request.query_value("tag");
  if (!tag.empty()) {
    if (tag.starts_with("sha256:")) ref.digest = tag, ref.tag.clear();
    else ref = TRY(image::parse_reference(ref.name() + ":" + tag));
  }
  return pull_tags(request, response, engine, ref);
}

void add_registry_routes(Router& router, engine::Engine& engine) {
  router.add("POST", "/images/{name*}/push", [&engine](Request& request, ResponseWriter& response) {
    return push_tags(request, response, engine, request.params["name"]);
  });
  router.add("GET", "/images/search", [&engine](Request& request, ResponseWriter& response) { return search(request, response, engine); });
  router.add("POST", "/auth", [&engine](Request& request, ResponseWriter& response) { return auth(request, response, engine); });
}

}  // namespace berth::api
