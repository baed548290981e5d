#include "http/http.h"

#include <cctype>

namespace berth::http {

std::string Request::query_value(const std::string& key, const std::string& fallback) const {
  auto it = query.find(key);
  return it == query.end() ? fallback : it->second;
}

std::vector<std::string> Request::query_values(const std::string& key) const {
  std::vector<std::string> values;
  for (auto [it, end] = query.equal_range(key); it != end; ++it) values.push_back(it->second);
  return values;
}

bool Request::query_flag(const std::string& key) const {
  auto value = query_value(key);
  return value == "1" || value == "true" || value == "True";
}

std::string url_decode(std::string_view text) {
  std::string out;
  for (size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '+') {
      out += ' ';
    } else if (text[i] == '%' && i + 2 < text.size() && std::isxdigit(static_cast<unsigned char>(text[i + 1])) &&
               std::isxdigit(static_cast<unsigned char>(text[i + 2]))) {
      out += static_cast<char>(std::stoi(std::string(text.substr(i + 1, 2)), nullptr, 16));
      i += 2;
    } else {
      out += text[i];
    }
  }
  return out;
}

}  // namespace berth::http
