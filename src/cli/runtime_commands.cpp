#include "cli/runtime_commands.h"

#include <signal.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <cstdio>
#include <iostream>

#include "base/file.h"
#include "base/subprocess.h"
#include "cli/create_options.h"
#include "runtime/container.h"
#include "runtime/signals.h"

namespace berth::cli {

namespace {

constexpr const char* kVersion = "0.1.0";

struct GlobalOptions {
  std::string root;
  std::string log_path;
  std::string log_format = "text";
  bool debug = false;
  bool systemd_cgroup = false;
  std::string rootless = "auto";
};

// Errors go to stderr and, with --log, to the log file: engines such as
// podman (through conmon) read the reason for a failure from there.
void report_error(const GlobalOptions& global, const std::string& message) {
  std::cerr << "berth-runtime: " << message << "\n";
  if (global.log_path.empty()) return;
  std::string line;
  if (global.log_format == "json")
    line = Json{{"level", "error"}, {"msg", message}, {"time", rfc3339_now()}}.dump() + "\n";
  else
    line = rfc3339_now() + " error: " + message + "\n";
  if (auto fd = open_file(global.log_path, O_WRONLY | O_APPEND | O_CREAT, 0644)) (void)write_all(fd->get(), line);
}

std::string default_root() {
  if (::geteuid() == 0) return "/run/berth-runtime";
  const char* xdg = std::getenv("XDG_RUNTIME_DIR");
  return std::string(xdg && *xdg ? xdg : "/tmp") + "/berth-runtime";
}

void add_create_flags(CLI::App* cmd, runtime::CreateOptions& options) {
  cmd->add_option("-b,--bundle", options.bundle, "path to the root of the bundle directory");
  cmd->add_option("--console-socket", options.console_socket, "unix socket that receives the pty master of the console");
  cmd->add_option("--pid-file", options.pid_file, "file to write the process id to");
  cmd->add_flag("--no-pivot", options.no_pivot, "do not use pivot_root to jail the process inside the rootfs");
  cmd->add_flag("--no-new-keyring", options.no_new_keyring, "do not create a new session keyring for the container");
  cmd->add_option("--preserve-fds", options.preserve_fds, "pass N additional file descriptors to the container")->check(CLI::NonNegativeNumber);
}

Result<void> print_table(const std::vector<std::vector<std::string>>& rows) {
  std::vector<size_t> widths;
  for (const auto& row : rows)
    for (size_t i = 0; i < row.size(); ++i) {
      if (widths.size() <= i) widths.push_back(0);
      widths[i] = std::max(widths[i], row[i].size());
    }
  for (const auto& row : rows) {
    std::string line;
    for (size_t i = 0; i < row.size(); ++i) {
      line += row[i];
      if (i + 1 < row.size()) line += std::string(widths[i] - row[i].size() + 3, ' ');
    }
    std::cout << line << "\n";
  }
  return {};
}

Result<void> list_containers(runtime::Runtime& rt, const std::string& format, bool quiet) {
  auto containers = TRY(rt.list());
  if (quiet) {
    for (const auto& c : containers) std::cout << c.record.id << "\n";
    return {};
  }
  if (format == "json") {
    Json out = Json::array();
    for (const auto& c : containers) out.push_back(runtime::state_json(c));
    std::cout << out.dump() << "\n";
    return {};
  }
  if (format != "table") return fail("invalid format option \"" + format + "\": use table or json");
  std::vector<std::vector<std::string>> rows = {{"ID", "PID", "STATUS", "BUNDLE", "CREATED", "OWNER"}};
  for (const auto& c : containers) {
    std::string pid = c.status == runtime::Status::kStopped ? "0" : std::to_string(c.record.pid);
    rows.push_back({c.record.id, pid, runtime::status_text(c.status), c.record.bundle, c.record.created,
                    std::to_string(c.record.owner) == "0" ? "root" : std::to_string(c.record.owner)});
  }
  return print_table(rows);
}

// `ps`: the container's processes, through ps(1) for the table as runc does.
Result<void> show_processes(runtime::Runtime& rt, const std::string& id, const std::string& format,
                            const std::vector<std::string>& ps_args) {
  auto pids = TRY(rt.processes(id));
  if (format == "json") {
    std::cout << Json(pids).dump() << "\n";
    return {};
  }
  if (format != "table") return fail("invalid format option \"" + format + "\": use table or json");
  Command ps;
  ps.path = "ps";
  ps.args = {"ps"};
  if (ps_args.empty())
    ps.args.push_back("-ef");
  else
    ps.args.insert(ps.args.end(), ps_args.begin(), ps_args.end());
  ps.capture_stdout = true;
  auto result = TRY_CTX(run_command(ps), "ps");
  if (result.status != 0) return fail("ps " + (ps_args.empty() ? std::string("-ef") : ps_args.front()) + ": exit status " + std::to_string(result.status));
  std::istringstream lines(result.output);
  std::string header;
  std::getline(lines, header);
  // Find the PID column from the header, then keep the container's rows.
  std::istringstream header_fields(header);
  std::string field;
  int pid_column = -1;
  for (int i = 0; header_fields >> field; ++i)
    if (field == "PID") pid_column = i;
  if (pid_column < 0) return fail("ps output has no PID column");
  std::cout << header << "\n";
  std::string line;
  while (std::getline(lines, line)) {
    std::istringstream fields(line);
    for (int i = 0; fields >> field; ++i) {
      if (i != pid_column) continue;
      if (std::ranges::find(pids, std::atoi(field.c_str())) != pids.end()) std::cout << line << "\n";
      break;
    }
  }
  return {};
}

Result<runtime::ExecOptions> exec_options(runtime::Runtime& rt, const std::string& id, const std::string& process_file,
                                          const std::vector<std::string>& args, const std::string& cwd,
                                          const std::vector<std::string>& env, bool tty, const std::string& user,
                                          const std::vector<uint32_t>& additional_gids, const std::vector<std::string>& caps,
                                          bool no_new_privs, const std::string& apparmor, const std::string& label) {
  runtime::ExecOptions options;
  if (!process_file.empty()) {
    auto text = TRY(read_file(process_file));
    options.process = TRY_CTX(oci::parse_process(text), process_file);
    return options;
  }
  if (args.empty()) return fail("exec: a command to run is required (or --process FILE)");
  // As runc: the container's own process is the base, the flags override it.
  auto spec = TRY(rt.spec_of(id));
  options.process = *spec.process;
  auto& p = options.process;
  p.args = args;
  p.terminal = tty;
  p.console_size.reset();
  if (!cwd.empty()) p.cwd = cwd;
  for (const auto& e : env) {
    auto key = e.substr(0, e.find('='));
    std::erase_if(p.env, [&](const std::string& old) { return old.substr(0, old.find('=')) == key; });
    p.env.push_back(e);
  }
  if (!user.empty()) {
    auto colon = user.find(':');
    try {
      p.user.uid = static_cast<uint32_t>(std::stoul(user.substr(0, colon)));
      if (colon != std::string::npos) p.user.gid = static_cast<uint32_t>(std::stoul(user.substr(colon + 1)));
    } catch (const std::exception&) {
      return fail("--user \"" + user + "\": must be UID[:GID]");
    }
  }
  if (!additional_gids.empty()) p.user.additional_gids = additional_gids;
  if (!caps.empty()) {
    if (!p.capabilities) p.capabilities.emplace();
    for (auto* set : {&p.capabilities->bounding, &p.capabilities->effective, &p.capabilities->permitted, &p.capabilities->ambient})
      set->insert(set->end(), caps.begin(), caps.end());
  }
  if (no_new_privs) p.no_new_privileges = true;
  if (!apparmor.empty()) p.apparmor_profile = apparmor;
  if (!label.empty()) p.selinux_label = label;
  return options;
}

// runc's update flags; the memory sizes take units as Docker's do.
struct UpdateFlags {
  std::string resources_file, memory, memory_reservation, memory_swap, cpuset_cpus, cpuset_mems;
  std::optional<uint64_t> cpu_shares, cpu_period;
  std::optional<int64_t> cpu_quota, pids_limit;
  std::optional<uint16_t> blkio_weight;
};

void add_update_flags(CLI::App* cmd, UpdateFlags& f) {
  cmd->add_option("-r,--resources", f.resources_file, "linux.resources JSON to apply (- for stdin)");
  cmd->add_option("--memory", f.memory, "memory limit");
  cmd->add_option("--memory-reservation", f.memory_reservation, "memory soft limit");
  cmd->add_option("--memory-swap", f.memory_swap, "memory plus swap limit (-1 for unlimited)");
  cmd->add_option("--cpu-shares", f.cpu_shares, "relative CPU weight");
  cmd->add_option("--cpu-period", f.cpu_period, "CFS period in microseconds");
  cmd->add_option("--cpu-quota", f.cpu_quota, "CFS quota in microseconds");
  cmd->add_option("--cpuset-cpus", f.cpuset_cpus, "CPUs allowed (0-3, 0,1)");
  cmd->add_option("--cpuset-mems", f.cpuset_mems, "memory nodes allowed");
  cmd->add_option("--pids-limit", f.pids_limit, "maximum number of processes (0 or -1 for unlimited)");
  cmd->add_option("--blkio-weight", f.blkio_weight, "block IO weight (10-1000)");
}

// The linux.resources patch the flags (or the --resources file) describe.
Result<Json> update_patch(const UpdateFlags& f) {
  if (!f.resources_file.empty()) {
    auto text = f.resources_file == "-" ? read_fd(STDIN_FILENO) : read_file(f.resources_file);
    if (!text) return fail("--resources: " + text.error().message());
    return parse_json(*text);
  }
  Json patch = Json::object();
  auto bytes = [](const std::string& text) -> Result<int64_t> { return text == "-1" ? -1 : parse_memory(text); };
  if (!f.memory.empty()) patch["memory"]["limit"] = TRY(bytes(f.memory));
  if (!f.memory_reservation.empty()) patch["memory"]["reservation"] = TRY(bytes(f.memory_reservation));
  if (!f.memory_swap.empty()) patch["memory"]["swap"] = TRY(bytes(f.memory_swap));
  if (f.cpu_shares) patch["cpu"]["shares"] = *f.cpu_shares;
  if (f.cpu_period) patch["cpu"]["period"] = *f.cpu_period;
  if (f.cpu_quota) patch["cpu"]["quota"] = *f.cpu_quota;
  if (!f.cpuset_cpus.empty()) patch["cpu"]["cpus"] = f.cpuset_cpus;
  if (!f.cpuset_mems.empty()) patch["cpu"]["mems"] = f.cpuset_mems;
  if (f.pids_limit) patch["pids"]["limit"] = *f.pids_limit;
  if (f.blkio_weight) patch["blockIO"]["weight"] = *f.blkio_weight;
  if (patch.empty()) return fail("update: nothing to change (give --resources or a limit flag)");
  return patch;
}

}  // namespace

int runtime_main(int argc, char** argv) {
  CLI::App app{"berth-runtime: run containers from OCI bundles", "berth-runtime"};
  app.set_version_flag("-v,--version", std::string("berth-runtime version ") + kVersion + "\nspec: 1.2.0");
  app.require_subcommand(1);
  GlobalOptions global;
  app.add_option("--root", global.root, "directory for the containers' state");
  app.add_option("--log", global.log_path, "log file for errors");
  app.add_option("--log-format", global.log_format, "log format: text or json")->check(CLI::IsMember({"text", "json"}));
  std::string log_level;
  app.add_option("--log-level", log_level, "accepted for compatibility; only errors are logged");
  app.add_flag("--debug", global.debug, "accepted for compatibility; only errors are logged");
  app.add_flag("--systemd-cgroup", global.systemd_cgroup, "manage cgroups through systemd (not supported)");
  app.add_option("--rootless", global.rootless, "rootless mode: true, false or auto")->check(CLI::IsMember({"true", "false", "auto"}));

  std::string id;
  runtime::CreateOptions create_options;
  bool detach = false, force = false, all = false, quiet = false, rootless_spec = false;
  std::string signal = "SIGTERM", format = "table", spec_bundle = ".";
  std::vector<std::string> rest;

  auto* create = app.add_subcommand("create", "create a container");
  create->add_option("id", id, "container id")->required();
  add_create_flags(create, create_options);

  auto* run = app.add_subcommand("run", "create and start a container");
  run->add_option("id", id, "container id")->required();
  add_create_flags(run, create_options);
  run->add_flag("-d,--detach", detach, "detach from the container's process");

  auto* start = app.add_subcommand("start", "start the process of a created container");
  start->add_option("id", id, "container id")->required();

  auto* state = app.add_subcommand("state", "print the state of a container");
  state->add_option("id", id, "container id")->required();

  auto* kill = app.add_subcommand("kill", "send a signal to a container's init process");
  kill->add_option("id", id, "container id")->required();
  kill->add_option("signal", signal, "signal name or number (default SIGTERM)");
  kill->add_flag("-a,--all", all, "send the signal to every process in the container");

  auto* del = app.add_subcommand("delete", "delete a container's resources");
  del->add_option("id", id, "container id")->required();
  del->add_flag("-f,--force", force, "kill the container first if it is still running");

  auto* list = app.add_subcommand("list", "list the containers");
  list->add_option("-f,--format", format, "table or json");
  list->add_flag("-q,--quiet", quiet, "print only the ids");

  auto* ps = app.add_subcommand("ps", "list the processes of a container");
  ps->add_option("-f,--format", format, "table or json");
  ps->add_option("id", id, "container id")->required();
  ps->add_option("ps-args", rest, "arguments for ps(1)");
  ps->prefix_command(false);

  auto* pause = app.add_subcommand("pause", "suspend every process in a container");
  pause->add_option("id", id, "container id")->required();
  auto* resume = app.add_subcommand("resume", "resume a paused container");
  resume->add_option("id", id, "container id")->required();

  auto* spec = app.add_subcommand("spec", "write a default config.json");
  spec->add_option("-b,--bundle", spec_bundle, "bundle directory to write config.json to");
  spec->add_flag("--rootless", rootless_spec, "a config for running without root");

  UpdateFlags update_flags;
  auto* update = app.add_subcommand("update", "change the cgroup limits of a container");
  update->add_option("id", id, "container id")->required();
  add_update_flags(update, update_flags);

  std::string process_file, cwd, user, apparmor, label, exec_pid_file, exec_console;
  std::vector<std::string> env, caps;
  std::vector<uint32_t> additional_gids;
  bool tty = false, no_new_privs = false;
  int exec_preserve_fds = 0;
  auto* exec = app.add_subcommand("exec", "run a process in a running container");
  exec->add_option("id", id, "container id")->required();
  exec->add_option("command", rest, "command and arguments");
  exec->add_option("-p,--process", process_file, "process.json to run");
  exec->add_option("--cwd", cwd, "working directory");
  exec->add_option("-e,--env", env, "set an environment variable (KEY=VALUE)")->allow_extra_args(false);
  exec->add_flag("-t,--tty", tty, "allocate a pseudo-terminal");
  exec->add_option("-u,--user", user, "UID[:GID]");
  exec->add_option("-g,--additional-gids", additional_gids, "additional group ids")->allow_extra_args(false);
  exec->add_option("-c,--cap", caps, "add a capability")->allow_extra_args(false);
  exec->add_flag("--no-new-privs", no_new_privs, "set no_new_privs");
  exec->add_option("--apparmor", apparmor, "AppArmor profile");
  exec->add_option("--process-label", label, "SELinux label");
  exec->add_flag("-d,--detach", detach, "detach from the process");
  exec->add_option("--pid-file", exec_pid_file, "file to write the process id to");
  exec->add_option("--console-socket", exec_console, "unix socket that receives the pty master");
  exec->add_option("--preserve-fds", exec_preserve_fds, "pass N additional file descriptors")->check(CLI::NonNegativeNumber);
  exec->prefix_command(false);
  exec->positionals_at_end(true);

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    if (e.get_exit_code() == 0) return app.exit(e);
    report_error(global, e.what());
    return 1;
  }
  if (global.root.empty()) global.root = default_root();
  runtime::Runtime rt(global.root);

