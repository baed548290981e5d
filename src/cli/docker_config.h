// The credentials `login` stores, in Docker's own file ($DOCKER_CONFIG or
// ~/.docker, config.json, "auths": {SERVER: {"auth": base64("user:pass")}}),
// so that Docker and berth share them.
#pragma once

#include <optional>
#include <string>

#include "base/error.h"

namespace berth::cli {

struct StoredAuth {
  std::string username;
  std::string password;
};

// The key of a registry in "auths": Docker Hub's is "https://index.docker.io/v1/".
std::string auth_key(const std::string& domain);

std::string docker_config_path();

Result<std::optional<StoredAuth>> load_auth(const std::string& domain);
// Writes the file (mode 0600) keeping every other setting in it.
Result<void> store_auth(const std::string& domain, const StoredAuth& auth);
// False when there was nothing stored.
Result<bool> remove_auth(const std::string& domain);

// X-Registry-Auth for a request to the daemon about domain: the stored
// credentials, or "{}" (anonymous).
std::string registry_auth_header(const std::string& domain);

}  // namespace berth::cli
