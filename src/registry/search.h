// docker search: a registry's v1 search endpoint (/v1/search?q=&n=).
#pragma once

#include <string>

#include "base/error.h"
#include "base/json.h"
#include "registry/session.h"

namespace berth::registry {

// The results array: [{"name", "description", "star_count", "is_official", "is_automated"}].
Result<Json> search(Session& session, const std::string& term, int limit);

}  // namespace berth::registry
