// A container's files: its root filesystem for cp and export, what it
// changed (diff), and commit, which makes those changes a layer of a new image.
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <algorithm>

#include "base/clock.h"
#include "base/file.h"
#include "engine/container_spec.h"
#include "engine/containers.h"
#include "image/image_config.h"
#include "image/layer_diff.h"
#include "image/overlay.h"
#include "runtime/container.h"

namespace berth::engine {

namespace {

bool is_whiteout(const struct stat& st) { return S_ISCHR(st.st_mode) && st.st_rdev == makedev(0, 0); }

// Whether path is in the union of the lower layers (top first): a whiteout
// in a higher layer hides it.
bool in_lower(const std::vector<std::string>& lower_top_first, const std::string& path) {
  for (const auto& layer : lower_top_first) {
    struct stat st;
    if (::lstat((layer + path).c_str(), &st) != 0) continue;
    return !is_whiteout(st);
  }
  return false;
}

void walk_changes(int dir_fd, const std::string& path, const std::vector<std::string>& lower, bool parent_added,
                  std::vector<std::pair<int, std::string>>& out) {
  auto names = list_directory(dir_fd);
  if (!names) return;
  for (const auto& name : *names) {
    std::string child = path + "/" + name;
    struct stat st;
    if (::fstatat(dir_fd, name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) continue;
    if (is_whiteout(st)) {
      out.push_back({2, child});
      continue;
    }
    bool added = parent_added || !in_lower(lower, child);
    out.push_back({added ? 1 : 0, child});
    if (S_ISDIR(st.st_mode)) {
      UniqueFd sub(::openat(dir_fd, name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
      if (sub) walk_changes(sub.get(), child, lower, added, out);
    }
  }
}

}  // namespace

Result<std::vector<std::pair<int, std::string>>> Containers::changes(const std::string& ref) {
  auto c = TRY(get(ref));
  auto lower = TRY(lower_dirs(c, nullptr));
  lower.push_back(container_dir(c.id) + "/init");
  std::ranges::reverse(lower);
  std::vector<std::pair<int, std::string>> out;
  auto upper = open_file(container_dir(c.id) + "/upper", O_RDONLY | O_DIRECTORY);
  if (!upper) return out;  // never started: no changes
  walk_changes(upper->get(), "", lower, false, out);
  std::ranges::sort(out, [](const auto& a, const auto& b) { return a.second < b.second; });
  return out;
}

Result<std::string> Containers::commit(const std::string& ref, const CommitOptions& options) {
  auto c = TRY(get(ref));
  runtime::Runtime runtime(runtime_root());
  bool paused = false;
  if (options.pause && c.state.status == "running") paused = runtime.pause(c.id).has_value();
  ScopeGuard resume([&] {
    if (paused) (void)runtime.resume(c.id);
  });
  // The diff goes through a file: the layer store reads what the diff writer pushes.
  std::string tmp = container_dir(c.id) + "/commit.tar";
  {
    auto out = TRY(open_file(tmp, O_WRONLY | O_CREAT | O_TRUNC, 0600));
    TRY(make_dirs(container_dir(c.id) + "/upper", 0700));
    TRY(image::write_layer_diff(container_dir(c.id) + "/upper", [&](std::string_view data) { return write_all(out.get(), data); }));
  }
  ScopeGuard remove_tmp([&] { ::unlink(tmp.c_str()); });
  if (paused) {
    (void)runtime.resume(c.id);
    paused = false;
  }
  auto in = TRY(open_file(tmp, O_RDONLY));
  std::lock_guard lock(image_mutex_);
  auto base = TRY_CTX(images_.resolve(c.image_id), "image of the container");
  std::string diff_id = TRY(images_.store_layer(fd_reader(in.get())));

  Json config = base.config;
  Json container_config = c.config;
  if (options.config.is_object())
    for (const auto& [key, value] : options.config.items()) container_config[key] = value;
  // The image keeps the container's settings, not what belongs to this one container.
  for (const char* key : {"Hostname", "Domainname", "AttachStdin", "AttachStdout", "AttachStderr", "Tty", "OpenStdin", "StdinOnce", "Image"})
    container_config.erase(key);
  config["config"] = container_config;
  for (const auto& change : options.changes) TRY(image::apply_change(config, change));
  std::string now = rfc3339_now();
  config["created"] = now;
  config["container"] = c.id;
  if (!options.author.empty()) config["author"] = options.author;
  else config.erase("author");
  if (!options.comment.empty()) config["comment"] = options.comment;
  else config.erase("comment");
  config["rootfs"]["diff_ids"].push_back(diff_id);
  Json history = {{"created", now}, {"created_by", command_text(process_args(Json::object(), c.config).value_or(std::vector<std::string>{}))}};
  if (!options.author.empty()) history["author"] = options.author;
  if (!options.comment.empty()) history["comment"] = options.comment;
  if (!config["history"].is_array()) config["history"] = Json::array();
  config["history"].push_back(history);
  std::string id = TRY(images_.add_image(config.dump(), options.tags));
  events_.publish("container", "commit", c.id, {{"name", c.name}, {"imageID", id}});
  return id;
}

}  // namespace berth::engine
