#include "api/http_server.h"

#include <grp.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <boost/asio/local/stream_protocol.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/string.hpp>
#include <boost/beast/http.hpp>
#include <cstring>
#include <limits>
#include <thread>

namespace berth::api {

namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using Socket = asio::local::stream_protocol::socket;

constexpr const char* kApiVersion = "1.43";

std::multimap<std::string, std::string> parse_query(std::string_view query) {
  std::multimap<std::string, std::string> out;
  while (!query.empty()) {
    auto amp = query.find('&');
    std::string_view pair = query.substr(0, amp);
    auto eq = pair.find('=');
    if (!pair.empty()) out.emplace(url_decode(pair.substr(0, eq)), eq == std::string_view::npos ? "" : url_decode(pair.substr(eq + 1)));
    if (amp == std::string_view::npos) break;
    query.remove_prefix(amp + 1);
  }
  return out;
}

template <typename Message>
void set_common_headers(Message& m) {
  m.set(http::field::server, "berth/0.1");
  m.set("Api-Version", kApiVersion);
  m.set("Docker-Experimental", "false");
  m.set("Ostype", "linux");
}

class BeastWriter final : public ResponseWriter {
 public:
  BeastWriter(Socket& socket, beast::flat_buffer& buffer, unsigned version, bool keep_alive, bool head, bool upgrade)
      : socket_(socket), buffer_(buffer), version_(version), keep_alive_(keep_alive), head_(head), upgrade_(upgrade) {}

  Result<void> send(int status, const std::string& content_type, std::string_view body, const Headers& headers) override {
    http::response<http::string_body> res{static_cast<http::status>(status), version_};
    set_common_headers(res);
    for (const auto& [name, value] : headers) res.set(name, value);
    res.set(http::field::content_type, content_type);
    res.keep_alive(keep_alive_);
    res.body() = head_ ? std::string() : std::string(body);
    res.prepare_payload();
    if (head_) res.content_length(body.size());
    beast::error_code ec;
    http::write(socket_, res, ec);
    started_ = true;
    if (ec) return fail("write response: " + ec.message());
    return {};
  }

  Result<void> begin_stream(int status, const std::string& content_type, const Headers& headers) override {
    http::response<http::empty_body> res{static_cast<http::status>(status), version_};
    set_common_headers(res);
    for (const auto& [name, value] : headers) res.set(name, value);
    res.set(http::field::content_type, content_type);
    res.chunked(true);
    res.keep_alive(keep_alive_);
    http::response_serializer<http::empty_body> serializer{res};
    beast::error_code ec;
    http::write_header(socket_, serializer, ec);
    started_ = true;
    if (ec) return fail("write response: " + ec.message());
    return {};
  }

  Result<void> write(std::string_view data) override {
    if (data.empty()) return {};
    beast::error_code ec;
    asio::write(socket_, http::make_chunk(asio::const_buffer(data.data(), data.size())), ec);
    if (ec) return fail("client went away: " + ec.message(), EPIPE);
    return {};
  }

  Result<void> finish() override {
    beast::error_code ec;
    asio::write(socket_, http::make_chunk_last(), ec);
    if (ec) return fail("client went away: " + ec.message(), EPIPE);
    return {};
  }

  bool started() const override { return started_; }

  Result<Hijacked> hijack(const std::string& content_type) override {
    std::string head = upgrade_ ? "HTTP/1.1 101 UPGRADED\r\nConnection: Upgrade\r\nUpgrade: tcp\r\n" : "HTTP/1.1 200 OK\r\n";
    head += "Content-Type: " + content_type + "\r\nApi-Version: " + kApiVersion + "\r\nServer: berth/0.1\r\n\r\n";
    beast::error_code ec;
    asio::write(socket_, asio::buffer(head), ec);
    started_ = hijacked_ = true;
    if (ec) return fail("client went away: " + ec.message(), EPIPE);
    Hijacked out{socket_.native_handle(), std::string(static_cast<const char*>(buffer_.data().data()), buffer_.size())};
    buffer_.consume(buffer_.size());
    return out;
  }
  bool hijacked() const { return hijacked_; }

