// sha256 content digests ("sha256:<64 hex>") through OpenSSL's EVP interface.
#pragma once

#include <openssl/evp.h>

#include <memory>
#include <string>
#include <string_view>

#include "base/error.h"

namespace berth {

// Incremental sha256: feed bytes with update(), read "sha256:…" from finish().
class Sha256 {
 public:
  Sha256();
  void update(std::string_view data);
  void update(const void* data, size_t size);
  std::string finish();  // "sha256:<hex>"

 private:
  std::unique_ptr<EVP_MD_CTX, void (*)(EVP_MD_CTX*)> ctx_;
};

std::string sha256_digest(std::string_view data);

// count random lowercase hex digits (IDs of containers, execs, uploads).
std::string random_hex(size_t count);

// The hex of "sha256:<hex>": how blobs are named on disk.
std::string hex_of(const std::string& digest);

// Checks the shape "sha256:<64 lowercase hex>" (or sha512 with 128).
Result<void> validate_digest(std::string_view digest);

}  // namespace berth
