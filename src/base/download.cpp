#include "base/download.h"

#include <curl/curl.h>
#include <fcntl.h>

#include <memory>

#include "base/file.h"

namespace berth {

namespace {

size_t write_to_fd(char* data, size_t size, size_t count, void* fd) {
  auto written = write_all(*static_cast<int*>(fd), std::string_view(data, size * count));
  return written ? size * count : 0;
}

}  // namespace

Result<void> download(const std::string& url, const std::string& path) {
  if (!url.starts_with("http://") && !url.starts_with("https://")) return fail("unsupported URL \"" + url + "\": use http or https", EINVAL);
  auto file = TRY(open_file(path, O_WRONLY | O_CREAT | O_TRUNC, 0600));
  std::unique_ptr<CURL, void (*)(CURL*)> curl(curl_easy_init(), curl_easy_cleanup);
  if (!curl) return fail("download " + url + ": cannot initialise libcurl");
  int fd = file.get();
  char error[CURL_ERROR_SIZE] = {};
  curl_easy_setopt(curl.get(), CURLOPT_URL, url.c_str());
  curl_easy_setopt(curl.get(), CURLOPT_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(curl.get(), CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(curl.get(), CURLOPT_FOLLOWLOCATION, 1L);
  curl_easy_setopt(curl.get(), CURLOPT_MAXREDIRS, 10L);
  curl_easy_setopt(curl.get(), CURLOPT_FAILONERROR, 1L);
  curl_easy_setopt(curl.get(), CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(curl.get(), CURLOPT_CONNECTTIMEOUT, 30L);
  curl_easy_setopt(curl.get(), CURLOPT_WRITEFUNCTION, &write_to_fd);
  curl_easy_setopt(curl.get(), CURLOPT_WRITEDATA, &fd);
  curl_easy_setopt(curl.get(), CURLOPT_ERRORBUFFER, error);
  CURLcode rc = curl_easy_perform(curl.get());
  if (rc != CURLE_OK) return fail("download " + url + ": " + (error[0] ? error : curl_easy_strerror(rc)), rc == CURLE_HTTP_RETURNED_ERROR ? ENOENT : EIO);
  return {};
}

}  // namespace berth
