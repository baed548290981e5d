// berth's container commands that do not stream a container's stdio: ps,
// stop, restart, kill, pause, unpause, rm, rename, wait, logs, top, port,
// container prune (run, create, start and attach are in run_commands.cpp).
#include <chrono>
#include <future>
#include <iostream>
#include <thread>
#include <memory>
#include <sstream>

#include "base/clock.h"
#include "base/file.h"
#include "cli/container_commands.h"
#include "cli/create_options.h"
#include "cli/format.h"
#include "cli/image_commands.h"
#include "cli/streams.h"
#include "cli/subcommand.h"

namespace berth::cli {

namespace {

// Go's strconv.Quote for the printable text Docker puts in the COMMAND column.
std::string go_quote(const std::string& text) {
  std::string out = "\"";
  for (char c : text) {
    if (c == '"' || c == '\\') out += '\\';
    if (c == '\n') out += "\\n";
    else if (c == '\t') out += "\\t";
    else out += c;
  }
  return out + "\"";
}

// Docker's Ellipsis: at most n characters, the last one "…" when cut.
std::string ellipsis(const std::string& text, size_t n) {
  std::vector<size_t> starts;  // where each UTF-8 character begins
  for (size_t i = 0; i < text.size(); ++i)
    if ((static_cast<unsigned char>(text[i]) & 0xC0) != 0x80) starts.push_back(i);
  if (starts.size() <= n) return text;
  return text.substr(0, starts[n - 1]) + "…";
}

std::string format_time(int64_t unix_seconds) {
  time_t t = unix_seconds;
  tm utc{};
  gmtime_r(&t, &utc);
  char buf[64];
  strftime(buf, sizeof buf, "%Y-%m-%d %H:%M:%S +0000 UTC", &utc);
  return buf;
}

Json ps_row(const Json& c, bool no_trunc) {
  std::string id = c["Id"];
  std::string command = c.value("Command", "");
  std::string name = c["Names"].empty() ? "" : c["Names"][0].get<std::string>().substr(1);
  Json labels = c.value("Labels", Json::object());
  std::string label_text;
  for (const auto& [k, v] : labels.items()) label_text += (label_text.empty() ? "" : ",") + k + "=" + v.get<std::string>();
  Json row = {{"ID", no_trunc ? id : id.substr(0, 12)},
              {"Image", c["Image"]},
              {"Command", go_quote(no_trunc ? command : ellipsis(command, 20))},
              {"CreatedAt", format_time(c["Created"].get<int64_t>())},
              {"RunningFor", time_ago(c["Created"].get<int64_t>())},
              {"Ports", ""},
              {"State", c["State"]},
              {"Status", c["Status"]},
              {"Names", name},
              {"Labels", label_text},
              {"Mounts", ""},
              {"Networks", ""},
              {"LocalVolumes", "0"},
              {"Size", "0B"}};
  if (c.contains("SizeRw"))
    row["Size"] = human_size(c["SizeRw"].get<int64_t>()) + " (virtual " + human_size(c.value("SizeRootFs", int64_t{0})) + ")";
  return row;
}

void add_ps(CLI::App* cmd, Context& ctx) {
  struct Options {
    bool all = false, quiet = false, latest = false, size = false, no_trunc = false;
    int last = -1;
    std::string format;
    std::vector<std::string> filters;
  };
  auto o = std::make_shared<Options>();
  cmd->add_flag("-a,--all", o->all, "Show all containers (default shows just running)");
  cmd->add_flag("-q,--quiet", o->quiet, "Only display container IDs");
  cmd->add_flag("-l,--latest", o->latest, "Show the latest created container (includes all states)");
  cmd->add_option("-n,--last", o->last, "Show n last created containers (includes all states)");
  cmd->add_flag("-s,--size", o->size, "Display total file sizes");
  cmd->add_flag("--no-trunc", o->no_trunc, "Don't truncate output");
  cmd->add_option("--format", o->format, "Format output using a custom template");
  cmd->add_option("-f,--filter", o->filters, "Filter output based on conditions provided")->allow_extra_args(false);
  cmd->final_callback([=, &ctx] {
    ctx.run = [=, &ctx]() -> Result<int> {
      api::Client::Query query = {{"all", o->all ? "1" : "0"}};
      int limit = o->latest ? 1 : o->last;
      if (limit > 0) query.push_back({"limit", std::to_string(limit)});
      // As the docker CLI: a format that shows .Size asks for the sizes.
      if (o->size || o->format.find(".Size") != std::string::npos) query.push_back({"size", "1"});
      if (!o->filters.empty()) query.push_back({"filters", filters_json(o->filters).dump()});
      auto response = TRY(call(ctx, "GET", "/containers/json", query));
      auto containers = TRY(parse_json(response.body));
      std::vector<Json> rows;
      for (const auto& c : containers) rows.push_back(ps_row(c, o->no_trunc));
      if (o->quiet) {
        for (const auto& row : rows) std::cout << row["ID"].get<std::string>() << "\n";
        return 0;
      }
      std::string format = o->format;
      if (format.empty() || format == "table") {
        format = "table {{.ID}}\t{{.Image}}\t{{.Command}}\t{{.RunningFor}}\t{{.Status}}\t{{.Ports}}\t{{.Names}}";
        if (o->size) format += "\t{{.Size}}";
      }
      Json headers = {{"ID", "CONTAINER ID"}, {"Image", "IMAGE"},   {"Command", "COMMAND"},   {"CreatedAt", "CREATED AT"},
                      {"RunningFor", "CREATED"}, {"Ports", "PORTS"}, {"State", "STATE"},       {"Status", "STATUS"},
                      {"Names", "NAMES"},     {"Labels", "LABELS"},  {"Mounts", "MOUNTS"},     {"Networks", "NETWORKS"},
                      {"LocalVolumes", "LOCAL VOLUMES"}, {"Size", "SIZE"}};
      TRY(print_rows(std::cout, format, rows, headers));
      return 0;
    };
  });
}

// For commands taking several containers: each name printed on success,
// each error on stderr, status 1 if any failed.
using PerContainer = std::function<Result<void>(const std::string& name)>;
void add_multi(CLI::App* cmd, Context& ctx, std::shared_ptr<std::vector<std::string>> names, PerContainer each, bool print = true) {
  cmd->add_option("containers", *names, "CONTAINER")->required();
  cmd->final_callback([=, &ctx] {
    ctx.run = [=]() -> Result<int> {
      int status = 0;
      for (const auto& name : *names) {
        if (auto done = each(name); !done) {
          std::cerr << done.error().message() << "\n";
          status = 1;
        } else if (print) {
          std::cout << name << "\n";
        }
      }
      return status;
    };
  });
}

void add_stop(CLI::App* cmd, Context& ctx, const std::string& action) {
  auto timeout = std::make_shared<std::optional<int>>();
  auto signal = std::make_shared<std::string>();
  cmd->add_option("-t,--time", *timeout, "Seconds to wait before killing the container");
  if (action == "stop") cmd->add_option("-s,--signal", *signal, "Signal to send to the container");
  add_multi(cmd, ctx, std::make_shared<std::vector<std::string>>(), [=, &ctx](const std::string& name) -> Result<void> {
    api::Client::Query query;
    if (*timeout) query.push_back({"t", std::to_string(**timeout)});
    if (!signal->empty()) query.push_back({"signal", *signal});
    TRY(call(ctx, "POST", "/containers/" + name + "/" + action, query));
    return {};
  });
}

void add_simple(CLI::App* cmd, Context& ctx, const std::string& action) {
  add_multi(cmd, ctx, std::make_shared<std::vector<std::string>>(), [=, &ctx](const std::string& name) -> Result<void> {
    TRY(call(ctx, "POST", "/containers/" + name + "/" + action));
    return {};
  });
}

void add_kill(CLI::App* cmd, Context& ctx) {
  auto signal = std::make_shared<std::string>();
  cmd->add_option("-s,--signal", *signal, "Signal to send to the container");
  add_multi(cmd, ctx, std::make_shared<std::vector<std::string>>(), [=, &ctx](const std::string& name) -> Result<void> {
    api::Client::Query query;
    if (!signal->empty()) query.push_back({"signal", *signal});
    TRY(call(ctx, "POST", "/containers/" + name + "/kill", query));
    return {};
  });
}

void add_rm(CLI::App* cmd, Context& ctx) {
  auto force = std::make_shared<bool>(false);
  auto volumes = std::make_shared<bool>(false);
  auto link = std::make_shared<bool>(false);
  cmd->add_flag("-f,--force", *force, "Force the removal of a running container (uses SIGKILL)");
  cmd->add_flag("-v,--volumes", *volumes, "Remove anonymous volumes associated with the container");
  cmd->add_flag("-l,--link", *link, "Remove the specified link");
  add_multi(cmd, ctx, std::make_shared<std::vector<std::string>>(), [=, &ctx](const std::string& name) -> Result<void> {
    TRY(call(ctx, "DELETE", "/containers/" + name,
             {{"force", *force ? "1" : "0"}, {"v", *volumes ? "1" : "0"}, {"link", *link ? "1" : "0"}}));
    return {};
  });
}

void add_wait(CLI::App* cmd, Context& ctx) {
  add_multi(
      cmd, ctx, std::make_shared<std::vector<std::string>>(),
      [&ctx](const std::string& name) -> Result<void> {
        auto response = TRY(call(ctx, "POST", "/containers/" + name + "/wait"));
        std::cout << TRY(parse_json(response.body))["StatusCode"].get<int>() << "\n";
        return {};
      },
      false);
}

void add_rename(CLI::App* cmd, Context& ctx) {
  auto names = std::make_shared<std::pair<std::string, std::string>>();
  cmd->add_option("container", names->first, "CONTAINER")->required();
  cmd->add_option("new_name", names->second, "NEW_NAME")->required();
  cmd->final_callback([=, &ctx] {
    ctx.run = [=, &ctx]() -> Result<int> {
      TRY(call(ctx, "POST", "/containers/" + names->first + "/rename", {{"name", names->second}}));
      return 0;
    };
  });
}

void add_update(CLI::App* cmd, Context& ctx) {
  auto options = std::make_shared<UpdateOptions>();
  add_update_flags(cmd, *options);
  add_multi(cmd, ctx, std::make_shared<std::vector<std::string>>(), [=, &ctx](const std::string& name) -> Result<void> {
    auto body = TRY(update_body(*options));
    TRY(call(ctx, "POST", "/containers/" + name + "/update", {}, body.dump()));
    return {};
  });
}

// --since/--until: a Unix time, an RFC 3339 time, or a duration before now ("10m", "1h30m").
std::string log_time(const std::string& text) {
  int64_t seconds = 0;
  size_t i = 0;
  bool duration = !text.empty();
  while (i < text.size() && duration) {
    size_t start = i;
    while (i < text.size() && std::isdigit(static_cast<unsigned char>(text[i]))) ++i;
    if (i == start || i == text.size()) {
      duration = false;
      break;
    }
    int64_t n = std::stoll(text.substr(start, i - start));
    char unit = text[i++];
    if (unit == 'h') seconds += n * 3600;
    else if (unit == 'm') seconds += n * 60;
    else if (unit == 's') seconds += n;
    else duration = false;
  }
  if (!duration) return text;
  return std::to_string(static_cast<int64_t>(::time(nullptr)) - seconds);
}

void add_logs(CLI::App* cmd, Context& ctx) {
  struct Options {
    bool follow = false, timestamps = false, details = false;
    std::string tail = "all", since, until, name;
  };
  auto o = std::make_shared<Options>();
  cmd->add_flag("-f,--follow", o->follow, "Follow log output");
  cmd->add_flag("-t,--timestamps", o->timestamps, "Show timestamps");
  cmd->add_flag("--details", o->details, "Show extra details provided to logs");
  cmd->add_option("-n,--tail", o->tail, "Number of lines to show from the end of the logs");
  cmd->add_option("--since", o->since, "Show logs since timestamp (e.g. \"2013-01-02T13:23:37Z\") or relative (e.g. \"42m\" for 42 minutes)");
  cmd->add_option("--until", o->until, "Show logs before a timestamp (e.g. \"2013-01-02T13:23:37Z\") or relative (e.g. \"42m\" for 42 minutes)");
  cmd->add_option("container", o->name, "CONTAINER")->required();
  cmd->final_callback([=, &ctx] {
    ctx.run = [=, &ctx]() -> Result<int> {
      auto info = TRY(call(ctx, "GET", "/containers/" + o->name + "/json"));
      bool tty = TRY(parse_json(info.body))["Config"].value("Tty", false);
      api::Client::Query query = {{"stdout", "1"}, {"stderr", "1"}, {"follow", o->follow ? "1" : "0"},
                                  {"timestamps", o->timestamps ? "1" : "0"}, {"tail", o->tail}};
      if (!o->since.empty()) query.push_back({"since", log_time(o->since)});
      if (!o->until.empty()) query.push_back({"until", log_time(o->until)});
      FrameSplitter splitter;
      auto response = TRY(ctx.client().request("GET", "/containers/" + o->name + "/logs", query, {}, "",
                                                [&](std::string_view data) -> Result<void> {
                                                  if (tty) TRY(write_all(1, data));
                                                  else splitter.feed(data);
                                                  return {};
                                                }));
      if (response.status >= 300) return std::unexpected(daemon_error(response));
      return 0;
    };
  });
}

void add_top(CLI::App* cmd, Context& ctx) {
  auto container = std::make_shared<std::string>();
  cmd->add_option("container", *container, "CONTAINER [ps OPTIONS]")->required();
  // Everything after the container is for ps, in its order.
  cmd->prefix_command();
  cmd->final_callback([=, &ctx] {
    ctx.run = [=, &ctx]() -> Result<int> {
      std::string ps_args;
      for (const auto& arg : cmd->remaining()) ps_args += (ps_args.empty() ? "" : " ") + arg;
      api::Client::Query query;
      if (!ps_args.empty()) query.push_back({"ps_args", ps_args});
      auto response = TRY(call(ctx, "GET", "/containers/" + *container + "/top", query));
      auto doc = TRY(parse_json(response.body));
      std::string table;
      auto line = [&](const Json& cells) {
        std::string out;
        for (const auto& cell : cells) out += (out.empty() ? "" : "\t") + cell.get<std::string>();
        table += out + "\n";
      };
      line(doc["Titles"]);
      for (const auto& p : doc["Processes"]) line(p);
      std::cout << align_tabs(table);
      return 0;
    };
  });
}

void add_port(CLI::App* cmd, Context& ctx) {
  auto name = std::make_shared<std::string>();
  auto port = std::make_shared<std::string>();
  cmd->add_option("container", *name, "CONTAINER")->required();
  cmd->add_option("port", *port, "PRIVATE_PORT[/PROTO]");
  cmd->final_callback([=, &ctx] {
    ctx.run = [=, &ctx]() -> Result<int> {
      auto response = TRY(call(ctx, "GET", "/containers/" + *name + "/json"));
      Json ports = TRY(parse_json(response.body))["NetworkSettings"].value("Ports", Json::object());
      bool found = false;
      for (const auto& [key, bindings] : ports.items()) {
        std::string wanted = port->find('/') == std::string::npos && !port->empty() ? *port + "/tcp" : *port;
        if (!port->empty() && key != wanted) continue;
        if (!bindings.is_array()) continue;
        for (const auto& b : bindings) {
          found = true;
          std::string host = b.value("HostIp", "") + ":" + b.value("HostPort", "");
          std::cout << (port->empty() ? key + " -> " : "") << host << "\n";
        }
      }
      if (!port->empty() && !found) return fail("Error: No public port '" + *port + "' published for " + *name);
      return 0;
    };
  });
}

Json stats_row(const Json& s, bool no_trunc) {
  std::string id = s.value("id", "");
  const Json& cpu = s.value("cpu_stats", Json::object());
  const Json& pre = s.value("precpu_stats", Json::object());
  auto number = [](const Json& j, const char* a, const char* b = nullptr) -> double {
    if (!j.is_object() || !j.contains(a)) return 0;
    const Json& v = b ? j[a].value(b, Json(0)) : j[a];
    return v.is_number() ? v.get<double>() : 0;
  };
  double cpu_delta = number(cpu, "cpu_usage", "total_usage") - number(pre, "cpu_usage", "total_usage");
  double system_delta = number(cpu, "system_cpu_usage") - number(pre, "system_cpu_usage");
  double cpu_percent = system_delta > 0 && cpu_delta > 0 ? cpu_delta / system_delta * number(cpu, "online_cpus") * 100 : 0;
  const Json& mem = s.value("memory_stats", Json::object());
  // Docker counts usage without the page cache it could drop.
  double cache = number(mem, "stats", "total_inactive_file");
  if (cache == 0) cache = number(mem, "stats", "inactive_file");
  double usage = std::max(0.0, number(mem, "usage") - cache), limit = number(mem, "limit");
  char cpu_text[32], mem_percent[32];
  std::snprintf(cpu_text, sizeof cpu_text, "%.2f%%", cpu_percent);
  std::snprintf(mem_percent, sizeof mem_percent, "%.2f%%", limit > 0 ? usage / limit * 100 : 0);
  std::string name = s.value("name", "");
  return {{"ID", no_trunc ? id : id.substr(0, 12)},  {"Container", no_trunc ? id : id.substr(0, 12)},
          {"Name", name.starts_with('/') ? name.substr(1) : name}, {"CPUPerc", cpu_text},
          {"MemUsage", binary_size(usage) + " / " + binary_size(limit)}, {"MemPerc", mem_percent},
          {"NetIO", "0B / 0B"}, {"BlockIO", "0B / 0B"},
          {"PIDs", std::to_string(static_cast<int64_t>(number(s.value("pids_stats", Json::object()), "current")))}};
}

void add_stats(CLI::App* cmd, Context& ctx) {
  struct Options {
    bool all = false, no_stream = false, no_trunc = false;
    std::string format;
    std::vector<std::string> names;
  };
  auto o = std::make_shared<Options>();
  cmd->add_flag("-a,--all", o->all, "Show all containers (default shows just running)");
  cmd->add_flag("--no-stream", o->no_stream, "Disable streaming stats and only pull the first result");
  cmd->add_flag("--no-trunc", o->no_trunc, "Do not truncate output");
  cmd->add_option("--format", o->format, "Format output using a custom template");
  cmd->add_option("containers", o->names, "CONTAINER");
  cmd->final_callback([=, &ctx] {
    ctx.run = [=, &ctx]() -> Result<int> {
      std::string format = o->format.empty() || o->format == "table"
                               ? "table {{.ID}}\t{{.Name}}\t{{.CPUPerc}}\t{{.MemUsage}}\t{{.MemPerc}}\t{{.NetIO}}\t{{.BlockIO}}\t{{.PIDs}}"
                               : o->format;
      Json headers = {{"ID", "CONTAINER ID"}, {"Container", "CONTAINER"}, {"Name", "NAME"}, {"CPUPerc", "CPU %"},
                      {"MemUsage", "MEM USAGE / LIMIT"}, {"MemPerc", "MEM %"}, {"NetIO", "NET I/O"}, {"BlockIO", "BLOCK I/O"},
                      {"PIDs", "PIDS"}};
      for (bool first = true;; first = false) {
        std::vector<std::string> names = o->names;
        if (names.empty()) {
          auto list = TRY(parse_json(TRY(call(ctx, "GET", "/containers/json", {{"all", o->all ? "1" : "0"}})).body));
          for (const auto& c : list) names.push_back(c["Id"].get<std::string>());
        }
        std::vector<std::future<Result<api::ClientResponse>>> samples;
        for (const auto& name : names)
          samples.push_back(std::async(std::launch::async, [&ctx, name] {
            return call(ctx, "GET", "/containers/" + name + "/stats", {{"stream", "0"}});
          }));
        std::vector<Json> rows;
        for (auto& sample : samples) rows.push_back(stats_row(TRY(parse_json(TRY(sample.get()).body)), o->no_trunc));
        if (!o->no_stream) std::cout << "\033[2J\033[H";  // the screen redrawn each second
        TRY(print_rows(std::cout, format, rows, headers));
        std::cout.flush();
        if (o->no_stream) return 0;
        std::this_thread::sleep_for(std::chrono::milliseconds(first ? 500 : 750));
      }
    };
  });
}

void add_container_prune(CLI::App* cmd, Context& ctx) {
  auto force = std::make_shared<bool>(false);
  auto filters = std::make_shared<std::vector<std::string>>();
  cmd->add_flag("-f,--force", *force, "Do not prompt for confirmation");
  cmd->add_option("--filter", *filters, "Provide filter values (e.g. \"until=<timestamp>\")")->allow_extra_args(false);
  cmd->final_callback([=, &ctx] {
    ctx.run = [=, &ctx]() -> Result<int> {
      if (!*force && !confirmed("WARNING! This will remove all stopped containers.")) return 0;
      auto response = TRY(call(ctx, "POST", "/containers/prune", {{"filters", filters_json(*filters).dump()}}));
      auto doc = TRY(parse_json(response.body));
      if (doc["ContainersDeleted"].is_array() && !doc["ContainersDeleted"].empty()) {
        std::cout << "Deleted Containers:\n";
        for (const auto& id : doc["ContainersDeleted"]) std::cout << id.get<std::string>() << "\n";
        std::cout << "\n";
      }
      std::cout << "Total reclaimed space: " << human_size(doc["SpaceReclaimed"].get<int64_t>()) << "\n";
      return 0;
    };
  });
}

}  // namespace

void add_container_commands(CLI::App& app, Context& ctx) {
  auto* container = app.add_subcommand("container", "Manage containers");
  container->require_subcommand(1);
  lazily(app.add_subcommand("ps", "List containers"), [&ctx](CLI::App* s) { add_ps(s, ctx); });
  lazily(container->add_subcommand("ls", "List containers")->alias("list")->alias("ps"), [&ctx](CLI::App* s) { add_ps(s, ctx); });
  for (auto* parent : {&app, container}) {
    lazily(parent->add_subcommand("stop", "Stop one or more running containers"), [&ctx](CLI::App* s) { add_stop(s, ctx, "stop"); });
    lazily(parent->add_subcommand("restart", "Restart one or more containers"), [&ctx](CLI::App* s) { add_stop(s, ctx, "restart"); });
    lazily(parent->add_subcommand("kill", "Kill one or more running containers"), [&ctx](CLI::App* s) { add_kill(s, ctx); });
    lazily(parent->add_subcommand("pause", "Pause all processes within one or more containers"), [&ctx](CLI::App* s) { add_simple(s, ctx, "pause"); });
    lazily(parent->add_subcommand("unpause", "Unpause all processes within one or more containers"), [&ctx](CLI::App* s) { add_simple(s, ctx, "unpause"); });
    lazily(parent->add_subcommand("wait", "Block until one or more containers stop, then print their exit codes"), [&ctx](CLI::App* s) { add_wait(s, ctx); });
    lazily(parent->add_subcommand("rename", "Rename a container"), [&ctx](CLI::App* s) { add_rename(s, ctx); });
    lazily(parent->add_subcommand("update", "Update configuration of one or more containers"), [&ctx](CLI::App* s) { add_update(s, ctx); });
    lazily(parent->add_subcommand("logs", "Fetch the logs of a container"), [&ctx](CLI::App* s) { add_logs(s, ctx); });
    lazily(parent->add_subcommand("top", "Display the running processes of a container"), [&ctx](CLI::App* s) { add_top(s, ctx); });
    lazily(parent->add_subcommand("stats", "Display a live stream of container(s) resource usage statistics"), [&ctx](CLI::App* s) { add_stats(s, ctx); });
    lazily(parent->add_subcommand("port", "List port mappings or a specific mapping for the container"), [&ctx](CLI::App* s) { add_port(s, ctx); });
  }
  lazily(container->add_subcommand("inspect", "Display detailed information on one or more containers"), [&ctx](CLI::App* s) { add_inspect(s, ctx, "container"); });
  lazily(app.add_subcommand("rm", "Remove one or more containers"), [&ctx](CLI::App* s) { add_rm(s, ctx); });
  lazily(container->add_subcommand("rm", "Remove one or more containers")->alias("remove"), [&ctx](CLI::App* s) { add_rm(s, ctx); });
  lazily(container->add_subcommand("prune", "Remove all stopped containers"), [&ctx](CLI::App* s) { add_container_prune(s, ctx); });
  add_run_commands(app, *container, ctx);
  add_file_commands(app, *container, ctx);
}

}  // namespace berth::cli
