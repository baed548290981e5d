// berth's commands on a container's files: cp, diff, export, commit.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <iostream>
#include <memory>

#include "base/base64.h"
#include "base/file.h"
#include "cli/container_commands.h"
#include "cli/format.h"
#include "cli/subcommand.h"
#include "image/layer.h"
#include "image/layer_diff.h"
#include "image/reference.h"

namespace berth::cli {

namespace {

void add_diff(CLI::App* cmd, Context& ctx) {
  auto name = std::make_shared<std::string>();
  cmd->add_option("container", *name, "CONTAINER")->required();
  cmd->final_callback([=, &ctx] {
    ctx.run = [=, &ctx]() -> Result<int> {
      auto response = TRY(call(ctx, "GET", "/containers/" + *name + "/changes"));
      static constexpr char kKinds[] = {'C', 'A', 'D'};
      for (const auto& change : TRY(parse_json(response.body))) {
        int kind = change["Kind"].get<int>();
        std::cout << (kind >= 0 && kind <= 2 ? kKinds[kind] : '?') << " " << change["Path"].get<std::string>() << "\n";
      }
      return 0;
    };
  });
}

// Streams a GET to a file, or to stdout when it is not a terminal.
Result<int> download(const Context& ctx, const std::string& path, const std::string& output) {
  UniqueFd file;
  int fd = 1;
  if (!output.empty() && output != "-") {
    file = TRY(open_file(output, O_WRONLY | O_CREAT | O_TRUNC, 0644));
    fd = file.get();
  } else if (::isatty(1)) {
    return fail("cowardly refusing to save to a terminal. Use the -o flag or redirect");
  }
  auto response = TRY(ctx.client().request("GET", path, {}, {}, "", [&](std::string_view data) { return write_all(fd, data); }));
  if (response.status >= 300) {
    if (!output.empty() && output != "-") ::unlink(output.c_str());
    return std::unexpected(daemon_error(response));
  }
  return 0;
}

void add_export(CLI::App* cmd, Context& ctx) {
  auto name = std::make_shared<std::string>();
  auto output = std::make_shared<std::string>();
  cmd->add_option("-o,--output", *output, "Write to a file, instead of STDOUT");
  cmd->add_option("container", *name, "CONTAINER")->required();
  cmd->final_callback([=, &ctx] {
    ctx.run = [=, &ctx]() -> Result<int> { return download(ctx, "/containers/" + *name + "/export", *output); };
  });
}

void add_commit(CLI::App* cmd, Context& ctx) {
  struct Options {
    std::string author, message, name, repository;
    std::vector<std::string> changes;
    bool pause = true;
  };
  auto o = std::make_shared<Options>();
  cmd->add_option("-a,--author", o->author, "Author (e.g., \"John Hannibal Smith <hannibal@a-team.com>\")");
  cmd->add_option("-m,--message", o->message, "Commit message");
  cmd->add_option("-c,--change", o->changes, "Apply Dockerfile instruction to the created image")->allow_extra_args(false);
  cmd->add_flag("-p,--pause,!--no-pause", o->pause, "Pause container during commit");
  cmd->add_option("container", o->name, "CONTAINER")->required();
  cmd->add_option("repository", o->repository, "[REPOSITORY[:TAG]]");
  cmd->final_callback([=, &ctx] {
    ctx.run = [=, &ctx]() -> Result<int> {
      api::Client::Query query = {{"container", o->name}, {"author", o->author}, {"comment", o->message}, {"pause", o->pause ? "1" : "0"}};
      if (!o->repository.empty()) {
        auto ref = image::parse_reference(o->repository);
        if (!ref) return fail("invalid reference format: " + ref.error().message());
        query.push_back({"repo", ref->familiar_name()});
        if (!ref->tag.empty()) query.push_back({"tag", ref->tag});
      }
      for (const auto& change : o->changes) query.push_back({"changes", change});
      auto response = TRY(call(ctx, "POST", "/commit", query, "{}"));
      std::cout << TRY(parse_json(response.body))["Id"].get<std::string>() << "\n";
      return 0;
    };
  });
}

// "CONTAINER:PATH" splits; a local path (with no colon before any slash) does not.
std::optional<std::pair<std::string, std::string>> container_path(const std::string& arg) {
  auto colon = arg.find(':');
  if (colon == std::string::npos || colon == 0 || arg.find('/') < colon) return std::nullopt;
  return std::make_pair(arg.substr(0, colon), arg.substr(colon + 1));
}

std::string base_name(std::string path) {
  while (path.size() > 1 && path.back() == '/') path.pop_back();
  if (path.ends_with("/.")) path.resize(path.size() - 2);
  auto slash = path.rfind('/');
  return slash == std::string::npos ? path : path.substr(slash + 1);
}

std::string absolute_in_container(const std::string& path) { return path.starts_with('/') ? path : "/" + path; }

// container → local: the daemon's tar unpacked at dest (into it when it is
// a directory, else as it).
Result<int> copy_from(const Context& ctx, const std::string& container, const std::string& src, const std::string& dest) {
  std::string path = absolute_in_container(src);
  if (dest == "-") {
    auto response = TRY(ctx.client().request("GET", "/containers/" + container + "/archive", {{"path", path}}, {}, "",
                                              [](std::string_view data) { return write_all(1, data); }));
    if (response.status >= 300) return std::unexpected(daemon_error(response));
    return 0;
  }
  struct stat st;
  bool into_dir = ::stat(dest.c_str(), &st) == 0 && S_ISDIR(st.st_mode);
  std::string parent = into_dir ? dest : dest.substr(0, dest.rfind('/') == std::string::npos ? 0 : dest.rfind('/'));
  if (parent.empty()) parent = ".";
  char tmpl[] = "/tmp/berth-cp-XXXXXX";
  UniqueFd tar(::mkstemp(tmpl));
  if (!tar) return fail_errno("temporary file");
  ::unlink(tmpl);
  uint64_t bytes = 0;
  auto response = TRY(ctx.client().request("GET", "/containers/" + container + "/archive", {{"path", path}}, {}, "",
                                            [&](std::string_view data) {
                                              bytes += data.size();
                                              return write_all(tar.get(), data);
                                            }));
  if (response.status >= 300) return std::unexpected(daemon_error(response));
  ::lseek(tar.get(), 0, SEEK_SET);
  std::string name = base_name(path);
  if (into_dir && name != "" && name != "/") {
    TRY(image::apply_layer(tar.get(), dest, image::WhiteoutMode::kApply));
  } else {
    // Unpacked beside dest, then renamed to it.
    std::string staging = parent + "/.berth-cp-" + std::to_string(::getpid());
    TRY(make_dirs(staging, 0700));
    ScopeGuard cleanup([&] { (void)remove_all(staging); });
    TRY(image::apply_layer(tar.get(), staging, image::WhiteoutMode::kApply));
    std::string from = name.empty() || name == "/" ? staging : staging + "/" + name;
    if (::rename(from.c_str(), dest.c_str()) != 0) return fail_errno("copy to " + dest);
    if (from == staging) cleanup.dismiss();
  }
  std::cerr << "Successfully copied " << human_size(static_cast<int64_t>(bytes)) << " to " << dest << "\n";
  return 0;
}

// local → container: a tar of src named for where it goes, unpacked by the daemon.
Result<int> copy_to(const Context& ctx, const std::string& src, const std::string& container, const std::string& dest_arg) {
  std::string dest = absolute_in_container(dest_arg);
  struct stat st;
  if (::lstat(src.c_str(), &st) != 0) return fail("could not find the file " + src);
  auto head = TRY(ctx.client().request("HEAD", "/containers/" + container + "/archive", {{"path", dest}}));
  bool dest_is_dir = false;
  if (head.status == 200) {
    auto stat_header = head.headers["x-docker-container-path-stat"];
    // The stat is base64 JSON; a directory's mode has bit 31 set.
    dest_is_dir = !stat_header.empty() && TRY(parse_json(TRY(base64_decode(stat_header))))["mode"].get<uint32_t>() >> 31;
  } else if (head.status != 404) {
    return std::unexpected(daemon_error(head));
  }
  if (!dest_is_dir && dest_arg.ends_with('/')) return fail("destination \"" + container + ":" + dest_arg + "\" must be a directory");
  std::string target_dir = dest, as = base_name(src);
  if (!dest_is_dir) {
    auto slash = dest.rfind('/');
    target_dir = slash == 0 ? "/" : dest.substr(0, slash);
    as = dest.substr(slash + 1);
  }
  std::string src_parent = src.rfind('/') == std::string::npos ? "." : src.substr(0, std::max<size_t>(src.rfind('/'), 1));
  auto parent_fd = TRY(open_file(src_parent, O_RDONLY | O_DIRECTORY));
  char tmpl[] = "/tmp/berth-cp-XXXXXX";
  UniqueFd tar(::mkstemp(tmpl));
  if (!tar) return fail_errno("temporary file");
  ::unlink(tmpl);
  uint64_t bytes = 0;
  TRY(image::write_tree(parent_fd.get(), base_name(src), as, [&](std::string_view data) {
    bytes += data.size();
    return write_all(tar.get(), data);
  }));
  ::lseek(tar.get(), 0, SEEK_SET);
  auto response = TRY(ctx.client().request("PUT", "/containers/" + container + "/archive", {{"path", target_dir}}, {}, "application/x-tar",
                                            nullptr, fd_reader(tar.get())));
  if (response.status >= 300) return std::unexpected(daemon_error(response));
  std::cerr << "Successfully copied " << human_size(static_cast<int64_t>(bytes)) << " to " << container << ":" << dest << "\n";
  return 0;
}

void add_cp(CLI::App* cmd, Context& ctx) {
  auto args = std::make_shared<std::pair<std::string, std::string>>();
  auto archive = std::make_shared<bool>(false);
  auto follow = std::make_shared<bool>(false);
  cmd->add_flag("-a,--archive", *archive, "Archive mode (copy all uid/gid information)");
  cmd->add_flag("-L,--follow-link", *follow, "Always follow symbol link in SRC_PATH");
  cmd->add_option("src", args->first, "SRC_PATH")->required();
  cmd->add_option("dest", args->second, "DEST_PATH")->required();
  cmd->final_callback([=, &ctx] {
    ctx.run = [=, &ctx]() -> Result<int> {
      if (*follow) return fail("--follow-link is not supported");
      auto from = container_path(args->first), to = container_path(args->second);
      if (from && to) return fail("copying between containers is not supported");
      if (!from && !to) return fail("must specify at least one container source");
      if (from) return copy_from(ctx, from->first, from->second, args->second);
      return copy_to(ctx, args->first, to->first, to->second);
    };
  });
}

}  // namespace

void add_file_commands(CLI::App& app, CLI::App& container, Context& ctx) {
  for (auto* parent : {&app, &container}) {
    lazily(parent->add_subcommand("cp", "Copy files/folders between a container and the local filesystem"), [&ctx](CLI::App* s) { add_cp(s, ctx); });
    lazily(parent->add_subcommand("diff", "Inspect changes to files or directories on a container's filesystem"), [&ctx](CLI::App* s) { add_diff(s, ctx); });
    lazily(parent->add_subcommand("export", "Export a container's filesystem as a tar archive"), [&ctx](CLI::App* s) { add_export(s, ctx); });
    lazily(parent->add_subcommand("commit", "Create a new image from a container's changes"), [&ctx](CLI::App* s) { add_commit(s, ctx); });
  }
}

}  // namespace berth::cli
