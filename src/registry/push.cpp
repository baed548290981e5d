#include "registry/push.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include <atomic>
#include <memory>
#include <optional>
#include <thread>

#include "base/digest.h"
#include "base/file.h"
#include "registry/parallel.h"

namespace berth::registry {

namespace {

using image::Reference;

struct Gzipped {
  std::string digest;
  int64_t size = 0;
};

struct Compressed : Gzipped {
  std::string path;  // the file it is in
};

// Whether deflate at level 1 shrinks data below 97 %, judged on its first
// 64 KiB: a sample costs a sixteenth of trying a whole MiB.
class CompressionProbe {
 public:
  CompressionProbe() : ready_(deflateInit2(&z_, Z_BEST_SPEED, Z_DEFLATED, -15, 8, Z_DEFAULT_STRATEGY) == Z_OK) {}
  ~CompressionProbe() {
    if (ready_) deflateEnd(&z_);
  }
  CompressionProbe(const CompressionProbe&) = delete;
  CompressionProbe& operator=(const CompressionProbe&) = delete;

  // Without zlib's state (no memory), all data is worth a try.
  bool compressible(std::string_view data) {
    if (!ready_) return true;
    std::string_view sample = data.substr(0, kSample);
    deflateReset(&z_);
    z_.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(sample.data()));
    z_.avail_in = static_cast<uInt>(sample.size());
    z_.next_out = reinterpret_cast<Bytef*>(out_.data());
    z_.avail_out = static_cast<uInt>(out_.size());
    deflate(&z_, Z_FINISH);
    return static_cast<double>(z_.total_out) < 0.97 * static_cast<double>(sample.size());
  }

