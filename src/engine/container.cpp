#include "engine/container.h"

#include "base/clock.h"

namespace berth::engine {

Json container_to_json(const Container& c) {
  const ContainerState& s = c.state;
  return {{"id", c.id},
          {"name", c.name},
          {"created", c.created},
          {"image_id", c.image_id},
          {"config", c.config},
          {"host_config", c.host_config},
          {"restart_count", c.restart_count},
          {"manually_stopped", c.manually_stopped},
          {"state",
           {{"status", s.status},
            {"pid", s.pid},
            {"exit_code", s.exit_code},
            {"error", s.error},
            {"started_at", s.started_at},
            {"finished_at", s.finished_at},
            {"oom_killed", s.oom_killed}}}};
}

Result<Container> container_from_json(const Json& doc) {
  try {
    Container c;
    c.id = doc.at("id").get<std::string>();
    c.name = doc.at("name").get<std::string>();
    c.created = doc.at("created").get<std::string>();
    c.image_id = doc.at("image_id").get<std::string>();
    c.config = doc.at("config");
    c.host_config = doc.at("host_config");
    c.restart_count = doc.value("restart_count", 0);
    c.manually_stopped = doc.value("manually_stopped", false);
    const Json& s = doc.at("state");
    c.state.status = s.at("status").get<std::string>();
    c.state.pid = s.value("pid", 0);
    c.state.exit_code = s.value("exit_code", 0);
    c.state.error = s.value("error", "");
    c.state.started_at = s.value("started_at", kZeroTime);
    c.state.finished_at = s.value("finished_at", kZeroTime);
    c.state.oom_killed = s.value("oom_killed", false);
    return c;
  } catch (const Json::exception& e) {
    return fail(std::string("bad container record: ") + e.what(), EINVAL);
  }
}

std::string status_text(const ContainerState& s, int64_t now) {
  auto since = [&](const std::string& time) { return human_duration(now - rfc3339_to_unix(time)); };
  if (s.status == "paused") return "Up " + since(s.started_at) + " (Paused)";
  if (s.status == "restarting") return "Restarting (" + std::to_string(s.exit_code) + ") " + since(s.finished_at) + " ago";
  if (s.status == "running") return "Up " + since(s.started_at);
  if (s.status == "removing") return "Removal In Progress";
  if (s.status == "dead") return "Dead";
  if (s.status == "created" || s.finished_at == kZeroTime) return "Created";
  return "Exited (" + std::to_string(s.exit_code) + ") " + since(s.finished_at) + " ago";
}

int start_failure_code(const std::string& message) {
  if (message.find("executable file not found") != std::string::npos || message.find("no such file or directory") != std::string::npos)
    return 127;
  if (message.find("permission denied") != std::string::npos) return 126;
  return 128;
}

std::string command_text(const std::vector<std::string>& args) {
  std::string out;
  for (const auto& a : args) {
    if (!out.empty()) out += ' ';
    out += a.find(' ') == std::string::npos ? a : "'" + a + "'";  // Docker quotes only arguments with spaces
  }
  return out;
}

}  // namespace berth::engine
