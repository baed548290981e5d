#include "base/digest.h"

#include <random>
#include <stdexcept>

namespace berth {

Sha256::Sha256() : ctx_(EVP_MD_CTX_new(), EVP_MD_CTX_free) {
  if (!ctx_ || EVP_DigestInit_ex(ctx_.get(), EVP_sha256(), nullptr) != 1) throw std::runtime_error("EVP sha256 init failed");
}

void Sha256::update(const void* data, size_t size) { EVP_DigestUpdate(ctx_.get(), data, size); }
void Sha256::update(std::string_view data) { update(data.data(), data.size()); }

std::string Sha256::finish() {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_DigestFinal_ex(ctx_.get(), md, &len);
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out = "sha256:";
  for (unsigned int i = 0; i < len; ++i) {
    out += kHex[md[i] >> 4];
    out += kHex[md[i] & 15];
  }
  return out;
}

std::string sha256_digest(std::string_view data) {
  Sha256 hash;
  hash.update(data);
  return hash.finish();
}

std::string random_hex(size_t count) {
  std::random_device rd;
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  for (size_t i = 0; i < count; ++i) out += kHex[rd() & 15];
  return out;
}

Result<void> validate_digest(std::string_view digest) {
  auto colon = digest.find(':');
  if (colon == std::string_view::npos) return fail("invalid digest " + std::string(digest) + ": missing algorithm");
  auto algorithm = digest.substr(0, colon);
  auto hex = digest.substr(colon + 1);
  size_t want = algorithm == "sha256" ? 64 : algorithm == "sha512" ? 128 : 0;
  if (want == 0) return fail("invalid digest " + std::string(digest) + ": unsupported algorithm");
  if (hex.size() != want || hex.find_first_not_of("0123456789abcdef") != std::string_view::npos)
    return fail("invalid digest " + std::string(digest) + ": bad hex");
  return {};
}

std::string hex_of(const std::string& digest) { return digest.substr(digest.find(':') + 1); }

}  // namespace berth
