#include "image/reference.h"

#include <cctype>

#include "base/digest.h"

namespace berth::image {

namespace {

constexpr size_t kMaxNameLength = 255;
constexpr std::string_view kDefaultDomain = "docker.io";
constexpr std::string_view kLegacyDomain = "index.docker.io";
constexpr std::string_view kOfficialPrefix = "library/";

std::unexpected<Error> invalid(std::string_view why = {}) {
  return fail(why.empty() ? "invalid reference format" : "invalid reference format: " + std::string(why), EINVAL);
}

bool is_lower_alnum(char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'); }

// path-component := [a-z0-9]+ (separator [a-z0-9]+)*, separator := [_.] | __ | -+
bool valid_path_component(std::string_view c) {
  if (c.empty() || !is_lower_alnum(c.front()) || !is_lower_alnum(c.back())) return false;
  for (size_t i = 0; i < c.size();) {
    if (is_lower_alnum(c[i])) {
      ++i;
      continue;
    }
    size_t start = i;
    while (i < c.size() && !is_lower_alnum(c[i])) ++i;
    std::string_view sep = c.substr(start, i - start);
    bool dashes = sep.find_first_not_of('-') == std::string_view::npos;
    if (!(sep == "_" || sep == "." || sep == "__" || dashes)) return false;
  }
  return true;
}

// domain-component := [a-zA-Z0-9] | [a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9]
bool valid_domain_component(std::string_view c) {
  if (c.empty() || !std::isalnum(static_cast<unsigned char>(c.front())) || !std::isalnum(static_cast<unsigned char>(c.back())))
    return false;
  for (char ch : c)
    if (!std::isalnum(static_cast<unsigned char>(ch)) && ch != '-') return false;
  return true;
}

// domain := host [":" port], host := components joined by "." or "[" IPv6 "]".
bool valid_domain(std::string_view domain) {
  std::string_view host = domain;
  if (host.starts_with('[')) {
    auto close = host.find(']');
    if (close == std::string_view::npos || close < 3) return false;
    if (host.substr(1, close - 1).find_first_not_of("0123456789abcdefABCDEF:.") != std::string_view::npos) return false;
    host = host.substr(close + 1);
    if (host.empty()) return true;
    if (host.front() != ':') return false;
  } else {
    auto colon = host.find(':');
    std::string_view name = host.substr(0, colon);
    size_t start = 0;
    while (true) {
      auto dot = name.find('.', start);
      if (!valid_domain_component(name.substr(start, dot - start))) return false;
      if (dot == std::string_view::npos) break;
      start = dot + 1;
    }
    if (colon == std::string_view::npos) return true;
    host = host.substr(colon);
  }
  std::string_view port = host.substr(1);
  return !port.empty() && port.find_first_not_of("0123456789") == std::string_view::npos;
}

// tag := [\w][\w.-]{0,127}
bool valid_tag(std::string_view tag) {
  auto word = [](char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_'; };
  if (tag.empty() || tag.size() > 128 || !word(tag.front())) return false;
  for (char c : tag)
    if (!word(c) && c != '.' && c != '-') return false;
  return true;
}

// Does the first component name a registry? Docker: it does when it has a
// "." or ":" or is "localhost", or has an uppercase letter (never a repo).
bool is_domain(std::string_view first) {
  if (first == "localhost") return true;
  if (first.find_first_of(".:") != std::string_view::npos) return true;
  for (char c : first)
    if (c >= 'A' && c <= 'Z') return true;
  return false;
}

}  // namespace

std::string Reference::str() const {
  std::string out = name();
  if (!tag.empty()) out += ":" + tag;
  if (!digest.empty()) out += "@" + digest;
  return out;
}

std::string Reference::familiar_name() const {
  if (domain != kDefaultDomain) return name();
  if (path.starts_with(kOfficialPrefix) && path.find('/', kOfficialPrefix.size()) == std::string::npos)
    return path.substr(kOfficialPrefix.size());
  return path;
}

std::string Reference::familiar() const {
  std::string out = familiar_name();
  if (!tag.empty()) out += ":" + tag;
  if (!digest.empty()) out += "@" + digest;
  return out;
}

Result<Reference> parse_reference(std::string_view text) {
  if (text.empty()) return invalid();
  if (text.size() == 64 && looks_like_id(text))
    return fail("invalid repository name (" + std::string(text) + "), cannot specify 64-byte hexadecimal strings", EINVAL);
  Reference ref;
  std::string_view rest = text;

  if (auto at = rest.find('@'); at != std::string_view::npos) {
    ref.digest = std::string(rest.substr(at + 1));
    rest = rest.substr(0, at);
    if (!validate_digest(ref.digest)) return invalid();
  }
  // A ":" after the last "/" starts the tag; one before it is a port.
  auto last_slash = rest.rfind('/');
  auto colon = rest.rfind(':');
  if (colon != std::string_view::npos && (last_slash == std::string_view::npos || colon > last_slash)) {
    ref.tag = std::string(rest.substr(colon + 1));
    rest = rest.substr(0, colon);
    if (!valid_tag(ref.tag)) return invalid();
  }
  if (rest.empty()) return invalid();

  std::string_view remote = rest;
  auto first_slash = rest.find('/');
  if (first_slash != std::string_view::npos && is_domain(rest.substr(0, first_slash))) {
    ref.domain = std::string(rest.substr(0, first_slash));
    remote = rest.substr(first_slash + 1);
    if (!valid_domain(ref.domain)) return invalid();
  } else {
    ref.domain = std::string(kDefaultDomain);
  }
  if (ref.domain == kLegacyDomain) ref.domain = std::string(kDefaultDomain);
  ref.path = std::string(remote);
  if (ref.domain == kDefaultDomain && ref.path.find('/') == std::string::npos) ref.path.insert(0, kOfficialPrefix);

  for (char c : ref.path)
    if (c >= 'A' && c <= 'Z') return invalid("repository name (" + ref.path + ") must be lowercase");
  size_t start = 0;
  while (true) {
    auto slash = ref.path.find('/', start);
    if (!valid_path_component(std::string_view(ref.path).substr(start, slash - start))) return invalid();
    if (slash == std::string::npos) break;
    start = slash + 1;
  }
  if (ref.name().size() > kMaxNameLength) return invalid("repository name must not be more than 255 characters");
  return ref;
}

Reference with_default_tag(Reference ref) {
  if (ref.tag.empty() && ref.digest.empty()) ref.tag = "latest";
  return ref;
}

bool looks_like_id(std::string_view text) {
  if (text.starts_with("sha256:")) text.remove_prefix(7);
  return !text.empty() && text.size() <= 64 && text.find_first_not_of("0123456789abcdef") == std::string_view::npos;
}

std::string registry_domain(const std::string& server) {
  std::string s = server;
  for (const char* scheme : {"https://", "http://"})
    if (s.starts_with(scheme)) s = s.substr(std::string_view(scheme).size());
  s = s.substr(0, s.find('/'));
  if (s.empty() || s == "index.docker.io" || s == "registry-1.docker.io") return "docker.io";
  return s;
}

}  // namespace berth::image
