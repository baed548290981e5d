#include "registry/http_client.h"

#include <curl/curl.h>
#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <memory>
#include <optional>

#include "base/file.h"

namespace berth::registry {

namespace {

constexpr size_t kMaxErrorBody = 1 << 20;

struct Transfer {
  const HttpRequest* request;
  HttpResponse* response;
  CURL* curl;
  uint64_t sent = 0;
  std::optional<Error> sink_error;
  std::optional<Error> source_error;
};

size_t on_header(char* data, size_t size, size_t count, void* user) {
  auto* transfer = static_cast<Transfer*>(user);
  std::string_view line(data, size * count);
  if (line.starts_with("HTTP/")) transfer->response->headers.clear();  // a new response (after 100 or a redirect)
  auto colon = line.find(':');
  if (colon != std::string_view::npos) {
    std::string name(line.substr(0, colon));
    std::ranges::transform(name, name.begin(), ::tolower);
    std::string_view value = line.substr(colon + 1);
    while (!value.empty() && (value.front() == ' ' || value.front() == '\t')) value.remove_prefix(1);
    while (!value.empty() && (value.back() == '\r' || value.back() == '\n' || value.back() == ' ')) value.remove_suffix(1);
    transfer->response->headers[name] = std::string(value);
  }
  return size * count;
}

size_t on_body(char* data, size_t size, size_t count, void* user) {
  auto* transfer = static_cast<Transfer*>(user);
  long status = 0;
  curl_easy_getinfo(transfer->curl, CURLINFO_RESPONSE_CODE, &status);
  std::string_view piece(data, size * count);
  if (status >= 200 && status < 300 && transfer->request->sink) {
    if (auto written = transfer->request->sink(piece); !written) {
      transfer->sink_error = written.error();
      return 0;
    }
    return piece.size();
  }
  std::string& body = transfer->response->body;
  body.append(piece.substr(0, kMaxErrorBody - std::min(kMaxErrorBody, body.size())));
  return piece.size();
}

size_t on_read_source(char* buffer, size_t size, size_t count, void* user) {
  auto* transfer = static_cast<Transfer*>(user);
  const HttpRequest& request = *transfer->request;
  auto n = request.body_source(buffer, size * count);
  if (!n) {
    transfer->source_error = n.error();
    return CURL_READFUNC_ABORT;
  }
  transfer->sent += *n;
  if (request.on_sent) request.on_sent(transfer->sent);
  return *n;
}

size_t on_read(char* buffer, size_t size, size_t count, void* user) {
  auto* transfer = static_cast<Transfer*>(user);
  const HttpRequest& request = *transfer->request;
  uint64_t left = request.body_length - transfer->sent;
  size_t want = std::min<uint64_t>(left, size * count);
  if (want == 0) return 0;
  ssize_t n;
  do n = ::pread(request.body_fd, buffer, want, static_cast<off_t>(request.body_offset + transfer->sent));
  while (n < 0 && errno == EINTR);
  if (n <= 0) return CURL_READFUNC_ABORT;
  transfer->sent += n;
  if (request.on_sent) request.on_sent(transfer->sent);
  return n;
}

using CurlHandle = std::unique_ptr<CURL, void (*)(CURL*)>;

// One handle per thread: curl keeps its connections (and TLS sessions) in
// it, so the requests of a pull reuse them.
CURL* thread_handle() {
  thread_local CurlHandle handle(curl_easy_init(), curl_easy_cleanup);
  if (handle) curl_easy_reset(handle.get());
  return handle.get();
}

}  // namespace

std::string HttpResponse::header(const std::string& name) const {
  auto it = headers.find(name);
  return it == headers.end() ? "" : it->second;
}

Result<void> download(const std::string& url, const std::string& path) {
  if (!url.starts_with("http://") && !url.starts_with("https://")) return fail("unsupported URL \"" + url + "\": use http or https", EINVAL);
  auto file = TRY(open_file(path, O_WRONLY | O_CREAT | O_TRUNC, 0600));
  std::string pending;
  auto flush = [&]() -> Result<void> {
    TRY(write_all(file.get(), pending));
    pending.clear();
    return {};
  };
  HttpRequest request{.url = url};
  request.follow_redirects = true;
  request.sink = [&](std::string_view data) -> Result<void> {
    pending.append(data);
    return pending.size() >= (1 << 20) ? flush() : Result<void>();
  };
  auto response = TRY_CTX(perform(request), "download " + url);
  if (response.status >= 400)
    return fail("download " + url + ": The requested URL returned error: " + std::to_string(response.status), response.status == 404 ? ENOENT : EIO);
  return flush();
}

std::string url_escape(const std::string& text) {
  char* escaped = curl_easy_escape(nullptr, text.c_str(), static_cast<int>(text.size()));
  std::string out = escaped ? escaped : "";
  curl_free(escaped);
  return out;
}

std::string method_title(std::string_view method) {
  std::string title(method);
  std::ranges::transform(title.begin() + 1, title.end(), title.begin() + 1, ::tolower);
  return title;
}

Result<HttpResponse> perform(const HttpRequest& request) {
  CURL* curl = thread_handle();
  if (!curl) return fail("cannot initialise libcurl");
  HttpResponse response;
  Transfer transfer{&request, &response, curl};
  std::unique_ptr<curl_slist, void (*)(curl_slist*)> headers(nullptr, curl_slist_free_all);
  // No "Expect: 100-continue" round trip before uploads.
  headers.reset(curl_slist_append(nullptr, "Expect:"));
  for (const auto& header : request.headers) headers.reset(curl_slist_append(headers.release(), header.c_str()));
  char error[CURL_ERROR_SIZE] = {};
  curl_easy_setopt(curl, CURLOPT_URL, request.url.c_str());
  curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(curl, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT, 30L);
  // A stalled transfer fails instead of hanging a pull forever.
  curl_easy_setopt(curl, CURLOPT_LOW_SPEED_LIMIT, 1L);
  curl_easy_setopt(curl, CURLOPT_LOW_SPEED_TIME, 60L);
  curl_easy_setopt(curl, CURLOPT_USERAGENT, "berth/0.1");
  // Blobs are large: big pieces mean a few hundred syscalls per layer, not
  // tens of thousands (curl's default is 16 KiB).
  curl_easy_setopt(curl, CURLOPT_BUFFERSIZE, 512L << 10);
  curl_easy_setopt(curl, CURLOPT_UPLOAD_BUFFERSIZE, 512L << 10);
  curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers.get());
  curl_easy_setopt(curl, CURLOPT_HEADERFUNCTION, &on_header);
  curl_easy_setopt(curl, CURLOPT_HEADERDATA, &transfer);
  curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, &on_body);
  curl_easy_setopt(curl, CURLOPT_WRITEDATA, &transfer);
  curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, error);
  if (!request.verify_tls) {
    curl_easy_setopt(curl, CURLOPT_SSL_VERIFYPEER, 0L);
    curl_easy_setopt(curl, CURLOPT_SSL_VERIFYHOST, 0L);
  }
  if (request.follow_redirects) {
    curl_easy_setopt(curl, CURLOPT_FOLLOWLOCATION, 1L);
    curl_easy_setopt(curl, CURLOPT_MAXREDIRS, 10L);
  }
  if (request.head) {
    curl_easy_setopt(curl, CURLOPT_NOBODY, 1L);
  } else if (request.body_source) {
    curl_easy_setopt(curl, CURLOPT_UPLOAD, 1L);
    curl_easy_setopt(curl, CURLOPT_READFUNCTION, &on_read_source);
    curl_easy_setopt(curl, CURLOPT_READDATA, &transfer);
    curl_easy_setopt(curl, CURLOPT_INFILESIZE_LARGE, static_cast<curl_off_t>(-1));
  } else if (request.body_fd >= 0) {
    curl_easy_setopt(curl, CURLOPT_UPLOAD, 1L);
    curl_easy_setopt(curl, CURLOPT_READFUNCTION, &on_read);
    curl_easy_setopt(curl, CURLOPT_READDATA, &transfer);
    curl_easy_setopt(curl, CURLOPT_INFILESIZE_LARGE, static_cast<curl_off_t>(request.body_length));
  } else if (request.method != "GET") {
    curl_easy_setopt(curl, CURLOPT_POSTFIELDS, request.body.empty() ? "" : request.body.data());
    curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(request.body.size()));
  }
  curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, request.method.c_str());
  CURLcode rc = curl_easy_perform(curl);
  if (transfer.sink_error) return std::unexpected(*transfer.sink_error);
  if (transfer.source_error) return std::unexpected(*transfer.source_error);
  if (rc != CURLE_OK)
    return fail(method_title(request.method) + " \"" + request.url + "\": " + (error[0] ? error : curl_easy_strerror(rc)), ECONNREFUSED);
  long status = 0;
  curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
  response.status = static_cast<int>(status);
  return response;
}

}  // namespace berth::registry
