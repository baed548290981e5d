// berth version, berth info.
#include <iostream>

#include "cli/format.h"
#include "cli/image_commands.h"
#include "cli/subcommand.h"

namespace berth::cli {

namespace {

constexpr const char* kClientVersion = "0.1.0";
constexpr const char* kClientApiVersion = "1.43";

void add_version(CLI::App* cmd, Context& ctx) {
  auto format = std::make_shared<std::string>();
  cmd->add_option("-f,--format", *format, "Format output using a custom template");
  cmd->final_callback([=, &ctx] {
    ctx.run = [=, &ctx]() -> Result<int> {
      Json client = {{"Version", kClientVersion}, {"ApiVersion", kClientApiVersion}, {"Os", "linux"}, {"Arch", "amd64"}};
      auto server = ctx.client().get_json("/version");
      Json doc = {{"Client", client}, {"Server", server ? *server : Json(nullptr)}};
      if (!format->empty()) {
        TRY(print_rows(std::cout, *format, {doc}, Json::object()));
      } else {
        std::cout << "Client:\n Version:           " << kClientVersion << "\n API version:       " << kClientApiVersion
                  << "\n OS/Arch:           linux/amd64\n\n";
        if (server) {
          const Json& s = *server;
          std::cout << "Server: berth\n Engine:\n  Version:          " << s.value("Version", "") << "\n  API version:      "
                    << s.value("ApiVersion", "") << " (minimum version " << s.value("MinAPIVersion", "") << ")\n"
                    << "  OS/Arch:          " << s.value("Os", "") << "/" << s.value("Arch", "") << "\n";
        }
      }
      if (!server) return std::unexpected(server.error());
      return 0;
    };
  });
}

void add_info(CLI::App* cmd, Context& ctx) {
  auto format = std::make_shared<std::string>();
  cmd->add_option("-f,--format", *format, "Format output using a custom template");
  cmd->final_callback([=, &ctx] {
    ctx.run = [=, &ctx]() -> Result<int> {
      auto info = TRY(ctx.client().get_json("/info"));
      if (!format->empty()) {
        TRY(print_rows(std::cout, *format, {info}, Json::object()));
        return 0;
      }
      std::cout << "Server:\n"
                << " Containers: " << info["Containers"] << "\n  Running: " << info["ContainersRunning"]
                << "\n  Paused: " << info["ContainersPaused"] << "\n  Stopped: " << info["ContainersStopped"]
                << "\n Images: " << info["Images"] << "\n Server Version: " << info["ServerVersion"].get<std::string>()
                << "\n Storage Driver: " << info["Driver"].get<std::string>()
                << "\n Cgroup Driver: " << info["CgroupDriver"].get<std::string>()
                << "\n Cgroup Version: " << info["CgroupVersion"].get<std::string>()
                << "\n Default Runtime: " << info["DefaultRuntime"].get<std::string>()
                << "\n Kernel Version: " << info["KernelVersion"].get<std::string>()
                << "\n Operating System: " << info["OperatingSystem"].get<std::string>()
                << "\n OSType: " << info["OSType"].get<std::string>() << "\n Architecture: " << info["Architecture"].get<std::string>()
                << "\n CPUs: " << info["NCPU"] << "\n Total Memory: " << human_size(info["MemTotal"].get<int64_t>())
                << "\n Name: " << info["Name"].get<std::string>()
                << "\n Docker Root Dir: " << info["DockerRootDir"].get<std::string>() << "\n";
      return 0;
    };
  });
}

void add_df(CLI::App* cmd, Context& ctx) {
  auto format = std::make_shared<std::string>();
  auto verbose = std::make_shared<bool>(false);
  cmd->add_option("--format", *format, "Format output using a custom template");
  cmd->add_flag("-v,--verbose", *verbose, "Show detailed information on space usage");
  cmd->final_callback([=, &ctx] {
    ctx.run = [=, &ctx]() -> Result<int> {
      auto df = TRY(ctx.client().get_json("/system/df"));
      int64_t reclaimable = 0, active = 0;
      for (const auto& image : df["Images"]) {
        int64_t unique = image["Size"].get<int64_t>() - image["SharedSize"].get<int64_t>();
        if (image["Containers"].get<int64_t>() > 0) ++active; else reclaimable += unique;
      }
      int64_t layers = df["LayersSize"].get<int64_t>();
      int64_t containers_size = 0, containers_reclaimable = 0, containers_active = 0;
      for (const auto& c : df["Containers"]) {
        int64_t size = c.value("SizeRw", int64_t{0});
        containers_size += size;
        if (c["State"] == "running" || c["State"] == "paused" || c["State"] == "restarting") ++containers_active;
        else containers_reclaimable += size;
      }
      auto percent = [](int64_t part, int64_t whole) {
        return whole == 0 ? std::string() : " (" + std::to_string(part * 100 / whole) + "%)";
      };
      std::vector<Json> rows = {
          {{"Type", "Images"}, {"TotalCount", df["Images"].size()}, {"Active", active}, {"Size", human_size(layers)},
           {"Reclaimable", human_size(reclaimable) + percent(reclaimable, layers)}},
          {{"Type", "Containers"}, {"TotalCount", df["Containers"].size()}, {"Active", containers_active},
           {"Size", human_size(containers_size)},
           {"Reclaimable", human_size(containers_reclaimable) + percent(containers_reclaimable, containers_size)}},
          {{"Type", "Local Volumes"}, {"TotalCount", 0}, {"Active", 0}, {"Size", "0B"}, {"Reclaimable", "0B"}},
          {{"Type", "Build Cache"}, {"TotalCount", 0}, {"Active", 0}, {"Size", "0B"}, {"Reclaimable", "0B"}}};
      Json headers = {{"Type", "TYPE"}, {"TotalCount", "TOTAL"}, {"Active", "ACTIVE"}, {"Size", "SIZE"}, {"Reclaimable", "RECLAIMABLE"}};
      TRY(print_rows(std::cout, format->empty() ? "table {{.Type}}\t{{.TotalCount}}\t{{.Active}}\t{{.Size}}\t{{.Reclaimable}}" : *format,
                     rows, headers));
      if (*verbose) {
        std::cout << "\nImages space usage:\n\n";
        std::vector<Json> images;
        for (const auto& image : df["Images"]) {
          std::string id = image["Id"].get<std::string>().substr(7, 12);
          auto tags = image["RepoTags"].empty() ? Json::array({"<none>:<none>"}) : image["RepoTags"];
          for (const auto& tag : tags) {
            std::string t = tag.get<std::string>();
            images.push_back({{"Repository", t.substr(0, t.rfind(':'))}, {"Tag", t.substr(t.rfind(':') + 1)}, {"ID", id},
                              {"CreatedSince", time_ago(image["Created"].get<int64_t>())}, {"Size", human_size(image["Size"])},
                              {"SharedSize", human_size(image["SharedSize"])},
                              {"UniqueSize", human_size(image["Size"].get<int64_t>() - image["SharedSize"].get<int64_t>())},
                              {"Containers", image["Containers"]}});
          }
        }
        Json image_headers = {{"Repository", "REPOSITORY"}, {"Tag", "TAG"}, {"ID", "IMAGE ID"}, {"CreatedSince", "CREATED"},
                              {"Size", "SIZE"}, {"SharedSize", "SHARED SIZE"}, {"UniqueSize", "UNIQUE SIZE"}, {"Containers", "CONTAINERS"}};
        TRY(print_rows(std::cout, "table {{.Repository}}\t{{.Tag}}\t{{.ID}}\t{{.CreatedSince}}\t{{.Size}}\t{{.SharedSize}}\t{{.UniqueSize}}\t{{.Containers}}",
                       images, image_headers));
      }
      return 0;
    };
  });
}

}  // namespace

void add_system_commands(CLI::App& app, Context& ctx) {
  lazily(app.add_subcommand("version", "Show the berth version information"), [&ctx](CLI::App* s) { add_version(s, ctx); });
  lazily(app.add_subcommand("info", "Display system-wide information"), [&ctx](CLI::App* s) { add_info(s, ctx); });
  auto* system = app.add_subcommand("system", "Manage berth");
  system->require_subcommand(1);
  lazily(system->add_subcommand("info", "Display system-wide information"), [&ctx](CLI::App* s) { add_info(s, ctx); });
  lazily(system->add_subcommand("df", "Show berth disk usage"), [&ctx](CLI::App* s) { add_df(s, ctx); });
}

}  // namespace berth::cli
