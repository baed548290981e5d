#include "http/http_server.h"

#include <arpa/inet.h>
#include <grp.h>
#include <netinet/in.h>
#include <sys/sendfile.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <boost/asio/generic/stream_protocol.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/string.hpp>
#include <boost/beast/http.hpp>
#include <chrono>
#include <condition_variable>
#include <cstring>
#include <deque>
#include <functional>
#include <limits>
#include <mutex>
#include <optional>
#include <thread>

namespace berth::http {

namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = beast::http;

// Threads for connections, kept a while for the next one: starting a thread
// (and handing its stack back after) cost about as much as a short request,
// and `berth run` makes four connections.
class Workers {
 public:
  using Job = std::move_only_function<void()>;

  void run(Job job) {
    std::unique_lock lock(mutex_);
    if (idle_ > 0) {
      idle_--;
      jobs_.push_back(std::move(job));
      ready_.notify_one();
      return;
    }
    lock.unlock();
    std::thread([this, job = std::move(job)]() mutable { work(std::move(job)); }).detach();
  }

 private:
  static constexpr int kMaxIdle = 8;
  static constexpr auto kIdleTime = std::chrono::seconds(30);

  void work(Job job) {
    for (;;) {
      job();
      job = nullptr;
      std::unique_lock lock(mutex_);
      if (idle_ >= kMaxIdle) return;
      idle_++;
      if (!ready_.wait_for(lock, kIdleTime, [&] { return !jobs_.empty(); })) {
        idle_--;
        return;
      }
      job = std::move(jobs_.front());
      jobs_.pop_front();
    }
  }

  std::mutex mutex_;
  std::condition_variable ready_;
  std::deque<Job> jobs_;
  int idle_ = 0;  // threads waiting for a job, less the jobs handed to them
};
using Socket = asio::generic::stream_protocol::socket;
using TlsStream = asio::ssl::stream<Socket>;

// The socket under a stream: itself, or the one TLS runs over.
Socket& socket_of(Socket& socket) { return socket; }
Socket& socket_of(TlsStream& stream) { return stream.next_layer(); }

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
void set_common_headers(Message& m, const ResponseWriter::Headers& headers) {
  m.set(bhttp::field::server, "berth/0.1");
  for (const auto& [name, value] : headers) m.set(name, value);
}

template <typename Stream>
class BeastWriter final : public ResponseWriter {
 public:
  BeastWriter(Stream& socket, beast::flat_buffer& buffer, const Headers& common, unsigned version, bool keep_alive, bool head,
              bool upgrade)
      : socket_(socket), buffer_(buffer), common_(common), version_(version), keep_alive_(keep_alive), head_(head), upgrade_(upgrade) {}

  Result<void> send(int status, const std::string& content_type, std::string_view body, const Headers& headers) override {
    bhttp::response<bhttp::string_body> res{static_cast<bhttp::status>(status), version_};
    set_common_headers(res, common_);
    for (const auto& [name, value] : headers) res.set(name, value);
    res.set(bhttp::field::content_type, content_type);
    res.keep_alive(keep_alive_);
    res.body() = head_ ? std::string() : std::string(body);
    res.prepare_payload();
    if (head_) res.content_length(body.size());
    beast::error_code ec;
    bhttp::write(socket_, res, ec);
    started_ = true;
    if (ec) return fail("write response: " + ec.message());
    return {};
  }

  Result<void> begin_stream(int status, const std::string& content_type, const Headers& headers) override {
    return write_head(status, content_type, headers, std::nullopt);
  }

  Result<void> write(std::string_view data) override {
    if (data.empty()) return {};
    beast::error_code ec;
    asio::write(socket_, bhttp::make_chunk(asio::const_buffer(data.data(), data.size())), ec);
    if (ec) return fail("client went away: " + ec.message(), EPIPE);
    return {};
  }

  Result<void> finish() override {
    beast::error_code ec;
    asio::write(socket_, bhttp::make_chunk_last(), ec);
    if (ec) return fail("client went away: " + ec.message(), EPIPE);
    return {};
  }

