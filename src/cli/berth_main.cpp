#include "cli/berth_main.h"

#include <cstdlib>
#include <iostream>

#include "cli/container_commands.h"
#include "cli/context.h"
#include "cli/help.h"
#include "cli/image_commands.h"

namespace berth::cli {

namespace {

constexpr const char* kDefaultSocket = "/run/berth/berth.sock";

// -H, then BERTH_HOST, then DOCKER_HOST, then the default socket.
Result<void> resolve_host(Context& ctx, const std::string& flag) {
  std::string host = flag;
  for (const char* var : {"BERTH_HOST", "DOCKER_HOST"})
    if (host.empty())
      if (const char* value = std::getenv(var); value && *value) host = value;
  if (host.empty()) {
    ctx.host = kDefaultSocket;
    return {};
  }
  ctx.default_host = false;
  if (host.starts_with("unix://")) host = host.substr(7);
  else if (host.find("://") != std::string::npos) return fail("host \"" + host + "\": only unix:// sockets are supported");
  ctx.host = host;
  return {};
}

}  // namespace

int berth_main(int argc, char** argv) {
  CLI::App app{"A self-sufficient runtime for containers", "berth"};
  app.formatter(std::make_shared<DockerHelp>());
  app.set_version_flag("-v,--version", "berth version 0.1.0");
  app.require_subcommand(1);
  std::string host_flag;
  app.add_option("-H,--host", host_flag, "Daemon socket to connect to");
  Context ctx;
  add_system_commands(app, ctx);
  add_image_commands(app, ctx);
  add_container_commands(app, ctx);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    if (e.get_exit_code() == 0) return app.exit(e);
    std::cerr << "berth: " << e.what() << "\nSee 'berth --help'.\n";
    return 125;
  }
  auto outcome = [&]() -> Result<int> {
    TRY(resolve_host(ctx, host_flag));
    TRY(ctx.ensure_daemon());
    return ctx.run ? ctx.run() : 0;
  }();
  if (!outcome) {
    const std::string& message = outcome.error().message();
    std::cerr << (message.starts_with("Error") ? message : "Error: " + message) << "\n";
    return 1;
  }
  return *outcome;
}

}  // namespace berth::cli
