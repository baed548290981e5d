// The commands that stream a container's stdio: run, create, start, attach.
#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <future>
#include <iostream>
#include <memory>
#include <thread>

#include "cli/container_commands.h"
#include "cli/create_options.h"
#include "cli/registry_commands.h"
#include "cli/streams.h"
#include "cli/subcommand.h"
#include "engine/container.h"
#include "image/reference.h"
#include "runtime/signals.h"

namespace berth::cli {

namespace {

constexpr int kDaemonFailed = 125;  // Docker's codes when the container did not run
constexpr int kCannotInvoke = 126;
constexpr int kNotFound = 127;

// docker run's exit code when the start itself failed: the container's
// (127, 126), or 125 for a failure of the daemon's.
int start_failure_code(const std::string& message) {
  int code = engine::start_failure_code(message);
  return code == kNotFound || code == kCannotInvoke ? code : kDaemonFailed;
}

int report(const std::string& command, const Error& error) {
  std::cerr << "berth: " << error.message() << "\nSee 'berth " << command << " --help'.\n";
  return kDaemonFailed;
}

Result<std::string> create_container(const Context& ctx, const CreateOptions& o) {
  Json body = TRY(create_body(o));
  api::Client::Query query;
  if (!o.name.empty()) query.push_back({"name", o.name});
  auto response = TRY(ctx.client().request("POST", "/containers/create", query, body.dump(), "application/json"));
  if (response.status == 404 && daemon_error(response).message().find("No such image") != std::string::npos) {
    // As Docker's CLI does: pull the image, then create again.
    auto ref = image::parse_reference(o.image);
    std::cerr << "Unable to find image '" << (ref ? image::with_default_tag(*ref).familiar() : o.image) << "' locally\n";
    TRY(pull_image(ctx, o.image, "", std::cerr));
    response = TRY(ctx.client().request("POST", "/containers/create", query, body.dump(), "application/json"));
  }
  if (response.status >= 300) return std::unexpected(daemon_error(response));
  auto doc = TRY(parse_json(response.body));
  for (const auto& warning : doc.value("Warnings", Json::array())) std::cerr << "WARNING: " << warning.get<std::string>() << "\n";
  return doc["Id"].get<std::string>();
}

// Tells the daemon our terminal's size; target is "/containers/ID" or "/exec/ID".
void resize(const Context& ctx, const std::string& target) {
  if (auto size = terminal_size(0))
    (void)ctx.client().request("POST", target + "/resize", {{"h", std::to_string(size->first)}, {"w", std::to_string(size->second)}});
}

// Signals to the container (sig-proxy) and the terminal's size, from a
// thread of their own; the signals are blocked everywhere else.
void forward_signals(const Context& ctx, const std::string& id, bool proxy, bool tty) {
  sigset_t set;
  sigemptyset(&set);
  if (tty) sigaddset(&set, SIGWINCH);
  if (proxy)
    for (int sig : {SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2}) sigaddset(&set, sig);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
  std::thread([&ctx, id, set] {
    for (;;) {
      int sig = 0;
      if (sigwait(&set, &sig) != 0) return;
      if (sig == SIGWINCH) resize(ctx, "/containers/" + id);
      else (void)ctx.client().request("POST", "/containers/" + id + "/kill", {{"signal", runtime::signal_name(sig)}});
    }
  }).detach();
}

Result<api::Client::Hijacked> attach_streams(const Context& ctx, const std::string& id, bool in, bool out, bool err,
                                             const std::string& detach_keys) {
  api::Client::Query query = {{"stream", "1"}, {"stdin", in ? "1" : "0"}, {"stdout", out ? "1" : "0"}, {"stderr", err ? "1" : "0"}};
  if (!detach_keys.empty()) query.push_back({"detachKeys", detach_keys});
  auto conn = ctx.client().hijack("/containers/" + id + "/attach", query);
  if (!conn) return fail("Error response from daemon: " + conn.error().message(), conn.error().code());
  return conn;
}

Result<int> wait_exit(const Context& ctx, const std::string& id, const std::string& condition) {
  auto response = TRY(call(ctx, "POST", "/containers/" + id + "/wait", {{"condition", condition}}));
  return TRY(parse_json(response.body))["StatusCode"].get<int>();
}

// Streams with our terminal in raw mode when typing goes to a tty; true when
// the user detached.
Result<bool> stream_on_terminal(api::Client::Hijacked& conn, bool tty, bool in, const std::string& detach_keys) {
  std::optional<RawTerminal> raw;
  if (tty && in) raw.emplace(0);
  std::string keys = detach_keys.empty() ? "ctrl-p,ctrl-q" : detach_keys;
  return pump_streams(conn, {tty, in, in ? keys : ""});
}

// Streams until the container ends or the user detaches; its exit code, or
// nullopt when detached.
Result<std::optional<int>> stream_until_exit(const Context& ctx, const std::string& id, api::Client::Hijacked& conn, bool tty,
                                              bool in, const std::string& detach_keys, std::future<Result<int>>* exit_code) {
  if (TRY(stream_on_terminal(conn, tty, in, detach_keys))) return std::nullopt;
  if (exit_code) return TRY(exit_code->get());
  return TRY(wait_exit(ctx, id, "not-running"));
}

Result<int> run(Context& ctx, CreateOptions& o, const std::vector<std::string>& rest) {
  if (rest.empty()) {
    std::cerr << "\"berth run\" requires at least 1 argument.\nSee 'berth run --help'.\n";
    return kDaemonFailed;
  }
  o.image = rest[0];
  o.command.assign(rest.begin() + 1, rest.end());
  if (o.detach && !o.attach.empty()) return report("run", Error("Conflicting options: -a and -d"));
  auto id = create_container(ctx, o);
  if (!id) return report("run", id.error());
  if (o.detach) {
    if (auto started = call(ctx, "POST", "/containers/" + *id + "/start"); !started) {
      std::cerr << "berth: " << started.error().message() << "\n";
      return start_failure_code(started.error().message());
    }
    std::cout << *id << "\n";
    return 0;
  }
  Json body = TRY(create_body(o));
  bool in = body["AttachStdin"] == true, out = body["AttachStdout"] == true, err = body["AttachStderr"] == true;
  forward_signals(ctx, *id, o.sig_proxy && !o.tty, o.tty);
  auto conn = attach_streams(ctx, *id, in, out, err, o.detach_keys);
  if (!conn) return report("run", conn.error());
  // Waiting begins before the start, so that a quick exit is not missed.
  auto exit_code = std::async(std::launch::async, [&ctx, id = *id, condition = o.auto_remove ? "removed" : "next-exit"] {
    return wait_exit(ctx, id, condition);
  });
  if (auto started = call(ctx, "POST", "/containers/" + *id + "/start"); !started) {
    std::cerr << "berth: " << started.error().message() << "\n";
    if (o.auto_remove) (void)call(ctx, "DELETE", "/containers/" + *id, {{"force", "1"}});
    std::_Exit(start_failure_code(started.error().message()));  // the waiting thread cannot be joined
  }
  if (o.tty) resize(ctx, "/containers/" + *id);
  auto code = TRY(stream_until_exit(ctx, *id, *conn, o.tty, in, o.detach_keys, &exit_code));
  if (!code) std::_Exit(0);  // detached: the container runs on, the wait is not joined
  return *code;
}

void add_run(CLI::App* cmd, Context& ctx) {
  auto o = std::make_shared<CreateOptions>();
  add_create_flags(cmd, *o, true);
  cmd->final_callback([=, &ctx] {
    ctx.run = [=, &ctx]() -> Result<int> { return run(ctx, *o, cmd->remaining()); };
  });
}

void add_create(CLI::App* cmd, Context& ctx) {
  auto o = std::make_shared<CreateOptions>();
  add_create_flags(cmd, *o, false);
  cmd->final_callback([=, &ctx] {
    ctx.run = [=, &ctx]() -> Result<int> {
      auto rest = cmd->remaining();
      if (rest.empty()) {
        std::cerr << "\"berth create\" requires at least 1 argument.\nSee 'berth create --help'.\n";
        return kDaemonFailed;
      }
      o->image = rest[0];
      o->command.assign(rest.begin() + 1, rest.end());
      auto id = create_container(ctx, *o);
      if (!id) return report("create", id.error());
      std::cout << *id << "\n";
      return 0;
    };
  });
}

void add_start(CLI::App* cmd, Context& ctx) {
  struct Options {
    bool attach = false, interactive = false;
    std::string detach_keys;
    std::vector<std::string> names;
  };
  auto o = std::make_shared<Options>();
  cmd->add_flag("-a,--attach", o->attach, "Attach STDOUT/STDERR and forward signals");
  cmd->add_flag("-i,--interactive", o->interactive, "Attach container's STDIN");
  cmd->add_option("--detach-keys", o->detach_keys, "Override the key sequence for detaching a container");
  cmd->add_option("containers", o->names, "CONTAINER")->required();
  cmd->final_callback([=, &ctx] {
    ctx.run = [=, &ctx]() -> Result<int> {
      if ((o->attach || o->interactive) && o->names.size() > 1) return fail("you cannot start and attach multiple containers at once");
      if (!o->attach && !o->interactive) {
        int status = 0;
        for (const auto& name : o->names) {
          if (auto started = call(ctx, "POST", "/containers/" + name + "/start"); !started) {
            std::cerr << started.error().message() << "\n";
            status = 1;
          } else {
            std::cout << name << "\n";
          }
        }
        if (status) std::cerr << "Error: failed to start containers: " << o->names.front() << "\n";
        return status;
      }
      auto info = TRY(parse_json(TRY(call(ctx, "GET", "/containers/" + o->names[0] + "/json")).body));
      std::string id = info["Id"];
      bool tty = info["Config"].value("Tty", false);
      bool in = o->interactive && info["Config"].value("OpenStdin", false);
      forward_signals(ctx, id, !tty, tty);
      auto conn = TRY(attach_streams(ctx, id, in, true, true, o->detach_keys));
      TRY(call(ctx, "POST", "/containers/" + id + "/start"));
      if (tty) resize(ctx, "/containers/" + id);
      auto code = TRY(stream_until_exit(ctx, id, conn, tty, in, o->detach_keys, nullptr));
      return code.value_or(0);
    };
  });
}

void add_attach(CLI::App* cmd, Context& ctx) {
  struct Options {
    bool no_stdin = false, sig_proxy = true;
    std::string detach_keys, name;
  };
  auto o = std::make_shared<Options>();
  cmd->add_flag("--no-stdin", o->no_stdin, "Do not attach STDIN");
  cmd->add_flag("--sig-proxy,!--no-sig-proxy", o->sig_proxy, "Proxy all received signals to the process");
  cmd->add_option("--detach-keys", o->detach_keys, "Override the key sequence for detaching a container");
  cmd->add_option("container", o->name, "CONTAINER")->required();
  cmd->final_callback([=, &ctx] {
    ctx.run = [=, &ctx]() -> Result<int> {
      auto info = TRY(parse_json(TRY(call(ctx, "GET", "/containers/" + o->name + "/json")).body));
      if (!info["State"].value("Running", false)) return fail("You cannot attach to a stopped container, start it first");
      if (info["State"].value("Paused", false)) return fail("You cannot attach to a paused container, unpause it first");
      std::string id = info["Id"];
      bool tty = info["Config"].value("Tty", false);
      bool in = !o->no_stdin && info["Config"].value("OpenStdin", false);
      forward_signals(ctx, id, o->sig_proxy && !tty, tty);
      auto conn = TRY(attach_streams(ctx, id, in, true, true, o->detach_keys));
      if (tty) resize(ctx, "/containers/" + id);
      auto code = TRY(stream_until_exit(ctx, id, conn, tty, in, o->detach_keys, nullptr));
      return code.value_or(0);
    };
  });
}

void add_exec(CLI::App* cmd, Context& ctx) {
  struct Options {
    bool interactive = false, tty = false, detach = false, privileged = false;
    std::string detach_keys, workdir, user;
    std::vector<std::string> env, env_files, args;
  };
  auto o = std::make_shared<Options>();
  cmd->add_flag("-i,--interactive", o->interactive, "Keep STDIN open even if not attached");
  cmd->add_flag("-t,--tty", o->tty, "Allocate a pseudo-TTY");
  cmd->add_flag("-d,--detach", o->detach, "Detached mode: run command in the background");
  cmd->add_flag("--privileged", o->privileged, "Give extended privileges to the command");
  cmd->add_option("--detach-keys", o->detach_keys, "Override the key sequence for detaching a container");
  cmd->add_option("-w,--workdir", o->workdir, "Working directory inside the container");
  cmd->add_option("-u,--user", o->user, "Username or UID (format: \"<name|uid>[:<group|gid>]\")");
  cmd->add_option("-e,--env", o->env, "Set environment variables")->allow_extra_args(false);
  cmd->add_option("--env-file", o->env_files, "Read in a file of environment variables")->allow_extra_args(false);
  cmd->prefix_command();
  cmd->final_callback([=, &ctx] {
    ctx.run = [=, &ctx]() -> Result<int> {
      auto rest = cmd->remaining();
      if (rest.size() < 2) {
        std::cerr << "\"berth exec\" requires at least 2 arguments.\nSee 'berth exec --help'.\n";
        return 1;
      }
      CreateOptions env_only;
      env_only.env = o->env;
      env_only.env_files = o->env_files;
      Json env = TRY(create_body(env_only))["Env"];
      Json config = {{"AttachStdin", o->interactive && !o->detach}, {"AttachStdout", !o->detach}, {"AttachStderr", !o->detach},
                     {"Tty", o->tty}, {"Privileged", o->privileged}, {"User", o->user}, {"WorkingDir", o->workdir},
                     {"Env", env}, {"Cmd", std::vector<std::string>(rest.begin() + 1, rest.end())}};
      if (!o->detach_keys.empty()) config["DetachKeys"] = o->detach_keys;
      auto created = TRY(call(ctx, "POST", "/containers/" + rest[0] + "/exec", {}, config.dump()));
      std::string id = TRY(parse_json(created.body))["Id"];
      if (o->detach) {
        TRY(call(ctx, "POST", "/exec/" + id + "/start", {}, Json{{"Detach", true}, {"Tty", o->tty}}.dump()));
        return 0;
      }
      auto conn = ctx.client().hijack("/exec/" + id + "/start", {}, Json{{"Detach", false}, {"Tty", o->tty}}.dump());
      if (!conn) {
        std::cerr << "Error response from daemon: " << conn.error().message() << "\n";
        return kCannotInvoke;
      }
      if (o->tty) resize(ctx, "/exec/" + id);
      if (TRY(stream_on_terminal(*conn, o->tty, o->interactive, o->detach_keys))) std::_Exit(0);
      auto info = TRY(parse_json(TRY(call(ctx, "GET", "/exec/" + id + "/json")).body));
      return info["ExitCode"].is_number_integer() ? info["ExitCode"].get<int>() : 0;
    };
  });
}

}  // namespace

void add_run_commands(CLI::App& app, CLI::App& container, Context& ctx) {
  for (auto* parent : {&app, &container}) {
    lazily(parent->add_subcommand("run", "Create and run a new container from an image"), [&ctx](CLI::App* s) { add_run(s, ctx); });
    lazily(parent->add_subcommand("create", "Create a new container"), [&ctx](CLI::App* s) { add_create(s, ctx); });
    lazily(parent->add_subcommand("start", "Start one or more stopped containers"), [&ctx](CLI::App* s) { add_start(s, ctx); });
    lazily(parent->add_subcommand("exec", "Execute a command in a running container"), [&ctx](CLI::App* s) { add_exec(s, ctx); });
    lazily(parent->add_subcommand("attach", "Attach local standard input, output, and error streams to a running container"), [&ctx](CLI::App* s) { add_attach(s, ctx); });
  }
}

}  // namespace berth::cli
