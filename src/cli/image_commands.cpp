#include "cli/image_commands.h"

#include <fcntl.h>
#include <unistd.h>

#include <iostream>
#include <memory>
#include <sstream>

#include "base/file.h"
#include "cli/format.h"
#include "cli/registry_commands.h"
#include "cli/subcommand.h"
#include "image/reference.h"

namespace berth::cli {

namespace {

std::string short_id(const std::string& id) {
  std::string hex = id.substr(id.find(':') + 1);
  return hex.substr(0, 12);
}

// One row per tag (or one <none> row), as `docker images` shows them.
std::vector<Json> image_rows(const Json& images, bool no_trunc) {
  std::vector<Json> rows;
  for (const auto& image : images) {
    std::string id = image["Id"].get<std::string>();
    Json base = {{"ID", no_trunc ? id : short_id(id)},
                 {"Digest", "<none>"},
                 {"CreatedSince", time_ago(image["Created"].get<int64_t>())},
                 {"CreatedAt", image["Created"]},
                 {"Size", human_size(image["Size"].get<int64_t>())},
                 {"VirtualSize", human_size(image["Size"].get<int64_t>())},
                 {"SharedSize", "N/A"},
                 {"UniqueSize", "N/A"},
                 {"Containers", "N/A"}};
    const Json& tags = image["RepoTags"];
    if (tags.empty() || (tags.size() == 1 && tags[0] == "<none>:<none>")) {
      // Pulled by digest only: the repository, without a tag.
      std::vector<std::string> names;
      for (const auto& digest : image.value("RepoDigests", Json::array())) names.push_back(digest.get<std::string>());
      if (names.empty()) names.push_back("<none>@<none>");
      for (const auto& name : names) {
        Json row = base;
        row["Repository"] = name.substr(0, name.find('@'));
        row["Tag"] = "<none>";
        row["Digest"] = name.substr(name.find('@') + 1);
        rows.push_back(row);
      }
      continue;
    }
    for (const auto& tag : tags) {
      std::string text = tag.get<std::string>();
      auto colon = text.rfind(':');
      Json row = base;
      row["Repository"] = text.substr(0, colon);
      row["Tag"] = text.substr(colon + 1);
      // The digest the image has in this repository, if it came from (or went to) a registry.
      for (const auto& digest : image.value("RepoDigests", Json::array())) {
        std::string name = digest.get<std::string>();
        if (name.substr(0, name.find('@')) == row["Repository"]) row["Digest"] = name.substr(name.find('@') + 1);
      }
      rows.push_back(row);
    }
  }
  return rows;
}

void add_images(CLI::App* cmd, Context& ctx) {
  auto all = std::make_shared<bool>(false);
  auto quiet = std::make_shared<bool>(false);
  auto no_trunc = std::make_shared<bool>(false);
  auto digests = std::make_shared<bool>(false);
  auto format = std::make_shared<std::string>();
  auto filters = std::make_shared<std::vector<std::string>>();
  auto reference = std::make_shared<std::string>();
  cmd->add_flag("-a,--all", *all, "Show all images (default hides intermediate images)");
  cmd->add_flag("-q,--quiet", *quiet, "Only show image IDs");
  cmd->add_flag("--no-trunc", *no_trunc, "Don't truncate output");
  cmd->add_flag("--digests", *digests, "Show digests");
  cmd->add_option("--format", *format, "Format output using a custom template");
  cmd->add_option("-f,--filter", *filters, "Filter output based on conditions provided")->allow_extra_args(false);
  cmd->add_option("reference", *reference, "REPOSITORY[:TAG]");
  cmd->final_callback([=, &ctx] {
    ctx.run = [=, &ctx]() -> Result<int> {
      std::vector<std::string> all_filters = *filters;
      if (!reference->empty()) all_filters.push_back("reference=" + *reference);
      api::Client::Query query = {{"all", *all ? "1" : "0"}};
      if (!all_filters.empty()) query.push_back({"filters", filters_json(all_filters).dump()});
      auto response = TRY(call(ctx, "GET", "/images/json", query));
      auto images = TRY(parse_json(response.body));
      auto rows = image_rows(images, *no_trunc);
      if (*quiet) {
        // One line per row, as Docker: an image with two tags shows twice.
        for (const auto& row : rows) std::cout << row["ID"].get<std::string>() << "\n";
        return 0;
      }
      std::string fmt = *format;
      if (fmt.empty())
        fmt = *digests ? "table {{.Repository}}\t{{.Tag}}\t{{.Digest}}\t{{.ID}}\t{{.CreatedSince}}\t{{.Size}}"
                       : "table {{.Repository}}\t{{.Tag}}\t{{.ID}}\t{{.CreatedSince}}\t{{.Size}}";
      Json headers = {{"Repository", "REPOSITORY"}, {"Tag", "TAG"}, {"ID", "IMAGE ID"}, {"Digest", "DIGEST"},
                      {"CreatedSince", "CREATED"}, {"CreatedAt", "CREATED AT"}, {"Size", "SIZE"}, {"VirtualSize", "VIRTUAL SIZE"},
                      {"SharedSize", "SHARED SIZE"}, {"UniqueSize", "UNIQUE SIZE"}, {"Containers", "CONTAINERS"}};
      TRY(print_rows(std::cout, fmt, rows, headers));
      return 0;
    };
  });
}

void add_tag(CLI::App* cmd, Context& ctx) {
  auto source = std::make_shared<std::string>();
  auto target = std::make_shared<std::string>();
  cmd->add_option("source", *source, "SOURCE_IMAGE[:TAG]")->required();
  cmd->add_option("target", *target, "TARGET_IMAGE[:TAG]")->required();
  cmd->final_callback([=, &ctx] {
    ctx.run = [=, &ctx]() -> Result<int> {
      auto ref = image::parse_reference(*target);
      if (!ref) return fail("Error parsing reference: \"" + *target + "\" is not a valid repository/tag: " + ref.error().message());
      TRY(call(ctx, "POST", "/images/" + *source + "/tag", {{"repo", ref->familiar_name()}, {"tag", ref->tag}}));
      return 0;
    };
  });
}

void add_rmi(CLI::App* cmd, Context& ctx) {
  auto force = std::make_shared<bool>(false);
  auto no_prune = std::make_shared<bool>(false);
  auto names = std::make_shared<std::vector<std::string>>();
  cmd->add_flag("-f,--force", *force, "Force removal of the image");
  cmd->add_flag("--no-prune", *no_prune, "Do not delete untagged parents");
  cmd->add_option("images", *names, "IMAGE")->required();
  cmd->final_callback([=, &ctx] {
    ctx.run = [=, &ctx]() -> Result<int> {
      int status = 0;
      for (const auto& name : *names) {
        auto response = call(ctx, "DELETE", "/images/" + name, {{"force", *force ? "1" : "0"}, {"noprune", *no_prune ? "1" : "0"}});
        if (!response) {
          std::cerr << response.error().message() << "\n";
          status = 1;
          continue;
        }
        for (const auto& event : TRY(parse_json(response->body)))
          for (const auto& [kind, what] : event.items()) std::cout << kind << ": " << what.get<std::string>() << "\n";
      }
      return status;
    };
  });
}

void add_import(CLI::App* cmd, Context& ctx) {
  auto changes = std::make_shared<std::vector<std::string>>();
  auto message = std::make_shared<std::string>();
  auto platform = std::make_shared<std::string>();
  auto source = std::make_shared<std::string>();
  auto repository = std::make_shared<std::string>();
  cmd->add_option("-c,--change", *changes, "Apply Dockerfile instruction to the created image")->allow_extra_args(false);
  cmd->add_option("-m,--message", *message, "Set commit message for imported image");
  cmd->add_option("--platform", *platform, "Set platform if server is multi-platform capable");
  cmd->add_option("file", *source, "file|URL|-")->required();
  cmd->add_option("repository", *repository, "REPOSITORY[:TAG]");
  cmd->final_callback([=, &ctx] {
    ctx.run = [=, &ctx]() -> Result<int> {
      bool url = source->find("://") != std::string::npos;
      api::Client::Query query = {{"fromSrc", url ? *source : "-"}, {"message", *message}};
      if (!platform->empty()) query.push_back({"platform", *platform});
      for (const auto& change : *changes) query.push_back({"changes", change});
      if (!repository->empty()) {
        auto ref = image::parse_reference(*repository);
        if (!ref) return std::unexpected(ref.error());
        query.push_back({"repo", ref->familiar_name()});
        query.push_back({"tag", ref->tag});
      }
      UniqueFd file;
      int fd = 0;
      if (url) {
        auto response = TRY(call(ctx, "POST", "/images/create", query));
        std::cout << TRY(parse_json(response.body)).value("status", std::string()) << "\n";
        return 0;
      }
      if (*source != "-") {
        file = TRY(open_file(*source, O_RDONLY));
        fd = file.get();
      }
      auto response = TRY(ctx.client().request("POST", "/images/create", query, {}, "application/x-tar", nullptr, fd_reader(fd)));
      if (response.status >= 300) return std::unexpected(daemon_error(response));
      auto doc = TRY(parse_json(response.body));
      std::cout << doc.value("status", std::string()) << "\n";
      return 0;
    };
  });
}

void add_history(CLI::App* cmd, Context& ctx) {
  auto human = std::make_shared<bool>(true);
  auto quiet = std::make_shared<bool>(false);
  auto no_trunc = std::make_shared<bool>(false);
  auto format = std::make_shared<std::string>();
  auto name = std::make_shared<std::string>();
  cmd->add_option("-H,--human", *human, "Print sizes and dates in human readable format")->default_str("true");
  cmd->add_flag("-q,--quiet", *quiet, "Only show image IDs");
  cmd->add_flag("--no-trunc", *no_trunc, "Don't truncate output");
  cmd->add_option("--format", *format, "Format output using a custom template");
  cmd->add_option("image", *name, "IMAGE")->required();
  cmd->final_callback([=, &ctx] {
    ctx.run = [=, &ctx]() -> Result<int> {
      auto entries = TRY(parse_json(TRY(call(ctx, "GET", "/images/" + *name + "/history")).body));
      std::vector<Json> rows;
      for (const auto& e : entries) {
        std::string id = e["Id"];
        std::string created_by = e["CreatedBy"];
        if (!*no_trunc && created_by.size() > 45) created_by = created_by.substr(0, 44) + "…";
        int64_t created = e["Created"];
        rows.push_back({{"ID", id == "<missing>" || *no_trunc ? id : short_id(id)},
                        {"CreatedSince", *human ? time_ago(created) : std::to_string(created)},
                        {"CreatedAt", created},
                        {"CreatedBy", created_by},
                        {"Size", *human ? human_size(e["Size"]) : std::to_string(e["Size"].get<int64_t>())},
                        {"Comment", e["Comment"]}});
      }
      if (*quiet) {
        for (const auto& row : rows) std::cout << row["ID"].get<std::string>() << "\n";
        return 0;
      }
      std::string fmt = format->empty() ? "table {{.ID}}\t{{.CreatedSince}}\t{{.CreatedBy}}\t{{.Size}}\t{{.Comment}}" : *format;
      Json headers = {{"ID", "IMAGE"}, {"CreatedSince", "CREATED"}, {"CreatedAt", "CREATED AT"}, {"CreatedBy", "CREATED BY"},
                      {"Size", "SIZE"}, {"Comment", "COMMENT"}};
      TRY(print_rows(std::cout, fmt, rows, headers));
      return 0;
    };
  });
}

void add_save(CLI::App* cmd, Context& ctx) {
  auto output = std::make_shared<std::string>();
  auto names = std::make_shared<std::vector<std::string>>();
  cmd->add_option("-o,--output", *output, "Write to a file, instead of STDOUT");
  cmd->add_option("images", *names, "IMAGE")->required();
  cmd->final_callback([=, &ctx] {
    ctx.run = [=, &ctx]() -> Result<int> {
      if (output->empty() && ::isatty(1)) return fail("cowardly refusing to save to a terminal. Use the -o flag or redirect");
      // Into a temp file beside the target, renamed when complete: a failed
      // save leaves no truncated archive behind.
      std::string temp = output->empty() ? "" : *output + ".tmp";
      UniqueFd file;
      if (!temp.empty()) file = TRY(open_file(temp, O_WRONLY | O_CREAT | O_TRUNC, 0644));
      int fd = file ? file.get() : 1;
      api::Client::Query query;
      for (const auto& name : *names) query.push_back({"names", name});
      auto response = ctx.client().request("GET", "/images/get", query, {}, "", [fd](std::string_view data) { return write_all(fd, data); });
      auto failed = [&](Error error) -> Result<int> {
        if (!temp.empty()) ::unlink(temp.c_str());
        return std::unexpected(std::move(error));
      };
      if (!response) return failed(response.error());
      if (response->status >= 300) return failed(daemon_error(*response));
      if (!temp.empty() && ::rename(temp.c_str(), output->c_str()) != 0) return failed(Error::from_errno("rename " + temp));
      return 0;
    };
  });
}

void add_load(CLI::App* cmd, Context& ctx) {
  auto input = std::make_shared<std::string>();
  auto quiet = std::make_shared<bool>(false);
  cmd->add_option("-i,--input", *input, "Read from tar archive file, instead of STDIN");
  cmd->add_flag("-q,--quiet", *quiet, "Suppress the load output");
  cmd->final_callback([=, &ctx] {
    ctx.run = [=, &ctx]() -> Result<int> {
      UniqueFd file;
      if (!input->empty()) file = TRY(open_file(*input, O_RDONLY));
      else if (::isatty(0)) return fail("requested load from stdin, but stdin is empty");
      int fd = file ? file.get() : 0;
      auto response = TRY(ctx.client().request("POST", "/images/load", {{"quiet", *quiet ? "1" : "0"}}, {}, "application/x-tar", nullptr,
                                               fd_reader(fd)));
      if (response.status >= 300) return std::unexpected(daemon_error(response));
      if (*quiet) return 0;
      std::istringstream lines(response.body);
      std::string line;
      while (std::getline(lines, line))
        if (auto doc = parse_json(line); doc && doc->contains("stream")) std::cout << (*doc)["stream"].get<std::string>();
      return 0;
    };
  });
}

// Asks before something destructive unless --force; reads y/N from stdin.
void add_prune(CLI::App* cmd, Context& ctx) {
  auto all = std::make_shared<bool>(false);
  auto force = std::make_shared<bool>(false);
  auto filters = std::make_shared<std::vector<std::string>>();
  cmd->add_flag("-a,--all", *all, "Remove all unused images, not just dangling ones");
  cmd->add_flag("-f,--force", *force, "Do not prompt for confirmation");
  cmd->add_option("--filter", *filters, "Provide filter values (e.g. \"until=<timestamp>\")")->allow_extra_args(false);
  cmd->final_callback([=, &ctx] {
    ctx.run = [=, &ctx]() -> Result<int> {
      std::string warning = *all ? "WARNING! This will remove all images without at least one container associated to them."
                                 : "WARNING! This will remove all dangling images.";
      if (!*force && !confirmed(warning)) return 0;
      std::vector<std::string> all_filters = *filters;
      all_filters.push_back(std::string("dangling=") + (*all ? "false" : "true"));
      auto response = TRY(call(ctx, "POST", "/images/prune", {{"filters", filters_json(all_filters).dump()}}));
      auto doc = TRY(parse_json(response.body));
      if (doc["ImagesDeleted"].is_array() && !doc["ImagesDeleted"].empty()) {
        std::cout << "Deleted Images:\n";
        for (const auto& event : doc["ImagesDeleted"])
          for (const auto& [kind, what] : event.items())
            std::cout << (kind == "Deleted" ? "deleted: " : "untagged: ") << what.get<std::string>() << "\n";
        std::cout << "\n";
      }
      std::cout << "Total reclaimed space: " << human_size(doc["SpaceReclaimed"].get<int64_t>()) << "\n";
      return 0;
    };
  });
}

}  // namespace

// inspect: the daemon's JSON, as an indented array, or through -f. kind is
// "image", "container", or empty for either (containers first, as Docker).
void add_inspect(CLI::App* cmd, Context& ctx, const std::string& kind) {
  auto format = std::make_shared<std::string>();
  auto names = std::make_shared<std::vector<std::string>>();
  auto type = std::make_shared<std::string>(kind);
  auto size = std::make_shared<bool>(false);
  cmd->add_option("-f,--format", *format, "Format output using a custom template");
  if (kind.empty()) cmd->add_option("--type", *type, "Return JSON for specified type")->check(CLI::IsMember({"image", "container"}));
  if (kind != "image") cmd->add_flag("-s,--size", *size, "Display total file sizes if the type is container");
  cmd->add_option("names", *names, kind == "image" ? "IMAGE" : kind == "container" ? "CONTAINER" : "NAME|ID")->required();
  cmd->final_callback([=, &ctx] {
    ctx.run = [=, &ctx]() -> Result<int> {
      Json out = Json::array();
      int status = 0;
      std::vector<std::string> kinds = type->empty() ? std::vector<std::string>{"container", "image"} : std::vector<std::string>{*type};
      for (const auto& name : *names) {
        bool found = false;
        for (const auto& k : kinds) {
          auto response = TRY(ctx.client().request("GET", (k == "image" ? "/images/" : "/containers/") + name + "/json"));
          if (response.status == 404) continue;
          if (response.status >= 300) return std::unexpected(daemon_error(response));
          out.push_back(TRY(parse_json(response.body)));
          found = true;
          break;
        }
        if (!found) {
          std::cerr << "Error: No such " << (type->empty() ? "object" : *type) << ": " << name << "\n";
          status = 1;
        }
      }
      if (format->empty()) {
        std::cout << out.dump(4) << "\n";
      } else {
        std::vector<Json> rows(out.begin(), out.end());
        TRY(print_rows(std::cout, *format, rows, Json::object()));
      }
      return status;
    };
  });
}

void add_image_commands(CLI::App& app, Context& ctx) {
  auto* image = app.add_subcommand("image", "Manage images");
  image->require_subcommand(1);
  lazily(app.add_subcommand("images", "List images"), [&ctx](CLI::App* s) { add_images(s, ctx); });
  lazily(image->add_subcommand("ls", "List images")->alias("list"), [&ctx](CLI::App* s) { add_images(s, ctx); });
  lazily(app.add_subcommand("inspect", "Return low-level information on Docker objects"), [&ctx](CLI::App* s) { add_inspect(s, ctx, ""); });
  lazily(image->add_subcommand("inspect", "Display detailed information on one or more images"), [&ctx](CLI::App* s) { add_inspect(s, ctx, "image"); });
  lazily(app.add_subcommand("tag", "Create a tag TARGET_IMAGE that refers to SOURCE_IMAGE"), [&ctx](CLI::App* s) { add_tag(s, ctx); });
  lazily(image->add_subcommand("tag", "Create a tag TARGET_IMAGE that refers to SOURCE_IMAGE"), [&ctx](CLI::App* s) { add_tag(s, ctx); });
  lazily(app.add_subcommand("rmi", "Remove one or more images"), [&ctx](CLI::App* s) { add_rmi(s, ctx); });
  lazily(image->add_subcommand("rm", "Remove one or more images")->alias("remove"), [&ctx](CLI::App* s) { add_rmi(s, ctx); });
  lazily(app.add_subcommand("import", "Import the contents from a tarball to create a filesystem image"), [&ctx](CLI::App* s) { add_import(s, ctx); });
  lazily(image->add_subcommand("import", "Import the contents from a tarball to create a filesystem image"), [&ctx](CLI::App* s) { add_import(s, ctx); });
  lazily(app.add_subcommand("history", "Show the history of an image"), [&ctx](CLI::App* s) { add_history(s, ctx); });
  lazily(image->add_subcommand("history", "Show the history of an image"), [&ctx](CLI::App* s) { add_history(s, ctx); });
  lazily(app.add_subcommand("save", "Save one or more images to a tar archive (streamed to STDOUT by default)"), [&ctx](CLI::App* s) { add_save(s, ctx); });
  lazily(image->add_subcommand("save", "Save one or more images to a tar archive (streamed to STDOUT by default)"), [&ctx](CLI::App* s) { add_save(s, ctx); });
  lazily(app.add_subcommand("load", "Load an image from a tar archive or STDIN"), [&ctx](CLI::App* s) { add_load(s, ctx); });
  lazily(image->add_subcommand("load", "Load an image from a tar archive or STDIN"), [&ctx](CLI::App* s) { add_load(s, ctx); });
  lazily(image->add_subcommand("prune", "Remove unused images"), [&ctx](CLI::App* s) { add_prune(s, ctx); });
  add_registry_commands(app, *image, ctx);
}

}  // namespace berth::cli
