// /_ping, /version, /info, /events.
#include <sys/sysinfo.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <thread>

#include "api/routes.h"
#include "base/file.h"
#include "runtime/cgroup.h"

namespace berth::api {

namespace {

constexpr const char* kVersion = "0.1.0";
constexpr const char* kApiVersion = "1.43";
constexpr const char* kMinApiVersion = "1.24";

Json version_json() {
  utsname u{};
  ::uname(&u);
  Json details = {{"ApiVersion", kApiVersion}, {"MinAPIVersion", kMinApiVersion}, {"GitCommit", "berth"}, {"GoVersion", "none (C++)"},
                  {"Os", "linux"}, {"Arch", "amd64"}, {"KernelVersion", u.release}, {"BuildTime", ""}};
  Json out = details;
  out["Platform"] = {{"Name", "berth"}};
  out["Components"] = {{{"Name", "Engine"}, {"Version", kVersion}, {"Details", details}}};
  out["Version"] = kVersion;
  return out;
}

Json info_json(engine::Engine& engine) {
  utsname u{};
  ::uname(&u);
  struct sysinfo si{};
  ::sysinfo(&si);
  char host[256] = {};
  ::gethostname(host, sizeof host - 1);
  size_t images = 0;
  {
    std::lock_guard lock(engine.image_mutex());
    if (auto list = engine.images().list()) images = list->size();
  }
  std::string os = "Linux";
  if (auto release = read_file("/etc/os-release")) {
    auto at = release->find("PRETTY_NAME=\"");
    if (at != std::string::npos) os = release->substr(at + 13, release->find('"', at + 13) - at - 13);
  }
  int running = 0, paused = 0, stopped = 0;
  for (const auto& c : engine.containers().list()) {
    if (c.state.status == "paused") ++paused;
    else if (c.state.running()) ++running;
    else ++stopped;
  }
  return {{"ID", "berth"},
          {"Containers", running + paused + stopped},
          {"ContainersRunning", running},
          {"ContainersPaused", paused},
          {"ContainersStopped", stopped},
          {"Images", images},
          {"Driver", "overlay2"},
          {"DriverStatus", Json::array()},
          {"DockerRootDir", engine.config().data_root},
          {"KernelVersion", u.release},
          {"OperatingSystem", os},
          {"OSType", "linux"},
          {"OSVersion", ""},
          {"Architecture", u.machine},
          {"NCPU", std::thread::hardware_concurrency()},
          {"MemTotal", static_cast<int64_t>(si.totalram) * si.mem_unit},
          {"Name", host},
          {"ServerVersion", kVersion},
          {"CgroupDriver", "cgroupfs"},
          {"CgroupVersion", runtime::cgroup_v2_unified() ? "2" : "1"},
          {"Runtimes", {{"berth-runtime", {{"path", "berth-runtime"}}}}},
          {"DefaultRuntime", "berth-runtime"},
          {"SecurityOptions", {"name=seccomp,profile=builtin"}},
          {"Plugins", {{"Volume", {"local"}}, {"Network", {"bridge", "host", "none"}}, {"Log", {"json-file"}}}},
          {"RegistryConfig", {{"IndexConfigs", Json::object()}, {"InsecureRegistryCIDRs", {"127.0.0.0/8"}}}},
          {"Debug", false},
          {"Labels", Json::array()},
          {"ExperimentalBuild", false},
          {"LiveRestoreEnabled", true},
          {"Warnings", Json::array()}};
}

// GET /events: what happened since `since` and, until `until` (or forever),
// what happens next; `filters` on type, event/action, image.
Result<void> events(Request& request, ResponseWriter& response, engine::Engine& engine) {
  auto filters = TRY(parse_filters(request.query_value("filters")));
  auto seconds_to_nano = [](const std::string& text, int64_t fallback) -> Result<int64_t> {
    if (text.empty()) return fallback;
    try {
      return static_cast<int64_t>(std::stod(text) * 1e9);
    } catch (const std::exception&) {
      return fail("invalid timestamp \"" + text + "\"", EINVAL);
    }
  };
  auto now = std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::system_clock::now().time_since_epoch()).count();
  int64_t after = TRY(seconds_to_nano(request.query_value("since"), now)) - 1;
  int64_t until = TRY(seconds_to_nano(request.query_value("until"), INT64_MAX));
  auto matches = [&](const Json& event) {
    auto allowed = [&](const char* key, const std::string& value) {
      auto it = filters.find(key);
      return it == filters.end() || std::ranges::find(it->second, value) != it->second.end();
    };
    const Json& attrs = event["Actor"]["Attributes"];
    std::string name = attrs.value("name", std::string());
    return allowed("type", event["Type"]) && allowed("event", event["Action"]) &&
           (filters.find("image") == filters.end() || allowed("image", name) || allowed("image", event["Actor"]["ID"]));
  };
  TRY(response.begin_stream(200, "application/json"));
  for (;;) {
    auto wait_ms = until == INT64_MAX ? 1000 : static_cast<int>(std::clamp<int64_t>((until - now) / 1000000, 0, 1000));
    auto [batch, last] = engine.events().wait_after(after, wait_ms);
    for (const auto& event : batch) {
      if (event["timeNano"].get<int64_t>() > until) return response.finish();
      if (matches(event)) TRY(response.write(event.dump() + "\n"));
    }
    after = last;
    now = std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::system_clock::now().time_since_epoch()).count();
    if (now >= until) return response.finish();
  }
}

}  // namespace

void add_system_routes(Router& router, engine::Engine& engine) {
  router.add("GET", "/_ping", [](Request&, ResponseWriter& response) {
    return response.send(200, "text/plain; charset=utf-8", "OK");
  });
  router.add("GET", "/version", [](Request&, ResponseWriter& response) { return response.json(200, version_json()); });
  router.add("GET", "/info", [&engine](Request&, ResponseWriter& response) { return response.json(200, info_json(engine)); });
  router.add("GET", "/system/df", [&engine](Request&, ResponseWriter& response) -> Result<void> {
    Json usage = TRY(disk_usage_images(engine));
    usage["Containers"] = disk_usage_containers(engine);
    usage["Volumes"] = Json::array();
    usage["BuildCache"] = Json::array();
    return response.json(200, usage);
  });
  router.add("GET", "/events", [&engine](Request& request, ResponseWriter& response) { return events(request, response, engine); });
}

Result<std::map<std::string, std::vector<std::string>>> parse_filters(const std::string& text) {
  std::map<std::string, std::vector<std::string>> out;
  if (text.empty()) return out;
  auto doc = parse_json(text);
  if (!doc || !doc->is_object()) return fail("invalid filter: " + text, EINVAL);
  for (const auto& [key, value] : doc->items()) {
    if (value.is_object()) {
      for (const auto& [v, on] : value.items())
        if (on == true) out[key].push_back(v);
    } else if (value.is_array()) {
      for (const auto& v : value)
        if (v.is_string()) out[key].push_back(v.get<std::string>());
    } else {
      return fail("invalid filter: " + text, EINVAL);
    }
  }
  return out;
}

}  // namespace berth::api
