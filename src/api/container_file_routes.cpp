// A container's files: /containers/{name}/changes|export|archive and /commit.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "api/routes.h"
#include "base/file.h"
#include "base/safe_path.h"
#include "image/layer.h"
#include "base/base64.h"
#include "image/layer_diff.h"
#include "image/reference.h"

namespace berth::api {

namespace {

using engine::Engine;

// A path in the container: its parent directory (resolved inside the root)
// and its last name, which is not followed if it is a link.
struct ContainerPath {
  UniqueFd parent;
  std::string name;  // empty for "/"
};

Result<ContainerPath> resolve(const std::string& rootfs, const std::string& path, const std::string& container) {
  if (path.empty() || path.front() != '/') return fail("path \"" + path + "\" must be absolute", EINVAL);
  std::string clean = path;
  while (clean.size() > 1 && clean.back() == '/') clean.pop_back();
  if (clean.ends_with("/.")) clean.resize(clean.size() - 2);
  auto root = TRY(open_file(rootfs, O_PATH | O_DIRECTORY));
  auto slash = clean.rfind('/');
  std::string parent = clean.substr(0, slash == 0 ? 1 : slash);
  std::string name = clean == "/" || clean.empty() ? "" : clean.substr(slash + 1);
  auto dir = open_in_root(root.get(), parent.empty() ? "/" : parent, O_RDONLY | O_DIRECTORY);
  if (!dir) return fail("Could not find the file " + path + " in container " + container, ENOENT);
  struct stat st;
  if (!name.empty() && ::fstatat(dir->get(), name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0)
    return fail("Could not find the file " + path + " in container " + container, ENOENT);
  if (name.empty()) return ContainerPath{std::move(root), ""};
  // "dir/" means the directory, through a link if it is one (inside the root).
  if (path.ends_with('/') && S_ISLNK(st.st_mode)) {
    auto target = open_in_root(root.get(), clean, O_RDONLY | O_DIRECTORY);
    if (!target) return fail("Could not find the file " + path + " in container " + container, ENOENT);
    return ContainerPath{std::move(*target), ""};
  }
  return ContainerPath{std::move(*dir), name};
}

// X-Docker-Container-Path-Stat: what the path is, as `docker cp` needs to know.
Result<std::string> path_stat(const ContainerPath& p) {
  struct stat st;
  if (::fstatat(p.parent.get(), p.name.empty() ? "." : p.name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) return fail_errno("stat");
  std::string link;
  if (S_ISLNK(st.st_mode)) {
    char target[4096];
    ssize_t n = ::readlinkat(p.parent.get(), p.name.c_str(), target, sizeof target - 1);
    if (n > 0) link.assign(target, static_cast<size_t>(n));
  }
  // Go's os.FileMode: permission bits plus a type bit (dir 1<<31, symlink 1<<27).
  uint32_t mode = st.st_mode & 07777;
  if (S_ISDIR(st.st_mode)) mode |= 1u << 31;
  if (S_ISLNK(st.st_mode)) mode |= 1u << 27;
  time_t t = st.st_mtime;
  tm utc{};
  gmtime_r(&t, &utc);
  char mtime[64];
  strftime(mtime, sizeof mtime, "%Y-%m-%dT%H:%M:%SZ", &utc);
  Json doc = {{"name", p.name.empty() ? "." : p.name}, {"size", st.st_size}, {"mode", mode}, {"mtime", mtime}, {"linkTarget", link}};
  return base64_encode(doc.dump());
}

Result<void> archive_get(Request& request, ResponseWriter& response, Engine& engine, bool head) {
  std::string name = request.params["name"], path = request.query_value("path");
  return engine.containers().with_rootfs(name, [&](const std::string& rootfs) -> Result<void> {
    auto p = TRY(resolve(rootfs, path, name));
    ResponseWriter::Headers headers = {{"X-Docker-Container-Path-Stat", TRY(path_stat(p))}};
    if (head) return response.send(200, "application/x-tar", "", headers);
    TRY(response.begin_stream(200, "application/x-tar", headers));
    TRY(image::write_tree(p.parent.get(), p.name, p.name, [&](std::string_view data) { return response.write(data); }));
    return response.finish();
  });
}

Result<void> archive_put(Request& request, ResponseWriter& response, Engine& engine) {
  std::string name = request.params["name"], path = request.query_value("path");
  auto c = TRY(engine.containers().get(name));
  // The tar goes to a file first: extraction reads it from a descriptor.
  std::string tmp = engine.containers().container_dir(c.id) + "/archive.tar";
  {
    auto out = TRY(open_file(tmp, O_WRONLY | O_CREAT | O_TRUNC, 0600));
    char buf[65536];
    for (size_t n; (n = TRY(request.read_body(buf, sizeof buf))) > 0;) TRY(write_all(out.get(), std::string_view(buf, n)));
  }
  ScopeGuard remove_tmp([&] { ::unlink(tmp.c_str()); });
  TRY(engine.containers().with_rootfs(name, [&](const std::string& rootfs) -> Result<void> {
    auto p = TRY(resolve(rootfs, path, name));
    UniqueFd dest = p.name.empty() ? std::move(p.parent) : UniqueFd(::openat(p.parent.get(), p.name.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (!dest) return fail("extraction point is not a directory", EINVAL);
    auto in = TRY(open_file(tmp, O_RDONLY));
    TRY(image::apply_layer(in.get(), fd_path(dest.get()), image::WhiteoutMode::kApply));
    return {};
  }));
  return response.send(200, "text/plain", "");
}

Result<void> commit(Request& request, ResponseWriter& response, Engine& engine) {
  engine::Containers::CommitOptions options;
  options.config = TRY(read_json_body(request));
  std::string repo = request.query_value("repo"), tag = request.query_value("tag");
  if (!repo.empty()) {
    auto ref = image::parse_reference(repo + (tag.empty() ? "" : ":" + tag));
    if (!ref) return fail(ref.error().message(), EINVAL);
    options.tags.push_back(image::with_default_tag(*ref));
  }
  options.comment = request.query_value("comment");
  options.author = request.query_value("author");
  options.changes = request.query_values("changes");
  options.pause = request.query_value("pause", "1") != "0" && request.query_value("pause") != "false";
  auto id = TRY(engine.containers().commit(request.query_value("container"), options));
  return response.json(201, {{"Id", id}});
}

}  // namespace

void add_container_file_routes(Router& router, Engine& engine) {
  router.add("GET", "/containers/{name}/changes", [&engine](Request& rq, ResponseWriter& rs) -> Result<void> {
    Json out = Json::array();
    for (const auto& [kind, path] : TRY(engine.containers().changes(rq.params["name"]))) out.push_back({{"Kind", kind}, {"Path", path}});
    return rs.json(200, out);
  });
  router.add("GET", "/containers/{name}/export", [&engine](Request& rq, ResponseWriter& rs) -> Result<void> {
    return engine.containers().with_rootfs(rq.params["name"], [&](const std::string& rootfs) -> Result<void> {
      auto root = TRY(open_file(rootfs, O_RDONLY | O_DIRECTORY));
      TRY(rs.begin_stream(200, "application/x-tar"));
      TRY(image::write_tree(root.get(), "", "", [&](std::string_view data) { return rs.write(data); }));
      return rs.finish();
    });
  });
  router.add("GET", "/containers/{name}/archive", [&engine](Request& rq, ResponseWriter& rs) { return archive_get(rq, rs, engine, false); });
  router.add("HEAD", "/containers/{name}/archive", [&engine](Request& rq, ResponseWriter& rs) { return archive_get(rq, rs, engine, true); });
  router.add("PUT", "/containers/{name}/archive", [&engine](Request& rq, ResponseWriter& rs) { return archive_put(rq, rs, engine); });
  router.add("POST", "/commit", [&engine](Request& rq, ResponseWriter& rs) { return commit(rq, rs, engine); });
}

}  // namespace berth::api
