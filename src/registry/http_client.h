// One HTTP request through libcurl, as the registry client needs it: a body
// from memory or from a range of a file, a response body collected or
// streamed to a sink. Each thread reuses its own connection cache.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "base/error.h"

namespace berth::registry {

struct HttpRequest {
  std::string method = "GET";
  std::string url;
  std::vector<std::string> headers;  // "Name: value"
  std::string_view body;             // sent when body_fd is -1 and there is no body_source
  int body_fd = -1;                  // or this range of a file
  uint64_t body_offset = 0;
  uint64_t body_length = 0;
  // Takes a 2xx response's body as it arrives; without it, the body is
  // collected. Error bodies are always collected (for their message).
  std::function<Result<void>(std::string_view)> sink;
  // Or a body of unknown length, sent chunked: up to size bytes, 0 at its
  // end. It is read once, so such a request is never sent again.
  std::function<Result<size_t>(char* buf, size_t size)> body_source;
  std::function<void(uint64_t sent)> on_sent;  // after each piece of a file or source body
  bool follow_redirects = false;  // blob GETs may be sent to a storage backend
  bool head = false;              // no body is read (HEAD)
  bool verify_tls = true;         // false for an insecure registry
};

struct HttpResponse {
  int status = 0;
  std::map<std::string, std::string> headers;  // names lower-cased
  std::string body;

  std::string header(const std::string& name) const;
};

// Performs the request; a transport failure (refused, TLS, reset) is an
// error whose message is curl's, prefixed the way Go prints it:
// Get "https://…/v2/": …. HTTP error statuses are responses, not errors.
Result<HttpResponse> perform(const HttpRequest& request);

// GETs url (http or https, following redirects) into path, written a MiB
// at a time: `import URL`.
Result<void> download(const std::string& url, const std::string& path);

// %-escapes a query parameter's value.
std::string url_escape(const std::string& text);

// "Get", "Head", "Put"… as Go names the method in its errors.
std::string method_title(std::string_view method);

}  // namespace berth::registry