  auto outcome = [&]() -> Result<int> {
    if (global.systemd_cgroup) return fail("--systemd-cgroup: cgroups through systemd are not supported; use cgroupfs paths");
    if (*create) {
      TRY(rt.create(id, create_options));
    } else if (*run) {
      return rt.run(id, create_options, detach);
    } else if (*start) {
      TRY(rt.start(id));
    } else if (*state) {
      auto info = TRY(rt.info(id));
      std::cout << runtime::state_json(info).dump(2) << "\n";
    } else if (*kill) {
      int number = TRY(runtime::parse_signal(signal));
      TRY(rt.kill(id, number, all));
    } else if (*del) {
      TRY(rt.remove(id, force));
    } else if (*list) {
      TRY(list_containers(rt, format, quiet));
    } else if (*ps) {
      TRY(show_processes(rt, id, format, rest));
    } else if (*pause) {
      TRY(rt.pause(id));
    } else if (*resume) {
      TRY(rt.resume(id));
    } else if (*update) {
      TRY(rt.update(id, TRY(update_patch(update_flags))));
    } else if (*spec) {
      std::string path = spec_bundle + "/config.json";
      if (path_exists(path)) return fail("File " + path + " exists. Remove it first");
      TRY(write_file_atomic(path, oci::default_spec(rootless_spec).dump(2) + "\n", 0644));
    } else if (*exec) {
      auto options = TRY(exec_options(rt, id, process_file, rest, cwd, env, tty, user, additional_gids, caps, no_new_privs,
                                      apparmor, label));
      options.pid_file = exec_pid_file;
      options.console_socket = exec_console;
      options.preserve_fds = exec_preserve_fds;
      options.detach = detach;
      int status = TRY(rt.exec(id, options));
      return detach ? 0 : status;
    }
    return 0;
  }();
  if (!outcome) {
    report_error(global, outcome.error().message());
    return 1;
  }
  return *outcome;
}

}  // namespace berth::cli
