#include "registry/htpasswd.h"

#include <crypt.h>

#include <cstring>
#include <memory>
#include <sstream>

#include "base/base64.h"
#include "base/file.h"

namespace berth::registry {

Result<Htpasswd> Htpasswd::load(const std::string& path) {
  auto text = read_file(path);
  if (!text) return fail("htpasswd " + path + ": " + text.error().message(), text.error().code());
  Htpasswd out;
  std::istringstream in(*text);
  int number = 0;
  for (std::string line; std::getline(in, line);) {
    ++number;
    if (line.empty() || line.starts_with('#')) continue;
    auto colon = line.find(':');
    std::string hash = colon == std::string::npos ? "" : line.substr(colon + 1);
    if (colon == 0 || !(hash.starts_with("$2y$") || hash.starts_with("$2b$") || hash.starts_with("$2a$")))
      return fail("htpasswd " + path + " line " + std::to_string(number) + ": want user:bcrypt-hash", EINVAL);
    out.hashes_[line.substr(0, colon)] = hash;
  }
  return out;
}

bool Htpasswd::verify(const std::string& user, const std::string& password) const {
  auto it = hashes_.find(user);
  if (it == hashes_.end()) return false;
  auto data = std::make_unique<crypt_data>();  // large: not on the stack
  const char* hashed = ::crypt_r(password.c_str(), it->second.c_str(), data.get());
  return hashed && hashed[0] != '*' && it->second == hashed;
}

std::optional<std::pair<std::string, std::string>> basic_credentials(const std::string& header) {
  if (!header.starts_with("Basic ")) return std::nullopt;
  auto decoded = base64_decode(std::string_view(header).substr(6));
  if (!decoded) return std::nullopt;
  auto colon = decoded->find(':');
  if (colon == std::string::npos) return std::nullopt;
  return std::pair{decoded->substr(0, colon), decoded->substr(colon + 1)};
}

}  // namespace berth::registry
