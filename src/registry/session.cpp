#include "registry/session.h"

#include <arpa/inet.h>

#include <algorithm>

#include "base/base64.h"
#include "base/json.h"

namespace berth::registry {

namespace {

std::string status_text(int status) {
  switch (status) {
    case 400: return "Bad Request";
    case 401: return "Unauthorized";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 416: return "Requested Range Not Satisfiable";
    case 429: return "Too Many Requests";
    case 500: return "Internal Server Error";
    case 502: return "Bad Gateway";
    case 503: return "Service Unavailable";
    default: return "status " + std::to_string(status);
  }
}


}  // namespace

bool is_loopback_registry(const std::string& domain) {
  std::string host = domain;
  if (host.starts_with('[')) host = host.substr(1, host.find(']') - 1);
  else host = host.substr(0, host.find(':'));
  if (host == "localhost" || host == "::1") return true;
  in_addr address{};
  return ::inet_pton(AF_INET, host.c_str(), &address) == 1 && (ntohl(address.s_addr) >> 24) == 127;
}

std::string registry_error(const HttpResponse& response) {
  auto body = parse_json(response.body);
  if (body && body->is_object() && body->contains("errors") && (*body)["errors"].is_array() && !(*body)["errors"].empty()) {
    std::string text;
    for (const auto& error : (*body)["errors"]) {
      std::string code = error.value("code", "unknown");
      std::ranges::transform(code, code.begin(), [](char c) { return c == '_' ? ' ' : static_cast<char>(::tolower(c)); });
      std::string message = error.contains("message") && error["message"].is_string() ? error["message"].get<std::string>() : "";
      if (!text.empty()) text += "; ";
      text += message.empty() ? code : code + ": " + message;
    }
    return text;
  }
  // Token servers (Docker Hub's) say why in "details".
  if (response.status == 401 && body && body->is_object() && body->contains("details") && (*body)["details"].is_string())
    return "unauthorized: " + (*body)["details"].get<std::string>();
  if (response.status == 401) return "unauthorized: authentication required";
  return status_text(response.status);
}

std::map<std::string, std::string> parse_challenge(const std::string& header) {
  std::map<std::string, std::string> out;
  auto space = header.find(' ');
  std::string scheme = header.substr(0, space);
  std::ranges::transform(scheme, scheme.begin(), ::tolower);
  out["scheme"] = scheme;
  size_t i = space == std::string::npos ? header.size() : space + 1;
  while (i < header.size()) {
    while (i < header.size() && (header[i] == ' ' || header[i] == ',')) ++i;
    auto eq = header.find('=', i);
    if (eq == std::string::npos) break;
    std::string key = header.substr(i, eq - i);
    std::ranges::transform(key, key.begin(), ::tolower);
    std::string value;
    i = eq + 1;
    if (i < header.size() && header[i] == '"') {
      for (++i; i < header.size() && header[i] != '"'; ++i) {
        if (header[i] == '\\' && i + 1 < header.size()) ++i;
        value += header[i];
      }
      ++i;
    } else {
      auto end = header.find(',', i);
      value = header.substr(i, end == std::string::npos ? std::string::npos : end - i);
      i = end == std::string::npos ? header.size() : end;
    }
    out[key] = value;
  }
  return out;
}

std::string repository_scope(const std::string& path, bool push) {
  return "repository:" + path + (push ? ":pull,push" : ":pull");
}

Session::Session(std::string domain, Credentials credentials, bool insecure)
    : domain_(std::move(domain)), credentials_(std::move(credentials)), insecure_(insecure || is_loopback_registry(domain_)) {
  host_ = domain_ == "docker.io" ? "registry-1.docker.io" : domain_;
}

Result<void> Session::connect() {
  if (!base_.empty()) return {};
  // https first; an insecure registry may answer in plain HTTP instead.
  HttpRequest ping{.url = "https://" + host_ + "/v2/"};
  ping.verify_tls = !insecure_;
  auto response = perform(ping);
  if (!response && insecure_) {
    ping.url = "http://" + host_ + "/v2/";
    auto plain = perform(ping);
    if (plain) response = std::move(plain);
  }
  if (!response) return std::unexpected(response.error());
  base_ = ping.url.substr(0, ping.url.size() - 4);
  if (response->status == 401) {
    challenge_ = parse_challenge(response->header("www-authenticate"));
    scheme_ = challenge_["scheme"];
  }
  return {};
}

Result<void> Session::login() {
  TRY(connect());
  std::string ping = base_ + "/v2/";
  if (scheme_ == "bearer") {
    auto token = this->token("", true);
    if (!token) return fail("Get \"" + ping + "\": " + token.error().message(), EACCES);
    return {};
  }
  HttpRequest request{.url = ping};
  request.verify_tls = !insecure_;
  if (!credentials_.username.empty())
    request.headers.push_back("Authorization: Basic " + base64_encode(credentials_.username + ":" + credentials_.password));
  auto response = TRY(perform(request));
  if (response.status == 401 || response.status == 403)
    return fail("login attempt to " + ping + " failed with status: " + std::to_string(response.status) + " " + status_text(response.status), EACCES);
  return {};
}

Result<std::string> Session::token(const std::string& scope, bool renew) {
  std::lock_guard lock(mutex_);
  if (!renew)
    if (auto it = tokens_.find(scope); it != tokens_.end()) return it->second;
  if (!credentials_.registry_token.empty()) return credentials_.registry_token;
  std::string realm = challenge_["realm"];
  if (realm.empty()) return fail("the registry's bearer challenge has no realm", EPROTO);
  std::string url = realm + (realm.find('?') == std::string::npos ? "?" : "&");
  if (!challenge_["service"].empty()) url += "service=" + url_escape(challenge_["service"]) + "&";
  // Several scopes (a mount's source and target) are several parameters.
  for (size_t start = 0; start < scope.size();) {
    size_t end = std::min(scope.find(' ', start), scope.size());
    url += "scope=" + url_escape(scope.substr(start, end - start)) + "&";
    start = end + 1;
  }
  url += "client_id=berth";
  HttpRequest request{.url = url};
  request.verify_tls = !insecure_;
  if (!credentials_.username.empty())
    request.headers.push_back("Authorization: Basic " + base64_encode(credentials_.username + ":" + credentials_.password));
  auto response = TRY(perform(request));
  if (response.status != 200) return fail(registry_error(response), EACCES);
  auto body = parse_json(response.body);
  std::string token;
  if (body && body->is_object()) token = body->value("token", body->value("access_token", ""));
  if (token.empty()) return fail("the token server " + realm + " gave no token", EPROTO);
  tokens_[scope] = token;
  return token;
}

std::string Session::authorization(const std::string& scope, bool renew) {
  if (scheme_ == "basic" && !credentials_.username.empty())
    return "Authorization: Basic " + base64_encode(credentials_.username + ":" + credentials_.password);
  if (scheme_ == "bearer")
    if (auto token = this->token(scope, renew)) return "Authorization: Bearer " + *token;
  return "";
}

Result<HttpResponse> Session::send(HttpRequest request, const std::string& scope) {
  TRY(connect());
  if (request.url.starts_with('/')) request.url = base_ + request.url;
  request.verify_tls = !insecure_;
  auto headers = request.headers;
  for (bool renew : {false, true}) {
    request.headers = headers;
    if (std::string auth = authorization(scope, renew); !auth.empty()) request.headers.push_back(auth);
    auto response = TRY(perform(request));
    // An expired token is renewed once; a body streamed to a sink is not
    // resent because a 401 has no 2xx body to lose; a source body cannot be.
    if (response.status != 401 || scheme_ != "bearer" || renew || request.body_source) return response;
  }
  return fail("unreachable");
}

}  // namespace berth::registry