  Result<void> send_file(int status, const std::string& content_type, int fd, uint64_t offset, uint64_t length,
                         const Headers& headers) override {
    TRY(write_head(status, content_type, headers, length));
    if (head_) return {};
    auto position = static_cast<off_t>(offset);
    if constexpr (std::is_same_v<Stream, Socket>) {
      for (uint64_t left = length; left > 0;) {
        ssize_t n = ::sendfile(socket_.native_handle(), fd, &position, std::min<uint64_t>(left, 1 << 30));
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) return fail_errno("send file");
        left -= static_cast<uint64_t>(n);
      }
    } else {  // TLS encrypts in user space: read and write
      std::string chunk(1 << 20, '\0');
      for (uint64_t left = length; left > 0;) {
        ssize_t n = ::pread(fd, chunk.data(), std::min<uint64_t>(left, chunk.size()), position);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) return fail_errno("read file");
        beast::error_code ec;
        asio::write(socket_, asio::buffer(chunk.data(), static_cast<size_t>(n)), ec);
        if (ec) return fail("client went away: " + ec.message(), EPIPE);
        position += n;
        left -= static_cast<uint64_t>(n);
      }
    }
    return {};
  }

  bool started() const override { return started_; }

  Result<Hijacked> hijack(const std::string& content_type) override {
    if constexpr (!std::is_same_v<Stream, Socket>) return fail("raw streams are not served over TLS", ENOSYS);
    std::string head = upgrade_ ? "HTTP/1.1 101 UPGRADED\r\nConnection: Upgrade\r\nUpgrade: tcp\r\n" : "HTTP/1.1 200 OK\r\n";
    head += "Content-Type: " + content_type + "\r\n";
    for (const auto& [name, value] : common_) head += name + ": " + value + "\r\n";
    head += "Server: berth/0.1\r\n\r\n";
    beast::error_code ec;
    asio::write(socket_, asio::buffer(head), ec);
    started_ = hijacked_ = true;
    if (ec) return fail("client went away: " + ec.message(), EPIPE);
    Hijacked out{socket_of(socket_).native_handle(), std::string(static_cast<const char*>(buffer_.data().data()), buffer_.size())};
    buffer_.consume(buffer_.size());
    return out;
  }
  bool hijacked() const { return hijacked_; }

 private:
  // The status line and headers of a body of length bytes, or of a chunked one.
  Result<void> write_head(int status, const std::string& content_type, const Headers& headers, std::optional<uint64_t> length) {
    bhttp::response<bhttp::empty_body> res{static_cast<bhttp::status>(status), version_};
    set_common_headers(res, common_);
    for (const auto& [name, value] : headers) res.set(name, value);
    res.set(bhttp::field::content_type, content_type);
    if (length) res.content_length(*length);
    else res.chunked(true);
    res.keep_alive(keep_alive_);
    bhttp::response_serializer<bhttp::empty_body> serializer{res};
    beast::error_code ec;
    bhttp::write_header(socket_, serializer, ec);
    started_ = true;
    if (ec) return fail("write response: " + ec.message(), EPIPE);
    return {};
  }

  Stream& socket_;
  beast::flat_buffer& buffer_;
  const Headers& common_;
  unsigned version_;
  bool keep_alive_, head_, upgrade_;
  bool started_ = false, hijacked_ = false;
};

