#include "cli/docker_config.h"

#include <cstdlib>

#include "base/base64.h"
#include "base/file.h"
#include "base/json.h"
#include "image/reference.h"

namespace berth::cli {

namespace {

Result<Json> load_config() {
  std::string path = docker_config_path();
  if (!path_exists(path)) return Json::object();
  auto doc = parse_json(TRY(read_file(path)));
  if (!doc || !doc->is_object()) return fail(path + ": invalid JSON", EINVAL);
  return *doc;
}

// The "auths" key naming domain, however it was spelled ("http://host:port", "host:port/").
std::optional<std::string> find_key(const Json& auths, const std::string& domain) {
  for (const auto& [key, value] : auths.items())
    if (image::registry_domain(key) == domain) return key;
  return std::nullopt;
}

}  // namespace

std::string auth_key(const std::string& domain) { return domain == "docker.io" ? "https://index.docker.io/v1/" : domain; }

std::string docker_config_path() {
  if (const char* dir = std::getenv("DOCKER_CONFIG"); dir && *dir) return std::string(dir) + "/config.json";
  const char* home = std::getenv("HOME");
  return std::string(home && *home ? home : "/root") + "/.docker/config.json";
}

Result<std::optional<StoredAuth>> load_auth(const std::string& domain) {
  Json config = TRY(load_config());
  if (!config.contains("auths") || !config["auths"].is_object()) return std::nullopt;
  auto key = find_key(config["auths"], domain);
  if (!key) return std::nullopt;
  const Json& entry = config["auths"][*key];
  if (!entry.is_object() || !entry.contains("auth") || !entry["auth"].is_string()) return std::nullopt;
  auto decoded = base64_decode(entry["auth"].get<std::string>());
  if (!decoded || decoded->find(':') == std::string::npos) return fail(docker_config_path() + ": invalid auth for " + *key, EINVAL);
  auto colon = decoded->find(':');
  return StoredAuth{decoded->substr(0, colon), decoded->substr(colon + 1)};
}

Result<void> store_auth(const std::string& domain, const StoredAuth& auth) {
  Json config = TRY(load_config());
  if (!config.contains("auths") || !config["auths"].is_object()) config["auths"] = Json::object();
  if (auto old = find_key(config["auths"], domain)) config["auths"].erase(*old);
  config["auths"][auth_key(domain)] = {{"auth", base64_encode(auth.username + ":" + auth.password)}};
  std::string path = docker_config_path();
  TRY(make_dirs(path.substr(0, path.rfind('/')), 0700));
  return write_file_atomic(path, config.dump(1, '\t') + "\n", 0600);
}

Result<bool> remove_auth(const std::string& domain) {
  Json config = TRY(load_config());
  if (!config.contains("auths") || !config["auths"].is_object()) return false;
  auto key = find_key(config["auths"], domain);
  if (!key) return false;
  config["auths"].erase(*key);
  TRY(write_file_atomic(docker_config_path(), config.dump(1, '\t') + "\n", 0600));
  return true;
}

std::string registry_auth_header(const std::string& domain) {
  auto stored = load_auth(domain);
  if (!stored || !*stored) return base64url_encode("{}");
  Json doc = {{"username", (*stored)->username}, {"password", (*stored)->password}, {"serveraddress", auth_key(domain)}};
  return base64url_encode(doc.dump());
}

}  // namespace berth::cli
