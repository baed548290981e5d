#include "image/image_config.h"

#include <algorithm>
#include <cctype>

namespace berth::image {

namespace {

std::string_view trim(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
  return s;
}

// Splits on whitespace, honouring double quotes (ENV A="b c").
std::vector<std::string> words(std::string_view s) {
  std::vector<std::string> out;
  std::string current;
  bool quoted = false, any = false;
  for (size_t i = 0; i < s.size(); ++i) {
    char c = s[i];
    if (c == '\\' && i + 1 < s.size()) {
      current += s[++i];
      any = true;
    } else if (c == '"') {
      quoted = !quoted;
      any = true;
    } else if (std::isspace(static_cast<unsigned char>(c)) && !quoted) {
      if (any) out.push_back(current);
      current.clear();
      any = false;
    } else {
      current += c;
      any = true;
    }
  }
  if (any) out.push_back(current);
  return out;
}

// CMD/ENTRYPOINT: the JSON (exec) form, or the shell form run by /bin/sh -c.
Json command_form(std::string_view args) {
  if (args.starts_with('[')) {
    Json parsed = Json::parse(args, nullptr, false);
    if (parsed.is_array() && std::ranges::all_of(parsed, [](const Json& j) { return j.is_string(); })) return parsed;
  }
  return Json::array({"/bin/sh", "-c", std::string(args)});
}

// KEY=VALUE pairs, or the legacy "KEY VALUE" form.
Result<std::vector<std::pair<std::string, std::string>>> key_values(const std::string& instruction, std::string_view args) {
  std::vector<std::pair<std::string, std::string>> pairs;
  auto parts = words(args);
  if (parts.empty()) return fail(instruction + " requires at least one argument");
  if (parts[0].find('=') == std::string::npos) {
    auto space = args.find_first_of(" \t");
    if (space == std::string_view::npos) return fail(instruction + " must have two arguments");
    pairs.emplace_back(std::string(trim(args.substr(0, space))), std::string(trim(args.substr(space))));
    return pairs;
  }
  for (const auto& part : parts) {
    auto eq = part.find('=');
    if (eq == std::string::npos || eq == 0) return fail("Syntax error - can't find = in \"" + part + "\". Must be of the form: name=value");
    pairs.emplace_back(part.substr(0, eq), part.substr(eq + 1));
  }
  return pairs;
}

}  // namespace

Json import_config(const std::string& diff_id, const std::string& created, const std::string& comment) {
  return {{"architecture", "amd64"},
          {"os", "linux"},
          {"created", created},
          {"comment", comment},
          {"config", Json::object()},
          {"rootfs", {{"type", "layers"}, {"diff_ids", {diff_id}}}},
          {"history", {{{"created", created}, {"comment", comment}}}}};
}

Result<void> apply_change(Json& config, std::string_view change) {
  change = trim(change);
  auto space = change.find_first_of(" \t");
  std::string instruction(change.substr(0, space));
  std::ranges::transform(instruction, instruction.begin(), [](unsigned char c) { return std::toupper(c); });
  std::string_view args = space == std::string_view::npos ? std::string_view() : trim(change.substr(space));
  Json& c = config["config"];
  if (instruction == "CMD") {
    c["Cmd"] = command_form(args);
  } else if (instruction == "ENTRYPOINT") {
    c["Entrypoint"] = command_form(args);
  } else if (instruction == "ENV") {
    for (const auto& [key, value] : TRY(key_values("ENV", args))) {
      Json& env = c["Env"];
      if (!env.is_array()) env = Json::array();
      std::erase_if(env.get_ref<Json::array_t&>(), [&](const Json& e) { return e.get<std::string>().starts_with(key + "="); });
      env.push_back(key + "=" + value);
    }
  } else if (instruction == "LABEL") {
    for (const auto& [key, value] : TRY(key_values("LABEL", args))) c["Labels"][key] = value;
  } else if (instruction == "EXPOSE") {
    if (words(args).empty()) return fail("EXPOSE requires at least one argument");
    for (auto port : words(args)) {
      if (port.find('/') == std::string::npos) port += "/tcp";
      c["ExposedPorts"][port] = Json::object();
    }
  } else if (instruction == "VOLUME") {
    Json paths = args.starts_with('[') ? Json::parse(args, nullptr, false) : Json(words(args));
    if (!paths.is_array() || paths.empty() || !std::ranges::all_of(paths, [](const Json& p) { return p.is_string(); }))
      return fail("VOLUME requires at least one argument");
    for (const auto& path : paths) c["Volumes"][path.get<std::string>()] = Json::object();
  } else if (instruction == "USER" || instruction == "WORKDIR" || instruction == "STOPSIGNAL") {
    if (args.empty()) return fail(instruction + " requires exactly one argument");
    c[instruction == "USER" ? "User" : instruction == "WORKDIR" ? "WorkingDir" : "StopSignal"] = std::string(args);
  } else if (instruction == "ONBUILD") {
    if (args.empty()) return fail("ONBUILD requires at least one argument");
    c["OnBuild"].push_back(std::string(args));
  } else {
    return fail(instruction.empty() ? "empty change" : instruction + " is not a valid change command");
  }
  return {};
}

}  // namespace berth::image