template <typename Stream>
void serve_connection(Stream& socket, const Dispatch& dispatch, const ResponseWriter::Headers& common) {
  // Images come and go through here: large buffers mean fewer switches
  // between the client and the daemon.
  beast::error_code option_ec;
  socket_of(socket).set_option(asio::socket_base::receive_buffer_size(1 << 20), option_ec);
  socket_of(socket).set_option(asio::socket_base::send_buffer_size(1 << 20), option_ec);
  beast::flat_buffer buffer;
  // Beast reads no more than the buffer's free capacity at a time: without
  // room reserved a body arrives 512 bytes per recv.
  buffer.reserve(256 << 10);
  for (;;) {
    bhttp::request_parser<bhttp::buffer_body> parser;
    parser.body_limit(std::numeric_limits<std::uint64_t>::max());  // images are large; handlers stream
    parser.header_limit(1 << 16);
    beast::error_code ec;
    bhttp::read_header(socket, buffer, parser, ec);
    // buffer_body has no buffer yet: an empty body reports need_buffer.
    if (ec == bhttp::error::need_buffer) ec = {};
    if (ec) return;
    auto& header = parser.get();
    Request request;
    request.method = std::string(header.method_string());
    std::string_view target(header.target().data(), header.target().size());
    auto question = target.find('?');
    request.path = url_decode(target.substr(0, question));
    if (question != std::string_view::npos) request.query = parse_query(target.substr(question + 1));
    for (const auto& field : header) {
      std::string name(field.name_string());
      for (char& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      request.headers[name] = std::string(field.value());
    }
    // A client that sent "Expect: 100-continue" waits for this before the body.
    bool expects_continue = beast::iequals(header[bhttp::field::expect], "100-continue");
    request.read_body = [&](char* buf, size_t size) -> Result<size_t> {
      if (parser.is_done()) return 0;
      if (expects_continue) {
        expects_continue = false;
        bhttp::response<bhttp::empty_body> go{bhttp::status::continue_, header.version()};
        beast::error_code write_ec;
        bhttp::write(socket, go, write_ec);
        if (write_ec) return fail("write 100 Continue: " + write_ec.message(), EPIPE);
      }
      parser.get().body().data = buf;
      parser.get().body().size = size;
      beast::error_code read_ec;
      bhttp::read(socket, buffer, parser, read_ec);
      if (read_ec == bhttp::error::need_buffer) read_ec = {};
      if (read_ec) return fail("read request body: " + read_ec.message(), EINVAL);
      return size - parser.get().body().size;
    };
    bool keep_alive = header.keep_alive();
    bool upgrade = beast::iequals(header[bhttp::field::upgrade], "tcp");
    BeastWriter<Stream> writer(socket, buffer, common, header.version(), keep_alive, request.method == "HEAD", upgrade);
    dispatch(request, writer);
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
  family_ = AF_UNIX;
  socket_path_ = socket_path;
  return {};
}

Result<void> HttpServer::listen_tcp(const std::string& address) {
  auto colon = address.rfind(':');
  if (colon == std::string::npos) return fail("listen address \"" + address + "\": want HOST:PORT", EINVAL);
  std::string host = address.substr(0, colon), port_text = address.substr(colon + 1);
  if (host.starts_with('[') && host.ends_with(']')) host = host.substr(1, host.size() - 2);
  if (host == "localhost" || host.empty()) host = host.empty() ? "0.0.0.0" : "127.0.0.1";
  char* end = nullptr;
  long port = std::strtol(port_text.c_str(), &end, 10);
  if (port_text.empty() || *end || port < 0 || port > 65535) return fail("listen address \"" + address + "\": bad port", EINVAL);
  sockaddr_storage storage{};
  socklen_t length = 0;
  auto* v4 = reinterpret_cast<sockaddr_in*>(&storage);
  auto* v6 = reinterpret_cast<sockaddr_in6*>(&storage);
  if (::inet_pton(AF_INET, host.c_str(), &v4->sin_addr) == 1) {
    v4->sin_family = AF_INET;
    v4->sin_port = htons(static_cast<uint16_t>(port));
    length = sizeof *v4;
  } else if (::inet_pton(AF_INET6, host.c_str(), &v6->sin6_addr) == 1) {
    v6->sin6_family = AF_INET6;
    v6->sin6_port = htons(static_cast<uint16_t>(port));
    length = sizeof *v6;
  } else {
    return fail("listen address \"" + address + "\": not an IP address", EINVAL);
  }
  UniqueFd fd(::socket(storage.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (!fd) return fail_errno("socket");
  int one = 1;
  ::setsockopt(fd.get(), SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  if (::bind(fd.get(), reinterpret_cast<sockaddr*>(&storage), length) != 0) return fail_errno("bind " + address);
  if (::listen(fd.get(), 128) != 0) return fail_errno("listen " + address);
  listener_ = std::move(fd);
  family_ = storage.ss_family;
  return {};
}

int HttpServer::port() const {
  sockaddr_storage storage{};
  socklen_t length = sizeof storage;
  if (::getsockname(listener_.get(), reinterpret_cast<sockaddr*>(&storage), &length) != 0) return 0;
  if (storage.ss_family == AF_INET) return ntohs(reinterpret_cast<sockaddr_in*>(&storage)->sin_port);
  if (storage.ss_family == AF_INET6) return ntohs(reinterpret_cast<sockaddr_in6*>(&storage)->sin6_port);
  return 0;
}

void HttpServer::run() {
  asio::io_context io;
  static Workers& workers = *new Workers;  // never destroyed: its threads may outlive run()
  while (!stopping_) {
    int fd = ::accept4(listener_.get(), nullptr, nullptr, SOCK_CLOEXEC);
    if (fd < 0) {
      if (errno == EINTR || errno == ECONNABORTED) continue;
      break;
    }
    if (family_ != AF_UNIX) {
      int one = 1;
      ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    }
    Socket socket(io, asio::generic::stream_protocol(family_, SOCK_STREAM), fd);
    workers.run([socket = std::move(socket), this]() mutable {
      if (!tls_) return serve_connection(socket, dispatch_, headers_);
      TlsStream stream(std::move(socket), *tls_);
      beast::error_code ec;
      stream.handshake(asio::ssl::stream_base::server, ec);
      if (!ec) serve_connection(stream, dispatch_, headers_);
    });
  }
}

Result<void> HttpServer::use_tls(const std::string& cert_path, const std::string& key_path) {
  auto context = std::make_shared<asio::ssl::context>(asio::ssl::context::tls_server);
  context->set_options(asio::ssl::context::default_workarounds | asio::ssl::context::no_sslv2 | asio::ssl::context::no_sslv3 |
                       asio::ssl::context::no_tlsv1 | asio::ssl::context::no_tlsv1_1);
  beast::error_code ec;
  context->use_certificate_chain_file(cert_path, ec);
  if (ec) return fail("TLS certificate " + cert_path + ": " + ec.message(), EINVAL);
  context->use_private_key_file(key_path, asio::ssl::context::pem, ec);
  if (ec) return fail("TLS key " + key_path + ": " + ec.message(), EINVAL);
  tls_ = std::move(context);
  return {};
}

void HttpServer::run_until(const sigset_t& signals) {
  std::thread([this, signals] {
    int sig = 0;
    sigwait(&signals, &sig);
    stop();
  }).detach();
  run();
}

void HttpServer::stop() {
  stopping_ = true;
  if (listener_) ::shutdown(listener_.get(), SHUT_RDWR);
  if (!socket_path_.empty()) ::unlink(socket_path_.c_str());
}

}  // namespace berth::http
