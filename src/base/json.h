// JSON through nlohmann, with an error-returning parse for untrusted input.
#pragma once

#include <nlohmann/json.hpp>

#include "base/error.h"

namespace berth {

using Json = nlohmann::json;

// Parses text, reporting malformed JSON as an error instead of throwing.
Result<Json> parse_json(std::string_view text);

}  // namespace berth
