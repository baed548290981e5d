// /containers/…: create, list, inspect, start, stop, restart, kill, pause,
// wait, remove, rename, update, prune, attach, logs, resize, top.
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <sstream>
#include <regex>
#include <thread>

#include "api/routes.h"
#include "api/stream_relay.h"
#include "base/clock.h"
#include "base/file.h"
#include "base/subprocess.h"
#include "engine/container_spec.h"
#include "engine/container_stats.h"
#include "image/reference.h"
#include "runtime/container.h"
#include "shim/json_log.h"
#include "shim/protocol.h"

namespace berth::api {

namespace {

using engine::Container;
using engine::Engine;

std::vector<std::string> process_args(const Container& c) {
  return engine::process_args(Json::object(), c.config).value_or(std::vector<std::string>{});
}

// Config as Docker shows it: every field present.
Json full_config(const Json& config) {
  Json out = {{"Hostname", ""},   {"Domainname", ""},     {"User", ""},        {"AttachStdin", false}, {"AttachStdout", false},
              {"AttachStderr", false}, {"Tty", false},    {"OpenStdin", false}, {"StdinOnce", false},  {"Env", nullptr},
              {"Cmd", nullptr},   {"Image", ""},          {"Volumes", nullptr}, {"WorkingDir", ""},   {"Entrypoint", nullptr},
              {"OnBuild", nullptr}, {"Labels", Json::object()}};
  if (config.is_object()) out.update(config);
  return out;
}

Json full_host_config(const Json& host) {
  Json out = {{"Binds", nullptr},        {"ContainerIDFile", ""},   {"LogConfig", {{"Type", "json-file"}, {"Config", Json::object()}}},
              {"NetworkMode", "default"}, {"PortBindings", Json::object()}, {"RestartPolicy", {{"Name", "no"}, {"MaximumRetryCount", 0}}},
              {"AutoRemove", false},     {"VolumeDriver", ""},      {"VolumesFrom", nullptr}, {"CapAdd", nullptr}, {"CapDrop", nullptr},
              {"CgroupnsMode", "private"}, {"Dns", Json::array()},  {"DnsOptions", Json::array()}, {"DnsSearch", Json::array()},
              {"ExtraHosts", nullptr},   {"GroupAdd", nullptr},     {"IpcMode", "private"},  {"Cgroup", ""},      {"Links", nullptr},
              {"OomScoreAdj", 0},        {"PidMode", ""},           {"Privileged", false},  {"PublishAllPorts", false},
              {"ReadonlyRootfs", false}, {"SecurityOpt", nullptr},  {"UTSMode", ""},        {"UsernsMode", ""},   {"ShmSize", 67108864},
              {"Runtime", "berth-runtime"}, {"Isolation", ""},      {"CpuShares", 0},       {"Memory", 0},        {"NanoCpus", 0},
              {"CgroupParent", ""},      {"BlkioWeight", 0},        {"CpuPeriod", 0},       {"CpuQuota", 0},      {"CpusetCpus", ""},
              {"CpusetMems", ""},        {"Devices", Json::array()}, {"MemoryReservation", 0}, {"MemorySwap", 0}, {"PidsLimit", nullptr},
              {"Ulimits", nullptr},      {"Init", nullptr},         {"Tmpfs", nullptr}};
  if (host.is_object())
    for (const auto& [k, v] : host.items())
      if (!v.is_null()) out[k] = v;
  if (out["NetworkMode"] == "") out["NetworkMode"] = "default";
  if (out["RestartPolicy"].is_object() && out["RestartPolicy"].value("Name", "") == "") out["RestartPolicy"]["Name"] = "no";
  return out;
}

std::string network_mode(const Container& c) {
  std::string mode = field(c.host_config, "NetworkMode").is_string() ? c.host_config["NetworkMode"].get<std::string>() : "";
  return mode.empty() ? "default" : mode;
}

Json inspect(const Container& c, Engine& engine) {
  auto& containers = engine.containers();
  auto args = process_args(c);
  auto execs = containers.exec_ids(c.id);
  const auto& s = c.state;
  std::string dir = containers.container_dir(c.id);
  std::string lower;
  {
    std::lock_guard lock(engine.image_mutex());
    if (auto image = engine.images().resolve(c.image_id))
      for (auto it = image->chain_ids.rbegin(); it != image->chain_ids.rend(); ++it)
        if (auto path = engine.images().layer_path(*it)) lower += (lower.empty() ? "" : ":") + *path;
  }
  return {{"Id", c.id},
          {"Created", c.created},
          {"Path", args.empty() ? "" : args[0]},
          {"Args", args.empty() ? Json::array() : Json(std::vector<std::string>(args.begin() + 1, args.end()))},
          {"State",
           {{"Status", s.status},
            {"Running", s.running()},
            {"Paused", s.status == "paused"},
            {"Restarting", s.status == "restarting"},
            {"OOMKilled", s.oom_killed},
            {"Dead", s.status == "dead"},
            {"Pid", s.pid},
            {"ExitCode", s.exit_code},
            {"Error", s.error},
            {"StartedAt", s.started_at},
            {"FinishedAt", s.finished_at}}},
          {"Image", c.image_id},
          {"ResolvConfPath", dir + "/resolv.conf"},
          {"HostnamePath", dir + "/hostname"},
          {"HostsPath", dir + "/hosts"},
          {"LogPath", containers.log_path(c)},
          {"Name", "/" + c.name},
          {"RestartCount", c.restart_count},
          {"Driver", "overlay2"},
          {"Platform", "linux"},
          {"MountLabel", ""},
          {"ProcessLabel", ""},
          {"AppArmorProfile", ""},
          {"ExecIDs", execs.empty() ? Json(nullptr) : Json(execs)},
          {"HostConfig", full_host_config(c.host_config)},
          {"GraphDriver",
           {{"Name", "overlay2"},
            {"Data", {{"LowerDir", lower}, {"MergedDir", dir + "/rootfs"}, {"UpperDir", dir + "/upper"}, {"WorkDir", dir + "/work"}}}}},
          {"Mounts", Json::array()},
          {"Config", full_config(c.config)},
          {"NetworkSettings",
           {{"Bridge", ""},
            {"SandboxID", ""},
            {"HairpinMode", false},
            {"Ports", Json::object()},
            {"SandboxKey", s.pid > 0 ? "/proc/" + std::to_string(s.pid) + "/ns/net" : ""},
            {"Gateway", ""},
            {"IPAddress", ""},
            {"IPPrefixLen", 0},
            {"MacAddress", ""},
            {"Networks", Json::object()}}}};
}

Json summary(const Container& c, int64_t now) {
  Json labels = field(c.config, "Labels").is_object() ? c.config["Labels"] : Json::object();
  return {{"Id", c.id},
          {"Names", {"/" + c.name}},
          {"Image", field(c.config, "Image")},
          {"ImageID", c.image_id},
          {"Command", engine::command_text(process_args(c))},
          {"Created", rfc3339_to_unix(c.created)},
          {"Ports", Json::array()},
          {"Labels", labels},
          {"State", c.state.status},
          {"Status", engine::status_text(c.state, now)},
          {"HostConfig", {{"NetworkMode", network_mode(c)}}},
          {"NetworkSettings", {{"Networks", Json::object()}}},
          {"Mounts", Json::array()}};
}

// SizeRw (the container's own layer) and SizeRootFs (with its image's).
void add_sizes(Json& row, const Container& c, Engine& engine) {
  auto usage = run_command({"du", {"du", "-sb", engine.containers().container_dir(c.id) + "/upper"}, {}, "", true});
  row["SizeRw"] = usage && usage->status == 0 ? std::atoll(usage->output.c_str()) : 0;
  row["SizeRootFs"] = row["SizeRw"];
  std::lock_guard lock(engine.image_mutex());
  if (auto image = engine.images().resolve(c.image_id)) row["SizeRootFs"] = image->size + row["SizeRw"].get<int64_t>();
}

// ps's --filter: status, name, id, label, ancestor, exited, before, since.
Result<std::function<bool(const Container&)>> container_filter(const std::string& text, Engine& engine) {
  auto filters = TRY(parse_filters(text));
  std::vector<std::function<bool(const Container&)>> checks;
  auto any_of = [](std::vector<std::function<bool(const Container&)>> alternatives) {
    return [alternatives](const Container& c) { return std::ranges::any_of(alternatives, [&](const auto& f) { return f(c); }); };
  };
  for (const auto& [key, values] : filters) {
    std::vector<std::function<bool(const Container&)>> alternatives;
    for (const auto& value : values) {
      if (key == "status") {
        static const std::vector<std::string> kStates = {"created", "restarting", "running", "removing", "paused", "exited", "dead"};
        if (std::ranges::find(kStates, value) == kStates.end())
          return fail("invalid filter 'status=" + value + "'", EINVAL);
        alternatives.push_back([value](const Container& c) { return c.state.status == value; });
      } else if (key == "name") {
        std::regex pattern;
        try {
          pattern = std::regex(value);
        } catch (const std::regex_error&) {
          return fail("invalid filter 'name=" + value + "'", EINVAL);
        }
        alternatives.push_back([pattern](const Container& c) { return std::regex_search("/" + c.name, pattern); });
      } else if (key == "id") {
        alternatives.push_back([value](const Container& c) { return c.id.starts_with(value); });
      } else if (key == "label") {
        auto eq = value.find('=');
        std::string k = value.substr(0, eq);
        std::optional<std::string> v;
        if (eq != std::string::npos) v = value.substr(eq + 1);
        alternatives.push_back([k, v](const Container& c) {
          Json labels = field(c.config, "Labels");
          if (!labels.is_object() || !labels.contains(k)) return false;
          return !v || labels[k] == *v;
        });
      } else if (key == "ancestor") {
        std::string id;
        {
          std::lock_guard lock(engine.image_mutex());
          if (auto image = engine.images().resolve(value)) id = image->id;
        }
        alternatives.push_back([id, value](const Container& c) { return c.image_id == id || field(c.config, "Image") == value; });
      } else if (key == "exited") {
        int code = 0;
        try {
          code = std::stoi(value);
        } catch (const std::exception&) {
          return fail("invalid filter 'exited=" + value + "'", EINVAL);
        }
        alternatives.push_back([code](const Container& c) { return c.state.status == "exited" && c.state.exit_code == code; });
      } else if (key == "before" || key == "since") {
        auto other = TRY(engine.containers().get(value));
        std::string created = other.created;
        bool before = key == "before";
        alternatives.push_back([created, before](const Container& c) { return before ? c.created < created : c.created > created; });
      } else {
        return fail("invalid filter '" + key + "'", EINVAL);
      }
    }
    checks.push_back(any_of(std::move(alternatives)));
  }
  return std::function<bool(const Container&)>([checks](const Container& c) {
    return std::ranges::all_of(checks, [&](const auto& f) { return f(c); });
  });
}

Result<void> list(Request& request, ResponseWriter& response, Engine& engine) {
  bool all = request.query_flag("all");
  int limit = -1;
  if (auto text = request.query_value("limit"); !text.empty()) {
    try {
      limit = std::stoi(text);
    } catch (const std::exception&) {
      return fail("invalid limit \"" + text + "\"", EINVAL);
    }
  }
  auto filter = TRY(container_filter(request.query_value("filters"), engine));
  auto containers = engine.containers().list();
  std::ranges::sort(containers, [](const Container& a, const Container& b) { return a.created > b.created; });
  int64_t now = static_cast<int64_t>(::time(nullptr));
  bool by_status = request.query_value("filters").find("status") != std::string::npos;
  Json out = Json::array();
  for (const auto& c : containers) {
    if (limit > 0 && static_cast<int>(out.size()) >= limit) break;
    if (!all && limit <= 0 && !by_status && !c.state.running()) continue;
    if (!filter(c)) continue;
    Json row = summary(c, now);
    if (request.query_flag("size")) add_sizes(row, c, engine);
    out.push_back(std::move(row));
  }
  return response.json(200, out);
}

Result<void> create(Request& request, ResponseWriter& response, Engine& engine) {
  Json config = TRY(read_json_body(request));
  Json host_config = config.contains("HostConfig") ? config["HostConfig"] : Json::object();
  config.erase("HostConfig");
  config.erase("NetworkingConfig");
  auto created = TRY(engine.containers().create(request.query_value("name"), config, host_config));
  return response.json(201, {{"Id", created.id}, {"Warnings", created.warnings}});
}

std::optional<int> optional_int(const Request& request, const char* key) {
  std::string text = request.query_value(key);
  if (text.empty()) return std::nullopt;
  try {
    return std::stoi(text);
  } catch (const std::exception&) {
    return std::nullopt;
  }
}

Result<void> no_content(ResponseWriter& response) { return response.send(204, "text/plain", ""); }

// Docker's frames for a container without a tty; raw bytes with one.
std::string output_chunk(const shim::LogEntry& entry, bool tty, bool timestamps) {
  std::string text = timestamps ? entry.time + " " + entry.text : entry.text;
  if (tty) return text;
  return shim::frame_header(entry.stream == "stderr" ? shim::kStderr : shim::kStdout, text.size()) + text;
}

// A time as the logs API takes it: Unix seconds with an optional fraction,
// or RFC 3339.
Result<std::optional<int64_t>> log_time(const std::string& text) {
  if (text.empty() || text == "0") return std::optional<int64_t>();
  if (auto nano = shim::parse_rfc3339_nano(text)) return std::optional<int64_t>(*nano);
  try {
    size_t used = 0;
    double seconds = std::stod(text, &used);
    if (used == text.size()) return std::optional<int64_t>(static_cast<int64_t>(seconds * 1e9));
  } catch (const std::exception&) {
  }
  return fail("invalid time \"" + text + "\"", EINVAL);
}

Result<void> logs(Request& request, ResponseWriter& response, Engine& engine) {
  auto c = TRY(engine.containers().get(request.params["name"]));
  bool want_stdout = request.query_flag("stdout"), want_stderr = request.query_flag("stderr");
  if (!want_stdout && !want_stderr) return fail("Bad parameters: you must choose at least one stream", EINVAL);
  bool tty = field(c.config, "Tty") == true;
  bool timestamps = request.query_flag("timestamps");
  shim::LogQuery query;
  std::string tail = request.query_value("tail", "all");
  if (tail != "all" && !tail.empty()) {
    try {
      query.tail = static_cast<size_t>(std::max(0, std::stoi(tail)));
    } catch (const std::exception&) {
      return fail("invalid tail \"" + tail + "\"", EINVAL);
    }
  }
  query.since_nano = TRY(log_time(request.query_value("since")));
  query.until_nano = TRY(log_time(request.query_value("until")));
  std::string path = engine.containers().log_path(c);
  int max_files = 1;
  if (Json config = field(field(c.host_config, "LogConfig"), "Config"); field(config, "max-file").is_string())
    max_files = std::atoi(config["max-file"].get<std::string>().c_str());
  bool follow = request.query_flag("follow") && !query.until_nano;
  std::optional<shim::JsonLogFollower> follower;
  if (follow) follower = TRY(shim::JsonLogFollower::open(path));
  auto entries = TRY(shim::read_json_log(path, max_files, query));
  TRY(response.begin_stream(200, tty ? "application/vnd.docker.raw-stream" : "application/vnd.docker.multiplexed-stream"));
  int64_t last = 0;
  auto send = [&](const std::vector<shim::LogEntry>& batch) -> Result<void> {
    std::string out;
    for (const auto& entry : batch) {
      if (entry.time_nano <= last && follower) continue;
      last = std::max(last, entry.time_nano);
      if ((entry.stream == "stderr" ? want_stderr : want_stdout)) out += output_chunk(entry, tty, timestamps);
    }
    return response.write(out);
  };
  TRY(send(entries));
  if (query.tail && *query.tail == 0) last = std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::system_clock::now().time_since_epoch()).count();
  while (follow) {
    auto current = engine.containers().get(c.id);
    bool running = current && current->state.running();
    TRY(send(TRY(follower->poll())));
    if (!running) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return response.finish();
}

Result<void> attach(Request& request, ResponseWriter& response, Engine& engine) {
  auto c = TRY(engine.containers().get(request.params["name"]));
  bool tty = field(c.config, "Tty") == true;
  RelayOptions options{request.query_flag("stdin"), field(c.config, "StdinOnce") == true, tty, ""};
  std::string keys = request.query_value("detachKeys", "ctrl-p,ctrl-q");
  options.detach_keys = TRY(parse_detach_keys(keys));
  bool want_stdout = request.query_flag("stdout"), want_stderr = request.query_flag("stderr");
  auto hijacked = TRY(response.hijack(tty ? "application/vnd.docker.raw-stream" : "application/vnd.docker.multiplexed-stream"));
  int client = hijacked.fd;
  // The client hanging up while we wait for the start.
  auto gone = [client] {
    pollfd p{client, POLLRDHUP, 0};
    return ::poll(&p, 1, 0) > 0 && (p.revents & (POLLHUP | POLLERR)) != 0;
  };
  auto shim_fd = engine.containers().attach(c.id, want_stdout, want_stderr, gone);
  if (!shim_fd) return {};  // the stream already began: the client just sees it end
  engine.events().publish("container", "attach", c.id, {{"name", c.name}});
  relay_streams(client, hijacked.pending, shim_fd->get(), options);
  ::shutdown(client, SHUT_WR);
  return {};
}

Result<void> resize(Request& request, ResponseWriter& response, Engine& engine) {
  auto c = TRY(engine.containers().get(request.params["name"]));
  auto h = optional_int(request, "h"), w = optional_int(request, "w");
  if (!h || !w || *h < 0 || *w < 0) return fail("invalid resize: h and w are required", EINVAL);
  if (!c.state.running()) return fail("Container " + c.id + " is not running", EBUSY);
  UniqueFd fd(TRY(shim::connect_shim(engine.containers().state_dir(c.id))));
  TRY(shim::write_frame(fd.get(), shim::kResize, std::to_string(*h) + " " + std::to_string(*w)));
  return response.send(200, "text/plain", "");
}

// GET /containers/{name}/top: ps run on the host, cut to the container's processes.
Result<void> top(Request& request, ResponseWriter& response, Engine& engine) {
  auto c = TRY(engine.containers().get(request.params["name"]));
  if (!c.state.running()) return fail("Container " + c.id + " is not running", EBUSY);
  auto pids = TRY(runtime::Runtime(engine.containers().runtime_root()).processes(c.id));
  std::string args = request.query_value("ps_args", "-ef");
  std::vector<std::string> argv = {"ps"};
  std::istringstream words(args);
  for (std::string w; words >> w;) argv.push_back(w);
  // As Docker: ps is asked for the container's processes (-q), and asked
  // again without that when the arguments do not go with it (such as f).
  std::string pid_list;
  for (pid_t pid : pids) pid_list += (pid_list.empty() ? "" : ",") + std::to_string(pid);
  auto with_pids = argv;
  with_pids.insert(with_pids.end(), {"-q", pid_list});
  auto ps = TRY(run_command({"ps", pid_list.empty() ? argv : with_pids, {}, "", true}));
  if (ps.status != 0) ps = TRY(run_command({"ps", argv, {}, "", true}));
  if (ps.status != 0) return fail("ps: failed with status " + std::to_string(ps.status), EINVAL);
  std::istringstream lines(ps.output);
  std::string header;
  std::getline(lines, header);
  std::vector<std::string> titles;
  std::istringstream header_words(header);
  for (std::string w; header_words >> w;) titles.push_back(w);
  auto pid_column = std::ranges::find(titles, "PID");
  if (pid_column == titles.end()) return fail("Couldn't find PID field in ps output", EINVAL);
  size_t pid_index = static_cast<size_t>(pid_column - titles.begin());
  Json processes = Json::array();
  for (std::string line; std::getline(lines, line);) {
    std::vector<std::string> cells;
    std::istringstream cell_words(line);
    std::string w;
    while (cells.size() + 1 < titles.size() && cell_words >> w) cells.push_back(w);
    std::string rest;
    std::getline(cell_words >> std::ws, rest);
    cells.push_back(rest);
    if (cells.size() <= pid_index) continue;
    pid_t pid = static_cast<pid_t>(std::atol(cells[pid_index].c_str()));
    if (std::ranges::find(pids, pid) != pids.end()) processes.push_back(cells);
  }
  return response.json(200, {{"Titles", titles}, {"Processes", processes}});
}

// GET /containers/{name}/stats: samples of the container's cgroup, each with
// the one before as precpu_stats (CPU % is their difference); one unless streamed.
Result<void> stats(Request& request, ResponseWriter& response, Engine& engine) {
  auto c = TRY(engine.containers().get(request.params["name"]));
  bool stream = request.query_value("stream", "1") != "0" && request.query_value("stream") != "false";
  bool one_shot = request.query_flag("one-shot");
  auto sample = [&]() {
    Json s = engine::cgroup_stats("/berth/" + c.id);
    s["name"] = "/" + c.name;
    s["id"] = c.id;
    return s;
  };
  auto running = [&] {
    auto now = engine.containers().get(c.id);
    return now && now->state.running();
  };
  Json previous = running() ? sample() : Json();
  if (!stream) {
    Json out = previous.is_null() ? Json{{"read", rfc3339_now()}, {"name", "/" + c.name}, {"id", c.id}} : previous;
    if (!one_shot && !previous.is_null()) {
      std::this_thread::sleep_for(std::chrono::milliseconds(250));
      out = sample();
      out["precpu_stats"] = previous["cpu_stats"];
      out["preread"] = previous["read"];
    }
    return response.json(200, out);
  }
  TRY(response.begin_stream(200, "application/json"));
  while (!previous.is_null() && running()) {
    std::this_thread::sleep_for(std::chrono::seconds(1));
    Json current = sample();
    current["precpu_stats"] = previous["cpu_stats"];
    current["preread"] = previous["read"];
    TRY(response.write(current.dump() + "\n"));
    previous = std::move(current);
  }
  return response.finish();
}

}  // namespace

Json disk_usage_containers(Engine& engine) {
  Json out = Json::array();
  int64_t now = static_cast<int64_t>(::time(nullptr));
  for (const auto& c : engine.containers().list()) {
    Json row = summary(c, now);
    add_sizes(row, c, engine);
    out.push_back(std::move(row));
  }
  return out;
}

void add_container_routes(Router& router, Engine& engine) {
  auto& containers = engine.containers();
  router.add("POST", "/containers/create", [&engine](Request& rq, ResponseWriter& rs) { return create(rq, rs, engine); });
  router.add("GET", "/containers/json", [&engine](Request& rq, ResponseWriter& rs) { return list(rq, rs, engine); });
  router.add("GET", "/containers/{name}/json", [&engine](Request& rq, ResponseWriter& rs) -> Result<void> {
    auto c = TRY(engine.containers().get(rq.params["name"]));
    return rs.json(200, inspect(c, engine));
  });
  router.add("POST", "/containers/{name}/start", [&containers](Request& rq, ResponseWriter& rs) -> Result<void> {
    auto started = containers.start(rq.params["name"]);
    if (!started && started.error().code() == EALREADY) return rs.send(304, "text/plain", "");
    TRY(started);
    return no_content(rs);
  });
  router.add("POST", "/containers/{name}/stop", [&containers](Request& rq, ResponseWriter& rs) -> Result<void> {
    bool stopped = TRY(containers.stop(rq.params["name"], optional_int(rq, "t"), rq.query_value("signal")));
    return stopped ? no_content(rs) : rs.send(304, "text/plain", "");
  });
  router.add("POST", "/containers/{name}/restart", [&containers](Request& rq, ResponseWriter& rs) -> Result<void> {
    TRY(containers.restart(rq.params["name"], optional_int(rq, "t")));
    return no_content(rs);
  });
  router.add("POST", "/containers/{name}/kill", [&containers](Request& rq, ResponseWriter& rs) -> Result<void> {
    TRY(containers.kill(rq.params["name"], rq.query_value("signal")));
    return no_content(rs);
  });
  router.add("POST", "/containers/{name}/pause", [&containers](Request& rq, ResponseWriter& rs) -> Result<void> {
    TRY(containers.pause(rq.params["name"]));
    return no_content(rs);
  });
  router.add("POST", "/containers/{name}/unpause", [&containers](Request& rq, ResponseWriter& rs) -> Result<void> {
    TRY(containers.unpause(rq.params["name"]));
    return no_content(rs);
  });
  router.add("POST", "/containers/{name}/wait", [&containers](Request& rq, ResponseWriter& rs) -> Result<void> {
    std::string condition = rq.query_value("condition");
    if (!condition.empty() && condition != "not-running" && condition != "next-exit" && condition != "removed")
      return fail("invalid condition: \"" + condition + "\"", EINVAL);
    auto c = TRY(containers.get(rq.params["name"]));
    // The status line goes out at once: docker sends the start only after it.
    TRY(rs.begin_stream(200, "application/json"));
    auto code = containers.wait(c.id, condition);
    Json body = {{"StatusCode", code ? *code : -1}, {"Error", code ? Json(nullptr) : Json{{"Message", code.error().message()}}}};
    TRY(rs.write(body.dump() + "\n"));
    return rs.finish();
  });
  router.add("DELETE", "/containers/{name}", [&containers](Request& rq, ResponseWriter& rs) -> Result<void> {
    if (rq.query_flag("link")) return fail("links are not supported", EINVAL);
    TRY(containers.remove(rq.params["name"], rq.query_flag("force")));
    return no_content(rs);
  });
  router.add("POST", "/containers/{name}/rename", [&containers](Request& rq, ResponseWriter& rs) -> Result<void> {
    TRY(containers.rename(rq.params["name"], rq.query_value("name")));
    return no_content(rs);
  });
  router.add("POST", "/containers/{name}/update", [&containers](Request& rq, ResponseWriter& rs) -> Result<void> {
    TRY(containers.update(rq.params["name"], TRY(read_json_body(rq))));
    return rs.json(200, {{"Warnings", Json::array()}});
  });
  router.add("POST", "/containers/prune", [&engine](Request& rq, ResponseWriter& rs) -> Result<void> {
    auto filters = TRY(parse_filters(rq.query_value("filters")));
    for (const auto& [key, values] : filters)
      if (key != "label" && key != "until") return fail("invalid filter '" + key + "'", EINVAL);
    std::string label_filter;
    if (filters.contains("label")) label_filter = "{\"label\":" + Json(filters["label"]).dump() + "}";
    auto matches = TRY(container_filter(label_filter, engine));
    std::optional<int64_t> until;
    if (filters.contains("until")) until = rfc3339_to_unix(filters["until"].front());
    auto removed = TRY(engine.containers().prune([&](const Container& c) {
      return matches(c) && (!until || rfc3339_to_unix(c.created) < *until);
    }));
    return rs.json(200, {{"ContainersDeleted", removed}, {"SpaceReclaimed", 0}});
  });
  router.add("GET", "/containers/{name}/logs", [&engine](Request& rq, ResponseWriter& rs) { return logs(rq, rs, engine); });
  router.add("POST", "/containers/{name}/attach", [&engine](Request& rq, ResponseWriter& rs) { return attach(rq, rs, engine); });
  router.add("POST", "/containers/{name}/resize", [&engine](Request& rq, ResponseWriter& rs) { return resize(rq, rs, engine); });
  router.add("GET", "/containers/{name}/stats", [&engine](Request& rq, ResponseWriter& rs) { return stats(rq, rs, engine); });
  router.add("GET", "/containers/{name}/top", [&engine](Request& rq, ResponseWriter& rs) { return top(rq, rs, engine); });
}

}  // namespace berth::api
