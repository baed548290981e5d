// JSON through nlohmann, with an error-returning parse for untrusted input.
#pragma once

#include <nlohmann/json.hpp>

#include "base/error.h"

namespace berth {

using Json = nlohmann::json;

// Parses text, reporting malformed JSON as an error instead of throwing.
Result<Json> parse_json(std::string_view text);

// object[key] of JSON from clients (Config, HostConfig): null when object is
// not an object or has no such key; string_field gives "" for a non-string.
Json field(const Json& object, const char* key);
std::string string_field(const Json& object, const char* key);
// 0 when absent or not an integer.
int64_t integer_field(const Json& object, const char* key);

}  // namespace berth
