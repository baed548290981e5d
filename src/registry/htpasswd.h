// Basic authentication for berth-registry from an htpasswd file of bcrypt
// hashes ("user:$2y$…" lines), as the distribution registry takes it.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <utility>

#include "base/error.h"

namespace berth::registry {

class Htpasswd {
 public:
  // Reads the file; a line whose hash is not bcrypt is an error.
  static Result<Htpasswd> load(const std::string& path);
  bool verify(const std::string& user, const std::string& password) const;

 private:
  std::map<std::string, std::string> hashes_;
};

// The user and password of an "Authorization: Basic …" header.
std::optional<std::pair<std::string, std::string>> basic_credentials(const std::string& header);

}  // namespace berth::registry
