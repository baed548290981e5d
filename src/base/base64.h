// Base64 (RFC 4648) for HTTP headers: Basic credentials, X-Registry-Auth,
// the archive stat header, config.json's auths.
#pragma once

#include <string>
#include <string_view>

#include "base/error.h"

namespace berth {

// Standard alphabet with padding.
std::string base64_encode(std::string_view data);
// The URL-safe alphabet with padding, as Go's base64.URLEncoding (X-Registry-Auth).
std::string base64url_encode(std::string_view data);
// Either alphabet, padding optional; anything else is an error.
Result<std::string> base64_decode(std::string_view text);

}  // namespace berth
