// Strict, path-reporting readers from JSON into plain structs. Each
// read_value overload checks the JSON type and reports "<path>: must be …".
#pragma once

#include <cstdint>
#include <limits>
#include <map>
#include <optional>
#include <string>
#include <type_traits>
#include <vector>

#include "base/error.h"
#include "base/json.h"

namespace berth::oci {

inline std::unexpected<Error> type_error(const std::string& path, std::string_view want) {
  return fail(path + ": must be " + std::string(want));
}

inline Result<void> read_value(const Json& j, const std::string& path, std::string& out) {
  if (!j.is_string()) return type_error(path, "a string");
  out = j.get<std::string>();
  return {};
}

inline Result<void> read_value(const Json& j, const std::string& path, bool& out) {
  if (!j.is_boolean()) return type_error(path, "a boolean");
  out = j.get<bool>();
  return {};
}

template <typename T>
  requires(std::is_integral_v<T> && !std::is_same_v<T, bool>)
Result<void> read_value(const Json& j, const std::string& path, T& out) {
  if (std::is_unsigned_v<T>) {
    // Parsed text stores non-negative integers as unsigned; JSON built in
    // code may hold them as signed.
    if (!j.is_number_integer() || (!j.is_number_unsigned() && j.get<int64_t>() < 0))
      return type_error(path, "an unsigned integer");
    uint64_t v = j.get<uint64_t>();
    if (v > std::numeric_limits<T>::max()) return fail(path + ": out of range");
    out = static_cast<T>(v);
  } else {
    if (!j.is_number_integer()) return type_error(path, "an integer");
    if (j.is_number_unsigned() && j.get<uint64_t>() > static_cast<uint64_t>(std::numeric_limits<T>::max()))
      return fail(path + ": out of range");
    int64_t v = j.get<int64_t>();
    if (v < std::numeric_limits<T>::min() || v > std::numeric_limits<T>::max()) return fail(path + ": out of range");
    out = static_cast<T>(v);
  }
  return {};
}

template <typename T>
Result<void> read_value(const Json& j, const std::string& path, std::optional<T>& out) {
  if (j.is_null()) return {};
  T value{};
  TRY(read_value(j, path, value));
  out = std::move(value);
  return {};
}

template <typename T>
Result<void> read_value(const Json& j, const std::string& path, std::vector<T>& out) {
  if (j.is_null()) return {};
  if (!j.is_array()) return type_error(path, "an array");
  out.clear();
  out.reserve(j.size());
  for (size_t i = 0; i < j.size(); ++i) {
    T item{};
    TRY(read_value(j[i], path + "[" + std::to_string(i) + "]", item));
    out.push_back(std::move(item));
  }
  return {};
}

inline Result<void> read_value(const Json& j, const std::string& path, std::map<std::string, std::string>& out) {
  if (j.is_null()) return {};
  if (!j.is_object()) return type_error(path, "an object");
  for (const auto& [key, value] : j.items()) TRY(read_value(value, path + "." + key, out[key]));
  return {};
}

// Reads obj[key] into out when present; an absent or null optional field
// keeps its default.
template <typename T>
Result<void> read_field(const Json& obj, const char* key, const std::string& path, T& out) {
  auto it = obj.find(key);
  if (it == obj.end() || it->is_null()) return {};
  return read_value(*it, path.empty() ? key : path + "." + key, out);
}

// As read_field, for a field the spec marks REQUIRED.
template <typename T>
Result<void> read_required(const Json& obj, const char* key, const std::string& path, T& out) {
  auto it = obj.find(key);
  std::string field = path.empty() ? key : path + "." + key;
  if (it == obj.end() || it->is_null()) return fail(field + ": is required");
  return read_value(*it, field, out);
}

inline Result<void> expect_object(const Json& j, const std::string& path) {
  if (!j.is_object()) return type_error(path.empty() ? "config" : path, "an object");
  return {};
}

}  // namespace berth::oci