 private:
  static constexpr size_t kSample = 64 << 10;
  z_stream z_{};
  bool ready_;
  std::string out_ = std::string(kSample + 1024, '\0');
};

// The gzip of a stored layer, handed to sink as it comes. zlib's header
// carries no time and every choice below depends only on the data, so the
// same layer compresses to the same digest every time. Level 1: layers go to
// registries on the local network far more than over slow links. Data that
// level 1 cannot shrink (already compressed, random) is stored in deflate's
// plain blocks instead, as Go's compressor skips it: on these machines
// deflating it costs 25 MB/s for nothing. A probe decides at the start and
// at every 16th MiB of stored data; a MiB deflated for nothing switches to
// plain blocks.
Result<Gzipped> gzip(const std::string& source, const std::function<Result<void>(std::string_view)>& sink) {
  auto in = TRY(open_file(source, O_RDONLY));
  z_stream z{};
  if (deflateInit2(&z, Z_BEST_SPEED, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK) return fail("gzip: cannot initialise zlib");
  ScopeGuard end([&] { deflateEnd(&z); });
  Sha256 hash;
  Gzipped out;
  std::string input(1 << 20, '\0'), output((1 << 20) + 4096, '\0');
  auto emit = [&]() -> Result<void> {
    std::string_view piece(output.data(), output.size() - z.avail_out);
    TRY(sink(piece));
    hash.update(piece);
    out.size += static_cast<int64_t>(piece.size());
    return {};
  };
  auto drain = [&](int flush) -> Result<void> {
    do {
      z.next_out = reinterpret_cast<Bytef*>(output.data());
      z.avail_out = static_cast<uInt>(output.size());
      if (deflate(&z, flush) == Z_STREAM_ERROR) return fail("gzip: zlib stream error");
      TRY(emit());
    } while (z.avail_out == 0);
    return {};
  };
  int level = Z_BEST_SPEED;
  CompressionProbe probe;
  auto set_level = [&](int wanted) -> Result<void> {
    TRY(drain(Z_BLOCK));  // deflateParams wants the pending output out first
    z.next_out = reinterpret_cast<Bytef*>(output.data());
    z.avail_out = static_cast<uInt>(output.size());
    if (deflateParams(&z, wanted, Z_DEFAULT_STRATEGY) != Z_OK) return fail("gzip: cannot change the compression level");
    TRY(emit());
    level = wanted;
    return {};
  };
  for (size_t chunk = 0;; ++chunk) {
    ssize_t n = ::read(in.get(), input.data(), input.size());
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return fail_errno("read " + source);
    if (n > 0 && (chunk == 0 || (level == Z_NO_COMPRESSION && chunk % 16 == 0))) {
      int wanted = probe.compressible(std::string_view(input.data(), static_cast<size_t>(n))) ? Z_BEST_SPEED : Z_NO_COMPRESSION;
      if (wanted != level) TRY(set_level(wanted));
    }
    uLong before = z.total_out;
    z.next_in = reinterpret_cast<Bytef*>(input.data());
    z.avail_in = static_cast<uInt>(n);
    TRY(drain(n == 0 ? Z_FINISH : Z_NO_FLUSH));
    if (n == 0) break;
    // Measured on what came out for this MiB (deflate holds back little).
    bool incompressible = level == Z_BEST_SPEED && n == static_cast<ssize_t>(input.size()) &&
                          static_cast<double>(z.total_out - before) > 0.97 * static_cast<double>(n);
    if (incompressible) TRY(set_level(Z_NO_COMPRESSION));
  }
  out.digest = hash.finish();
  return out;
}

// The gzip of a layer too large for one request, in a file of dir.
Result<Compressed> gzip_to_file(const std::string& source, const std::string& dir) {
  Compressed out;
  out.path = dir + "/" + random_hex(16) + ".gz";
  auto file = TRY(open_file(out.path, O_WRONLY | O_CREAT | O_EXCL, 0600));
  bool complete = false;
  ScopeGuard remove([&] {
    if (!complete) ::unlink(out.path.c_str());
  });
  static_cast<Gzipped&>(out) = TRY(gzip(source, [&](std::string_view piece) { return write_all(file.get(), piece); }));
  complete = true;
  return out;
}

// gzip on a thread of its own, into a pipe that an upload reads: the layer
// goes out as it is compressed, with no copy on disk.
class GzipPipe {
 public:
  static Result<std::unique_ptr<GzipPipe>> start(const std::string& source) {
    int fds[2];
    if (::pipe2(fds, O_CLOEXEC) != 0) return fail_errno("pipe");
    std::unique_ptr<GzipPipe> pipe(new GzipPipe(UniqueFd(fds[0]), UniqueFd(fds[1])));
    (void)::fcntl(fds[1], F_SETPIPE_SZ, 1 << 20);  // fewer wake-ups; the default is fine too
    pipe->thread_ = std::thread([p = pipe.get(), source] {
      p->result_ = gzip(source, [p](std::string_view piece) { return write_all(p->write_.get(), piece); });
      p->write_.reset();  // the reader sees the end
    });
    return pipe;
  }
  ~GzipPipe() {
    read_.reset();  // a writer still at work fails with EPIPE
    if (thread_.joinable()) thread_.join();
  }

  ByteReader reader() { return fd_reader(read_.get()); }
  // Once the upload is over: the digest and size, or why gzip stopped.
  Result<Gzipped> finish() {
    read_.reset();  // an upload that stopped early leaves a writer waiting
    thread_.join();
    return std::move(*result_);
  }

 private:
  GzipPipe(UniqueFd read, UniqueFd write) : read_(std::move(read)), write_(std::move(write)) {}
  UniqueFd read_, write_;
  std::optional<Result<Gzipped>> result_;
  std::thread thread_;
};

std::string with_query(const std::string& location, const std::string& query) {
  return location + (location.find('?') == std::string::npos ? "?" : "&") + query;
}

class LayerPusher {
 public:
  LayerPusher(Session& session, image::ImageStore& store, const Reference& ref, const PushOptions& options, Progress& progress)
      : session_(session), store_(store), ref_(ref), options_(options), progress_(progress), scope_(repository_scope(ref.path, true)) {}

  // Makes the blob for diff_id present in the repository; returns its descriptor.
  Result<Descriptor> push_layer(const std::string& diff_id, const std::atomic<bool>& cancelled) {
    std::string id = short_digest(diff_id);
    std::vector<image::BlobSource> sources;
    {
      std::lock_guard lock(*options_.store_lock);
      sources = TRY(store_.blob_sources(diff_id));
    }
    std::string prefix = ref_.domain + "/";
    for (const auto& source : sources) {
      if (!source.repository.starts_with(prefix)) continue;
      Descriptor d{.media_type = source.media_type, .digest = source.digest, .size = source.size};
      if (TRY(exists(source.digest))) {
        progress_.item(id, "Layer already exists");
        return record(diff_id, d);
      }
      std::string from = source.repository.substr(prefix.size());
      if (from != ref_.path && TRY(mount(source.digest, from))) {
        progress_.item(id, "Mounted from " + from);
        return record(diff_id, d);
      }
    }
    if (cancelled) return fail("cancelled", ECANCELED);
    std::string tar = store_.content().path(diff_id);
    struct stat st {};
    if (::stat(tar.c_str(), &st) != 0) return fail_errno("stat " + tar);
    if (static_cast<uint64_t>(st.st_size) <= options_.chunk_size) {
      Descriptor d = TRY(stream(tar, st.st_size, id));
      progress_.item(id, "Pushed");
      return record(diff_id, d);
    }
    Compressed blob = TRY(gzip_to_file(tar, options_.work_dir));
    ScopeGuard remove([&] { ::unlink(blob.path.c_str()); });
    Descriptor d{.media_type = kDockerLayerGzip, .digest = blob.digest, .size = blob.size};
    if (TRY(exists(blob.digest))) {
      progress_.item(id, "Layer already exists");
      return record(diff_id, d);
    }
    auto file = TRY(open_file(blob.path, O_RDONLY));
    TRY(upload(blob.digest, file.get(), static_cast<uint64_t>(blob.size), id));
    progress_.item(id, "Pushed");
    return record(diff_id, d);
  }

  // The config (small, from memory): uploaded unless there.
  Result<void> push_config(const std::string& digest, const std::string& path) {
    if (TRY(exists(digest))) return {};
    auto file = TRY(open_file(path, O_RDONLY));
    struct stat st {};
    if (::fstat(file.get(), &st) != 0) return fail_errno("stat " + path);
    return upload(digest, file.get(), static_cast<uint64_t>(st.st_size), "");
  }

 private:
  Result<bool> exists(const std::string& digest) {
    HttpRequest request{.method = "HEAD", .url = "/v2/" + ref_.path + "/blobs/" + digest};
    request.head = true;
    auto response = TRY(session_.send(std::move(request), scope_));
    if (response.status == 200) return true;
    if (response.status == 404) return false;
    return fail(registry_error(response), response.status == 401 || response.status == 403 ? EACCES : EIO);
  }

  // A cross-repository mount; false when the registry would rather have an
  // upload (it then opened one, which is cancelled).
  Result<bool> mount(const std::string& digest, const std::string& from) {
    HttpRequest request{.method = "POST", .url = "/v2/" + ref_.path + "/blobs/uploads/?mount=" + digest + "&from=" + from};
    auto response = TRY(session_.send(std::move(request), scope_ + " " + repository_scope(from, false)));
    if (response.status == 201) return true;
    if (response.status == 202 && !response.header("location").empty())
      (void)session_.send({.method = "DELETE", .url = response.header("location")}, scope_);
    return false;
  }

  // The gzip of a layer up to chunk_size, streamed in one PATCH as it is
  // compressed (its digest known only at the end), then the PUT with it.
  Result<Descriptor> stream(const std::string& tar, int64_t tar_size, const std::string& id) {
    std::string location = TRY(start_upload());
    auto pipe = TRY(GzipPipe::start(tar));
    HttpRequest patch{.method = "PATCH", .url = location};
    patch.headers = {"Content-Type: application/octet-stream"};
    patch.body_source = pipe->reader();
    // Against the layer's size, as Docker shows it: the compressed one is not known yet.
    patch.on_sent = [&](uint64_t sent) { progress_.bytes(id, "Pushing", static_cast<int64_t>(sent), tar_size); };
    auto response = session_.send(std::move(patch), scope_);
    auto gzipped = pipe->finish();
    if (!gzipped || !response || response->status != 202) {
      (void)session_.send({.method = "DELETE", .url = location}, scope_);
      if (!gzipped) return std::unexpected(gzipped.error());
      if (!response) return std::unexpected(response.error());
      return fail("upload of layer " + id + ": " + registry_error(*response), response->status == 401 ? EACCES : EIO);
    }
    location = TRY(location_of(*response, "upload"));
    HttpRequest put{.method = "PUT", .url = with_query(location, "digest=" + gzipped->digest)};
    put.headers = {"Content-Type: application/octet-stream"};
    auto done = TRY(session_.send(std::move(put), scope_));
    if (done.status != 201) return fail("upload of " + gzipped->digest + ": " + registry_error(done), EIO);
    return Descriptor{.media_type = kDockerLayerGzip, .digest = gzipped->digest, .size = gzipped->size};
  }

  Result<std::string> start_upload() {
    auto started = TRY(session_.send({.method = "POST", .url = "/v2/" + ref_.path + "/blobs/uploads/"}, scope_));
    if (started.status != 202) return fail("start upload: " + registry_error(started), started.status == 401 ? EACCES : EIO);
    return location_of(started, "start upload");
  }

  Result<std::string> location_of(const HttpResponse& response, const char* what) {
    std::string location = response.header("location");
    if (location.empty()) return fail(std::string(what) + ": the registry gave no Location", EPROTO);
    return location;
  }

  // POST, then one PUT with the whole blob, or PATCHes of chunk_size and
  // an empty PUT for a large one.
  Result<void> upload(const std::string& digest, int fd, uint64_t size, const std::string& id) {
    std::string location = TRY(start_upload());
    auto report = [&, id](uint64_t base) {
      return [&, id, base](uint64_t sent) {
        if (!id.empty()) progress_.bytes(id, "Pushing", static_cast<int64_t>(base + sent), static_cast<int64_t>(size));
      };
    };
    uint64_t offset = 0;
    bool chunked = size > options_.chunk_size;
    while (chunked && offset < size) {
      uint64_t length = std::min(options_.chunk_size, size - offset);
      HttpRequest patch{.method = "PATCH", .url = location};
      patch.headers = {"Content-Type: application/octet-stream",
                       "Content-Range: " + std::to_string(offset) + "-" + std::to_string(offset + length - 1)};
      patch.body_fd = fd;
      patch.body_offset = offset;
      patch.body_length = length;
      patch.on_sent = report(offset);
      auto response = TRY(session_.send(std::move(patch), scope_));
      if (response.status != 202) return fail("upload of " + digest + ": " + registry_error(response), EIO);
      location = TRY(location_of(response, "upload chunk"));
      offset += length;
    }
    HttpRequest put{.method = "PUT", .url = with_query(location, "digest=" + digest)};
    put.headers = {"Content-Type: application/octet-stream"};
    if (!chunked) {
      put.body_fd = fd;
      put.body_length = size;
      put.on_sent = report(0);
    }
    auto response = TRY(session_.send(std::move(put), scope_));
    if (response.status != 201) return fail("upload of " + digest + ": " + registry_error(response), EIO);
    return {};
  }

  Result<Descriptor> record(const std::string& diff_id, const Descriptor& d) {
    std::lock_guard lock(*options_.store_lock);
    TRY(store_.add_blob_source(diff_id, {d.digest, d.media_type, d.size, ref_.name()}));
    return d;
  }

  Session& session_;
  image::ImageStore& store_;
  const Reference& ref_;
  const PushOptions& options_;
  Progress& progress_;
  std::string scope_;
};

}  // namespace

Result<PushResult> push(Session& session, image::ImageStore& store, const Reference& ref, const PushOptions& options, Progress& progress) {
  image::Image image;
  {
    std::lock_guard lock(*options.store_lock);
    auto found = store.resolve(ref.str());
    if (!found) return fail("An image does not exist locally with the tag: " + Reference{ref.domain, ref.path, "", ""}.familiar_name(), ENOENT);
    image = *found;
  }
  std::vector<std::string> diff_ids;
  for (const auto& d : image.config["rootfs"]["diff_ids"]) diff_ids.push_back(d.get<std::string>());
  TRY(make_dirs(options.work_dir, 0700));
  // Docker lists the top layer first.
  for (auto it = diff_ids.rbegin(); it != diff_ids.rend(); ++it) progress.item(short_digest(*it), "Preparing");

  LayerPusher pusher(session, store, ref, options, progress);
  std::vector<Descriptor> layers(diff_ids.size());
  TRY(for_each_parallel(diff_ids.size(), options.max_uploads, [&](size_t i, const std::atomic<bool>& cancelled) -> Result<void> {
    layers[i] = TRY(pusher.push_layer(diff_ids[i], cancelled));
    return {};
  }));

  std::string config_path = store.content().path(image.id);
  TRY(pusher.push_config(image.id, config_path));
  struct stat st {};
  if (::stat(config_path.c_str(), &st) != 0) return fail_errno("stat " + config_path);
  std::string manifest = docker_manifest({.media_type = kDockerConfig, .digest = image.id, .size = st.st_size}, layers);
  HttpRequest put{.method = "PUT", .url = "/v2/" + ref.path + "/manifests/" + ref.tag, .body = manifest};
  put.headers = {std::string("Content-Type: ") + kDockerManifest};
  auto response = TRY(session.send(std::move(put), repository_scope(ref.path, true)));
  if (response.status != 201) return fail(registry_error(response), response.status == 401 || response.status == 403 ? EACCES : EIO);
  PushResult result{sha256_digest(manifest), static_cast<int64_t>(manifest.size())};
  Reference by_digest = ref;
  by_digest.tag.clear();
  by_digest.digest = result.digest;
  std::lock_guard lock(*options.store_lock);
  TRY(store.add_digest(image.id, by_digest));
  return result;
}

}  // namespace berth::registry