 private:
  Socket& socket_;
  beast::flat_buffer& buffer_;
  unsigned version_;
  bool keep_alive_, head_, upgrade_;
  bool started_ = false, hijacked_ = false;
};

void serve_connection(Socket socket, const Router& router) {
  // Images come and go through here: large buffers mean fewer switches
  // between the client and the daemon.
  beast::error_code option_ec;
  socket.set_option(asio::socket_base::receive_buffer_size(1 << 20), option_ec);
  socket.set_option(asio::socket_base::send_buffer_size(1 << 20), option_ec);
  beast::flat_buffer buffer;
  // Beast reads no more than the buffer's free capacity at a time: without
  // room reserved a body arrives 512 bytes per recv.
  buffer.reserve(256 << 10);
  for (;;) {
    http::request_parser<http::buffer_body> parser;
    parser.body_limit(std::numeric_limits<std::uint64_t>::max());  // images are large; handlers stream
    parser.header_limit(1 << 16);
    beast::error_code ec;
    http::read_header(socket, buffer, parser, ec);
    // buffer_body has no buffer yet: an empty body reports need_buffer.
    if (ec == http::error::need_buffer) ec = {};
    if (ec) return;
    auto& header = parser.get();
    Request request;
    request.method = std::string(header.method_string());
    std::string_view target(header.target().data(), header.target().size());
    auto question = target.find('?');
    auto [version, path] = split_version(target.substr(0, question));
    request.api_version = version;
    request.path = url_decode(path);
    if (question != std::string_view::npos) request.query = parse_query(target.substr(question + 1));
    for (const auto& field : header) {
      std::string name(field.name_string());
      for (char& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      request.headers[name] = std::string(field.value());
    }
    // A client that sent "Expect: 100-continue" waits for this before the body.
    bool expects_continue = beast::iequals(header[http::field::expect], "100-continue");
    request.read_body = [&](char* buf, size_t size) -> Result<size_t> {
      if (parser.is_done()) return 0;
      if (expects_continue) {
        expects_continue = false;
        http::response<http::empty_body> go{http::status::continue_, header.version()};
        beast::error_code write_ec;
        http::write(socket, go, write_ec);
        if (write_ec) return fail("write 100 Continue: " + write_ec.message(), EPIPE);
      }
      parser.get().body().data = buf;
      parser.get().body().size = size;
      beast::error_code read_ec;
      http::read(socket, buffer, parser, read_ec);
      if (read_ec == http::error::need_buffer) read_ec = {};
      if (read_ec) return fail("read request body: " + read_ec.message(), EINVAL);
      return size - parser.get().body().size;
    };
    bool keep_alive = header.keep_alive();
    bool upgrade = beast::iequals(header[http::field::upgrade], "tcp");
    BeastWriter writer(socket, buffer, header.version(), keep_alive, request.method == "HEAD", upgrade);
    router.dispatch(request, writer);
    if (writer.hijacked()) return;
    // Whatever of the body the handler left unread must go before the next request.
    char sink[65536];
    while (!parser.is_done()) {
      auto n = request.read_body(sink, sizeof sink);
      if (!n || *n == 0) return;
    }
    if (!keep_alive) return;
  }
}

}  // namespace

Result<void> HttpServer::listen(const std::string& socket_path) {
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  if (socket_path.size() >= sizeof addr.sun_path) return fail("socket path too long: " + socket_path);
  std::memcpy(addr.sun_path, socket_path.c_str(), socket_path.size());
  UniqueFd fd(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (!fd) return fail_errno("socket");
  ::unlink(socket_path.c_str());
  mode_t old = ::umask(0117);
  int rc = ::bind(fd.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr);
  ::umask(old);
  if (rc != 0) return fail_errno("bind " + socket_path);
  if (group* g = ::getgrnam("berth")) (void)!::chown(socket_path.c_str(), 0, g->gr_gid);
  if (::listen(fd.get(), 128) != 0) return fail_errno("listen " + socket_path);
  listener_ = std::move(fd);
  socket_path_ = socket_path;
  return {};
}

void HttpServer::run() {
  asio::io_context io;
  while (!stopping_) {
    int fd = ::accept4(listener_.get(), nullptr, nullptr, SOCK_CLOEXEC);
    if (fd < 0) {
      if (errno == EINTR || errno == ECONNABORTED) continue;
      break;
    }
    Socket socket(io, asio::local::stream_protocol(), fd);
    std::thread([socket = std::move(socket), this]() mutable { serve_connection(std::move(socket), router_); }).detach();
  }
}

void HttpServer::stop() {
  stopping_ = true;
  if (listener_) ::shutdown(listener_.get(), SHUT_RDWR);
  if (!socket_path_.empty()) ::unlink(socket_path_.c_str());
}

}  // namespace berth::api
