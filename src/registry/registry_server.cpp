#include "registry/registry_server.h"

#include <fcntl.h>
#include <sys/stat.h>

#include <cstring>

#include "base/file.h"
#include "base/json.h"

namespace berth::registry {

namespace {

using http::Request;
using http::ResponseWriter;
using Subject = RegistryServer::Subject;

constexpr size_t kChunk = 1 << 20;

struct CodedError {
  int status;
  const char* code;
};

// The spec's error code and status for an error of the storage.
CodedError code_for(Subject subject, bool writing, const Error& error) {
  const std::string& message = error.message();
  switch (error.code()) {
    case ENOENT:
      if (subject == Subject::kBlob) return {404, "BLOB_UNKNOWN"};
      if (subject == Subject::kUpload) return {404, "BLOB_UPLOAD_UNKNOWN"};
      if (subject == Subject::kManifest) return writing ? CodedError{400, "MANIFEST_BLOB_UNKNOWN"} : CodedError{404, "MANIFEST_UNKNOWN"};
      return {404, "NAME_UNKNOWN"};
    case EBADMSG: return {400, "DIGEST_INVALID"};
    case ERANGE: return {416, "BLOB_UPLOAD_INVALID"};
    case EINVAL:
      if (message.starts_with("invalid repository name")) return {400, "NAME_INVALID"};
      if (message.starts_with("invalid tag")) return {400, "TAG_INVALID"};
      if (message.find("digest") != std::string::npos) return {400, "DIGEST_INVALID"};
      if (subject == Subject::kManifest) return {400, "MANIFEST_INVALID"};
      if (subject == Subject::kUpload) return {400, "BLOB_UPLOAD_INVALID"};
      return {400, "UNSUPPORTED"};
    case ENOSYS: return {405, "UNSUPPORTED"};
    default: return {500, "UNKNOWN"};
  }
}

Result<void> send_error(ResponseWriter& response, int status, const char* code, const std::string& message) {
  Json body = {{"errors", {{{"code", code}, {"message", message}, {"detail", nullptr}}}}};
  return response.json(status, body);
}

// A manifest, up to the 4 MiB registries accept.
Result<std::string> read_manifest_body(Request& request) {
  constexpr size_t kMaxManifest = 4 << 20;
  std::string body;
  char buf[65536];
  for (size_t n; (n = TRY(request.read_body(buf, sizeof buf))) > 0;) {
    body.append(buf, n);
    if (body.size() > kMaxManifest) return fail("manifest invalid: larger than 4 MiB", EINVAL);
  }
  return body;
}

// Streams the request body into the upload, a chunk at a time.
Result<uint64_t> append_body(Storage& storage, Request& request, const std::string& name, const std::string& id,
                             std::optional<uint64_t> offset) {
  std::string chunk(kChunk, '\0');
  uint64_t size = TRY(storage.upload_size(name, id));
  for (size_t n; (n = TRY(request.read_body(chunk.data(), chunk.size()))) > 0;) {
    size = TRY(storage.append_upload(name, id, std::string_view(chunk.data(), n), offset));
    offset.reset();  // checked once, at the start of the chunk
  }
  return size;
}

std::string range_header(uint64_t size) { return "0-" + std::to_string(size == 0 ? 0 : size - 1); }

// Content-Range "START-END" of a PATCH: its start.
Result<std::optional<uint64_t>> patch_offset(const Request& request) {
  auto it = request.headers.find("content-range");
  if (it == request.headers.end()) return std::optional<uint64_t>();
  std::string value = it->second;
  if (value.starts_with("bytes ")) value = value.substr(6);
  char* end = nullptr;
  uint64_t start = std::strtoull(value.c_str(), &end, 10);
  if (end == value.c_str() || *end != '-') return fail("invalid Content-Range \"" + it->second + "\"", ERANGE);
  return std::optional<uint64_t>(start);
}

// "Range: bytes=START-[END]" of a blob GET, against the blob's size.
Result<std::pair<uint64_t, uint64_t>> byte_range(const std::string& header, uint64_t size) {
  if (!header.starts_with("bytes=") || header.find(',') != std::string::npos) return fail("unsupported range", ERANGE);
  std::string spec = header.substr(6);
  auto dash = spec.find('-');
  if (dash == std::string::npos || dash == 0) return fail("unsupported range", ERANGE);
  uint64_t start = std::strtoull(spec.substr(0, dash).c_str(), nullptr, 10);
  uint64_t last = dash + 1 < spec.size() ? std::strtoull(spec.substr(dash + 1).c_str(), nullptr, 10) : size - 1;
  if (start >= size || last < start) return fail("range not satisfiable", ERANGE);
  return std::pair{start, std::min(last, size - 1)};
}

// The Link header of a paginated list that has more after this page.
void add_link(ResponseWriter::Headers& headers, const std::string& path, size_t n, const std::vector<std::string>& page,
              bool more) {
  if (more && !page.empty()) headers["Link"] = "<" + path + "?n=" + std::to_string(n) + "&last=" + page.back() + ">; rel=\"next\"";
}

}  // namespace

void RegistryServer::dispatch(Request& request, ResponseWriter& response) {
  if (users_) {
    auto header = request.headers.find("authorization");
    auto credentials = header == request.headers.end() ? std::nullopt : basic_credentials(header->second);
    if (!credentials || !users_->verify(credentials->first, credentials->second)) {
      Json body = {{"errors", {{{"code", "UNAUTHORIZED"}, {"message", "authentication required"}, {"detail", nullptr}}}}};
      (void)response.send(401, "application/json", body.dump() + "\n", {{"WWW-Authenticate", "Basic realm=\"" + realm_ + "\""}});
      return;
    }
  }
  Subject subject = Subject::kName;
  auto result = route(request, response, subject);
  if (result || response.started()) return;
  auto [status, code] = code_for(subject, request.method == "PUT", result.error());
  (void)send_error(response, status, code, result.error().message());
}

Result<void> RegistryServer::route(Request& request, ResponseWriter& response, Subject& subject) {
  const std::string& path = request.path;
  if (path == "/v2/" || path == "/v2") return response.json(200, Json::object());
  if (path == "/v2/_catalog") return list(request, response, "");
  if (path == "/v1/search") return search(request, response);
  if (!path.starts_with("/v2/")) return send_error(response, 404, "NOT_FOUND", "page not found");
  std::string rest = path.substr(4);
  // The name is everything before the last of these markers.
  static constexpr std::pair<const char*, Subject> kMarkers[] = {
      {"/blobs/uploads/", Subject::kUpload}, {"/blobs/uploads", Subject::kUpload}, {"/blobs/", Subject::kBlob},
      {"/manifests/", Subject::kManifest},   {"/tags/list", Subject::kName},       {"/referrers/", Subject::kManifest}};
  for (const auto& [marker, about] : kMarkers) {
    auto at = rest.rfind(marker);
    if (at == std::string::npos || at == 0) continue;
    subject = about;
    std::string name = rest.substr(0, at), tail = rest.substr(at + std::strlen(marker));
    std::string_view m = marker;
    bool one_segment = !tail.empty() && tail.find('/') == std::string::npos;
    if (m == "/tags/list" && tail.empty()) return list(request, response, name);
    if (m == "/blobs/uploads" && tail.empty()) return start_upload(request, response, name);
    if (m == "/blobs/uploads/") return tail.empty() ? start_upload(request, response, name) : upload(request, response, name, tail);
    if (m == "/blobs/" && one_segment) return blob(request, response, name, tail);
    if (m == "/manifests/" && one_segment) return manifest(request, response, name, tail);
    if (m == "/referrers/" && one_segment) {
      if (request.method != "GET" && request.method != "HEAD") return fail("method not allowed", ENOSYS);
      std::string type = request.query_value("artifactType");
      Json index = TRY(storage_.referrers(name, tail, type));
      ResponseWriter::Headers headers;
      if (!type.empty()) headers["OCI-Filters-Applied"] = "artifactType";
      return response.send(200, "application/vnd.oci.image.index.v1+json", index.dump(), headers);
    }
  }
  return send_error(response, 404, "NOT_FOUND", "page not found");
}

Result<void> RegistryServer::blob(Request& request, ResponseWriter& response, const std::string& name, const std::string& digest) {
  if (request.method == "DELETE") {
    TRY(storage_.delete_blob(name, digest));
    return response.send(202, "text/plain", "");
  }
  if (request.method != "GET" && request.method != "HEAD") return fail("method not allowed", ENOSYS);
  std::string file = TRY(storage_.blob_path(name, digest));
  auto fd = TRY(open_file(file, O_RDONLY));
  struct stat st;
  if (::fstat(fd.get(), &st) != 0) return fail_errno("stat blob");
  auto size = static_cast<uint64_t>(st.st_size);
  ResponseWriter::Headers headers = {{"Docker-Content-Digest", digest}, {"Accept-Ranges", "bytes"}, {"ETag", "\"" + digest + "\""}};
  auto range = request.headers.find("range");
  if (range == request.headers.end() || request.method == "HEAD")
    return response.send_file(200, "application/octet-stream", fd.get(), 0, size, headers);
  auto span = byte_range(range->second, size);
  if (!span) return send_error(response, 416, "BLOB_UNKNOWN", span.error().message());
  auto [start, last] = *span;
  headers["Content-Range"] = "bytes " + std::to_string(start) + "-" + std::to_string(last) + "/" + std::to_string(size);
  return response.send_file(206, "application/octet-stream", fd.get(), start, last - start + 1, headers);
}

Result<void> RegistryServer::start_upload(Request& request, ResponseWriter& response, const std::string& name) {
  if (request.method != "POST") return fail("method not allowed", ENOSYS);
  std::string mount = request.query_value("mount"), from = request.query_value("from");
  if (!mount.empty() && !from.empty() && storage_.mount_blob(from, name, mount))
    return response.send(201, "text/plain", "", {{"Location", "/v2/" + name + "/blobs/" + mount}, {"Docker-Content-Digest", mount}});
  std::string id = TRY(storage_.start_upload(name));
  std::string location = "/v2/" + name + "/blobs/uploads/" + id;
  if (std::string digest = request.query_value("digest"); !digest.empty()) {  // monolithic
    auto stored = [&]() -> Result<void> {
      TRY(append_body(storage_, request, name, id, std::nullopt));
      TRY(storage_.finish_upload(name, id, digest));
      return {};
    }();
    if (!stored) {
      (void)storage_.cancel_upload(name, id);
      return std::unexpected(stored.error());
    }
    return response.send(201, "text/plain", "", {{"Location", "/v2/" + name + "/blobs/" + digest}, {"Docker-Content-Digest", digest}});
  }
  return response.send(202, "text/plain", "", {{"Location", location}, {"Docker-Upload-UUID", id}, {"Range", "0-0"}});
}

Result<void> RegistryServer::upload(Request& request, ResponseWriter& response, const std::string& name, const std::string& id) {
  std::string location = "/v2/" + name + "/blobs/uploads/" + id;
  if (request.method == "GET") {
    uint64_t size = TRY(storage_.upload_size(name, id));
    return response.send(204, "text/plain", "", {{"Location", location}, {"Docker-Upload-UUID", id}, {"Range", range_header(size)}});
  }
  if (request.method == "DELETE") {
    TRY(storage_.cancel_upload(name, id));
    return response.send(204, "text/plain", "");
  }
  if (request.method == "PATCH") {
    auto offset = TRY(patch_offset(request));
    uint64_t size = TRY(append_body(storage_, request, name, id, offset));
    return response.send(202, "text/plain", "", {{"Location", location}, {"Docker-Upload-UUID", id}, {"Range", range_header(size)}});
  }
  if (request.method == "PUT") {
    std::string digest = request.query_value("digest");
    if (digest.empty()) return fail("invalid digest: the PUT that ends an upload needs ?digest=", EBADMSG);
    TRY(append_body(storage_, request, name, id, std::nullopt));
    TRY(storage_.finish_upload(name, id, digest));
    return response.send(201, "text/plain", "", {{"Location", "/v2/" + name + "/blobs/" + digest}, {"Docker-Content-Digest", digest}});
  }
  return fail("method not allowed", ENOSYS);
}

Result<void> RegistryServer::manifest(Request& request, ResponseWriter& response, const std::string& name,
                                      const std::string& reference) {
  if (request.method == "PUT") {
    std::string body = TRY(read_manifest_body(request));
    auto type = request.headers.find("content-type");
    std::string digest = TRY(storage_.put_manifest(name, reference, type == request.headers.end() ? "" : type->second, body));
    ResponseWriter::Headers headers = {{"Location", "/v2/" + name + "/manifests/" + digest}, {"Docker-Content-Digest", digest}};
    // The referrers API is there: clients need not keep a referrers tag.
    if (auto doc = parse_json(body); doc && doc->is_object())
      if (std::string subject = string_field(field(*doc, "subject"), "digest"); !subject.empty()) headers["OCI-Subject"] = subject;
    return response.send(201, "text/plain", "", headers);
  }
  if (request.method == "DELETE") {
    TRY(storage_.delete_manifest(name, reference));
    return response.send(202, "text/plain", "");
  }
  if (request.method != "GET" && request.method != "HEAD") return fail("method not allowed", ENOSYS);
  auto found = TRY(storage_.manifest(name, reference));
  return response.send(200, found.media_type, found.body, {{"Docker-Content-Digest", found.digest}, {"ETag", "\"" + found.digest + "\""}});
}

// Docker's search API (/v1/search?q=TERM&n=N), over the catalog: the
// repositories whose name contains the term.
Result<void> RegistryServer::search(Request& request, ResponseWriter& response) {
  if (request.method != "GET") return fail("method not allowed", ENOSYS);
  std::string term = request.query_value("q");
  size_t limit = 25;
  if (std::string n = request.query_value("n"); !n.empty()) {
    char* end = nullptr;
    long value = std::strtol(n.c_str(), &end, 10);
    if (*end || value < 1 || value > 100) return fail("invalid n: " + n + " (1 to 100)", EINVAL);
    limit = static_cast<size_t>(value);
  }
  Json results = Json::array();
  for (const auto& name : TRY(storage_.repositories())) {
    if (results.size() == limit) break;
    if (name.find(term) == std::string::npos) continue;
    results.push_back({{"name", name}, {"description", ""}, {"star_count", 0}, {"is_official", false}, {"is_automated", false}});
  }
  return response.json(200, {{"num_results", results.size()}, {"query", term}, {"results", results}});
}

Result<void> RegistryServer::list(Request& request, ResponseWriter& response, const std::string& name) {
  if (request.method != "GET" && request.method != "HEAD") return fail("method not allowed", ENOSYS);
  std::optional<size_t> n;
  if (std::string text = request.query_value("n"); !text.empty()) {
    char* end = nullptr;
    long value = std::strtol(text.c_str(), &end, 10);
    if (*end || value < 0) return fail("invalid n: " + text, EINVAL);
    n = static_cast<size_t>(value);
  }
  auto all = name.empty() ? TRY(storage_.repositories()) : TRY(storage_.tags(name));
  std::string last = request.query_value("last");
  auto page = paginate(all, n, last);
  bool more = n && !page.empty() && page.back() != all.back();
  ResponseWriter::Headers headers;
  add_link(headers, name.empty() ? "/v2/_catalog" : "/v2/" + name + "/tags/list", n.value_or(0), page, more);
  Json body = name.empty() ? Json{{"repositories", page}} : Json{{"name", name}, {"tags", page}};
  return response.send(200, "application/json", body.dump() + "\n", headers);
}

}  // namespace berth::registry
