// The OCI distribution API (Docker Registry HTTP API v2) over Storage:
// /v2/, blobs (GET with Range, HEAD, DELETE), uploads (POST, monolithic
// POST, cross-repository mount, PATCH chunks, PUT, status, cancel),
// manifests (GET, HEAD, PUT, DELETE by tag or digest), tags/list and
// _catalog with n/last pagination and Link headers. Errors are the spec's
// {"errors": [{"code", "message"}]}.
#pragma once

#include "http/http.h"
#include "registry/storage.h"

namespace berth::registry {

class RegistryServer {
 public:
  explicit RegistryServer(Storage& storage) : storage_(storage) {}
  void dispatch(http::Request& request, http::ResponseWriter& response);

 private:
  Result<void> route(http::Request& request, http::ResponseWriter& response);
  Result<void> blob(http::Request& request, http::ResponseWriter& response, const std::string& name, const std::string& digest);
  Result<void> start_upload(http::Request& request, http::ResponseWriter& response, const std::string& name);
  Result<void> upload(http::Request& request, http::ResponseWriter& response, const std::string& name, const std::string& id);
  Result<void> manifest(http::Request& request, http::ResponseWriter& response, const std::string& name, const std::string& reference);
  Result<void> list(http::Request& request, http::ResponseWriter& response, const std::string& name);

  Storage& storage_;
};

}  // namespace berth::registry
