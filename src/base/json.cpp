#include "base/json.h"

namespace berth {

Result<Json> parse_json(std::string_view text) {
  Json doc = Json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (doc.is_discarded()) {
    // Parse again for the position and reason nlohmann reports.
    try {
      Json again = Json::parse(text);
    } catch (const Json::parse_error& e) {
      std::string what = e.what();
      auto pos = what.find("parse error");
      return fail("invalid JSON: " + (pos == std::string::npos ? what : what.substr(pos)));
    }
    return fail("invalid JSON");
  }
  return doc;
}

Json field(const Json& object, const char* key) {
  if (!object.is_object()) return nullptr;
  auto it = object.find(key);
  return it == object.end() ? Json(nullptr) : *it;
}

std::string string_field(const Json& object, const char* key) {
  Json value = field(object, key);
  return value.is_string() ? value.get<std::string>() : "";
}

int64_t integer_field(const Json& object, const char* key) {
  Json v = field(object, key);
  return v.is_number_integer() ? v.get<int64_t>() : 0;
}

}  // namespace berth
