// Fetching a URL to a file with libcurl (import from a URL; later the
// registry client builds on the same library).
#pragma once

#include <string>

#include "base/error.h"

namespace berth {

// Downloads url into path (created or truncated); http and https only,
// following redirects; a status of 400 or more is an error.
Result<void> download(const std::string& url, const std::string& path);

}  // namespace berth
