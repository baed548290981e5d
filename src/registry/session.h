// A client's connection to one registry: which scheme it speaks (https, or
// plain http for an insecure registry), what auth it asks for, and the
// bearer tokens it gave, reused per scope. Shared by the threads of a pull
// or push.
#pragma once

#include <map>
#include <mutex>
#include <string>

#include "base/error.h"
#include "registry/http_client.h"

namespace berth::registry {

struct Credentials {
  std::string username;
  std::string password;
  std::string registry_token;  // a bearer token to send as it is
  bool empty() const { return username.empty() && registry_token.empty(); }
};

class Session {
 public:
  // domain as references spell it ("docker.io", "localhost:5000");
  // insecure: plain HTTP (and unverified TLS) allowed.
  Session(std::string domain, Credentials credentials, bool insecure);

  // Asks GET /v2/ to learn the scheme and the auth challenge (once).
  Result<void> connect();
  // Checks the credentials the way `docker login` does.
  Result<void> login();
  // A request for a path ("/v2/…") or an absolute URL (a Location), with
  // the auth this registry wants for scope ("repository:library/busybox:pull").
  Result<HttpResponse> send(HttpRequest request, const std::string& scope);

  const std::string& domain() const { return domain_; }
  // "https://localhost:5000"
  const std::string& base() const { return base_; }

 private:
  Result<std::string> token(const std::string& scope, bool renew);
  std::string authorization(const std::string& scope, bool renew);

  std::string domain_;
  std::string host_;  // docker.io is served by registry-1.docker.io
  Credentials credentials_;
  bool insecure_;
  std::string base_;
  std::string scheme_;  // "basic", "bearer", or empty: no auth asked
  std::map<std::string, std::string> challenge_;  // realm, service
  std::mutex mutex_;
  std::map<std::string, std::string> tokens_;  // by scope
};


// loopback registries need no TLS, as Docker allows (127.0.0.0/8, ::1, localhost).
bool is_loopback_registry(const std::string& domain);

// A registry error response as Docker words it: "manifest unknown: manifest
// unknown" from the spec's error body, else the status text.
std::string registry_error(const HttpResponse& response);

// The parameters of a WWW-Authenticate header: {"scheme": "bearer", "realm": …}.
std::map<std::string, std::string> parse_challenge(const std::string& header);

// "repository:NAME:pull" or ":pull,push".
std::string repository_scope(const std::string& path, bool push);

}  // namespace berth::registry
