// The OCI distribution API (Docker Registry HTTP API v2) over Storage:
// /v2/, blobs (GET with Range, HEAD, DELETE), uploads (POST, monolithic
// POST, cross-repository mount, PATCH chunks, PUT, status, cancel),
// manifests (GET, HEAD, PUT, DELETE by tag or digest), tags/list and
// _catalog with n/last pagination and Link headers, and referrers (by
// subject, with the artifactType filter), and Docker's /v1/search over the
// catalog. Errors are the spec's
// {"errors": [{"code", "message"}]}. With an htpasswd file, Basic auth.
#pragma once

#include <optional>

#include "http/http.h"
#include "registry/htpasswd.h"
#include "registry/storage.h"

namespace berth::registry {

class RegistryServer {
 public:
  explicit RegistryServer(Storage& storage) : storage_(storage) {}
  // Every request must then carry a user and password of the file (Basic).
  void require_auth(Htpasswd users, std::string realm) {
    users_ = std::move(users);
    realm_ = std::move(realm);
  }
  void dispatch(http::Request& request, http::ResponseWriter& response);

  // What a request is about, for the error code its failure gets.
  enum class Subject { kName, kBlob, kUpload, kManifest };

 private:
  Result<void> route(http::Request& request, http::ResponseWriter& response, Subject& subject);
  Result<void> blob(http::Request& request, http::ResponseWriter& response, const std::string& name, const std::string& digest);
  Result<void> start_upload(http::Request& request, http::ResponseWriter& response, const std::string& name);
  Result<void> upload(http::Request& request, http::ResponseWriter& response, const std::string& name, const std::string& id);
  Result<void> manifest(http::Request& request, http::ResponseWriter& response, const std::string& name, const std::string& reference);
  Result<void> list(http::Request& request, http::ResponseWriter& response, const std::string& name);
  Result<void> search(http::Request& request, http::ResponseWriter& response);

  Storage& storage_;
  std::optional<Htpasswd> users_;
  std::string realm_;
};

}  // namespace berth::registry
