#include "api/client.h"

#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <boost/asio/local/stream_protocol.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http.hpp>
#include <cstring>
#include <limits>
#include <memory>
#include <vector>

#include "base/file.h"

namespace berth::api {

namespace {
constexpr size_t kBufferSize = 1 << 20;
namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
}  // namespace

std::string url_encode(std::string_view text) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : text) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 15];
    }
  }
  return out;
}

Client::Client(std::string socket) : socket_(socket.starts_with("unix://") ? socket.substr(7) : std::move(socket)) {}
Client::~Client() = default;

Error response_error(const ClientResponse& response) {
  auto doc = parse_json(response.body);
  if (doc && doc->is_object() && doc->contains("message") && (*doc)["message"].is_string())
    return Error((*doc)["message"].get<std::string>(), response.status == 404 ? ENOENT : 0);
  return Error("server returned status " + std::to_string(response.status), response.status == 404 ? ENOENT : 0);
}

Result<ClientResponse> Client::request(const std::string& method, const std::string& path, const Query& query,
                                       std::string_view body, const std::string& content_type, const BodySink& on_data,
                                       const BodySource& body_source) {
  asio::io_context io;
  asio::local::stream_protocol::socket sock(io);
  beast::error_code ec;
  sock.connect(asio::local::stream_protocol::endpoint(socket_), ec);
  if (ec) return fail("Cannot connect to the berth daemon at unix://" + socket_ + ". Is the berth daemon running?", ECONNREFUSED);
  // Images go through here: large socket buffers and pieces mean fewer
  // switches between this process and the daemon.
  sock.set_option(asio::socket_base::send_buffer_size(kBufferSize), ec);
  sock.set_option(asio::socket_base::receive_buffer_size(kBufferSize), ec);

  std::string target = "/v1.43" + path;
  for (size_t i = 0; i < query.size(); ++i)
    target += (i ? "&" : "?") + url_encode(query[i].first) + "=" + url_encode(query[i].second);

  if (body_source) {
    http::request<http::empty_body> req{http::string_to_verb(method), target, 11};
    req.set(http::field::host, "berth");
    req.set(http::field::user_agent, "berth-cli/0.1");
    if (!content_type.empty()) req.set(http::field::content_type, content_type);
    for (const auto& [name, value] : headers_) req.set(name, value);
    req.chunked(true);
    http::request_serializer<http::empty_body> serializer{req};
    http::write_header(sock, serializer, ec);
    // Not zero-filled: pages are paid for only as data arrives (page faults are dear).
    auto buf = std::make_unique_for_overwrite<char[]>(kBufferSize);
    while (!ec) {
      size_t n = TRY(body_source(buf.get(), kBufferSize));
      if (n == 0) break;
      asio::write(sock, http::make_chunk(asio::const_buffer(buf.get(), n)), ec);
    }
    if (!ec) asio::write(sock, http::make_chunk_last(), ec);
  } else {
    http::request<http::string_body> req{http::string_to_verb(method), target, 11};
    req.set(http::field::host, "berth");
    req.set(http::field::user_agent, "berth-cli/0.1");
    if (!content_type.empty()) req.set(http::field::content_type, content_type);
    for (const auto& [name, value] : headers_) req.set(name, value);
    req.body() = std::string(body);
    req.prepare_payload();
    http::write(sock, req, ec);
  }
  if (ec) return fail("send request: " + ec.message());

  beast::flat_buffer buffer;
  buffer.reserve(256 << 10);  // Beast reads at most the free capacity per recv
  http::response_parser<http::buffer_body> parser;
  parser.body_limit(std::numeric_limits<std::uint64_t>::max());
  if (method == "HEAD") parser.skip(true);  // a length, but no body
  http::read_header(sock, buffer, parser, ec);
  if (ec == http::error::need_buffer) ec = {};
  if (ec) return fail("read response: " + ec.message());
  ClientResponse response;
  response.status = static_cast<int>(parser.get().result_int());
  for (const auto& field : parser.get()) {
    std::string name(field.name_string());
    for (char& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    response.headers[name] = std::string(field.value());
  }
  bool stream = on_data && response.status < 300;
  // Not zero-filled: pages are paid for only as data arrives (page faults are dear).
    auto buf = std::make_unique_for_overwrite<char[]>(kBufferSize);
  while (!parser.is_done()) {
    parser.get().body().data = buf.get();
    parser.get().body().size = kBufferSize;
    http::read(sock, buffer, parser, ec);
    if (ec == http::error::need_buffer) ec = {};
    if (ec) return fail("read response: " + ec.message());
    std::string_view piece(buf.get(), kBufferSize - parser.get().body().size);
    if (stream)
      TRY(on_data(piece));
    else
      response.body.append(piece);
  }
  return response;
}

Result<Client::Hijacked> Client::hijack(const std::string& path, const Query& query, std::string_view json_body) {
  UniqueFd fd(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (!fd) return fail_errno("socket");
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  if (socket_.size() >= sizeof addr.sun_path) return fail("socket path too long: " + socket_);
  std::memcpy(addr.sun_path, socket_.c_str(), socket_.size());
  if (::connect(fd.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0)
    return fail("Cannot connect to the berth daemon at unix://" + socket_ + ". Is the berth daemon running?", ECONNREFUSED);
  std::string target = "/v1.43" + path;
  for (size_t i = 0; i < query.size(); ++i)
    target += (i ? "&" : "?") + url_encode(query[i].first) + "=" + url_encode(query[i].second);
  std::string head = "POST " + target + " HTTP/1.1\r\nHost: berth\r\nUser-Agent: berth-cli/0.1\r\nConnection: Upgrade\r\nUpgrade: tcp\r\n";
  if (!json_body.empty()) head += "Content-Type: application/json\r\n";
  head += "Content-Length: " + std::to_string(json_body.size()) + "\r\n\r\n";
  head.append(json_body);
  TRY(write_all(fd.get(), head));
  std::string data;
  size_t end;
  char buf[65536];
  while ((end = data.find("\r\n\r\n")) == std::string::npos) {
    ssize_t n = ::read(fd.get(), buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return fail("read response: connection closed");
    data.append(buf, static_cast<size_t>(n));
  }
  int status = data.size() > 12 ? std::atoi(data.c_str() + 9) : 0;
  std::string rest = data.substr(end + 4);
  if (status == 101 || (status >= 200 && status < 300)) return Hijacked{std::move(fd), std::move(rest)};
  // An error: the body (of Content-Length bytes; the connection stays
  // open) is the daemon's message.
  std::string headers = data.substr(0, end);
  for (char& c : headers) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  auto length_at = headers.find("content-length:");
  size_t length = length_at == std::string::npos ? 0 : std::strtoul(headers.c_str() + length_at + 15, nullptr, 10);
  while (rest.size() < length) {
    ssize_t n = ::read(fd.get(), buf, sizeof buf);
    if (n <= 0) break;
    rest.append(buf, static_cast<size_t>(n));
  }
  return std::unexpected(response_error(ClientResponse{status, {}, rest}));
}

Result<Json> Client::get_json(const std::string& path, const Query& query) {
  auto response = TRY(request("GET", path, query));
  if (response.status >= 300) return std::unexpected(response_error(response));
  auto doc = parse_json(response.body);
  if (!doc) return fail("invalid response from daemon: " + doc.error().message());
  return *doc;
}

}  // namespace berth::api
