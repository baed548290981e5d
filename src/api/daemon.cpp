#include "api/daemon.h"

#include <malloc.h>
#include <signal.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <iostream>

#include "http/http_server.h"
#include "api/routes.h"
#include "base/file.h"

namespace berth::api {

int daemon_main(int argc, char** argv) {
  CLI::App app{"berthd: the berth daemon, serving the Docker Engine API", "berthd"};
  engine::EngineConfig config;
  std::string socket = "/run/berth/berth.sock";
  app.add_option("--data-root", config.data_root, "root directory of persistent state")->capture_default_str();
  app.add_option("--socket", socket, "unix socket to listen on")->capture_default_str();
  std::string exec_root;
  app.add_option("--exec-root", exec_root, "root directory of state that ends at reboot (default /run/berth, or DATA_ROOT/run with --data-root)");
  app.add_option("--init-path", config.init_path, "static init binary for containers run with --init")->capture_default_str();
  app.add_option("--insecure-registry", config.insecure_registries,
                 "registry (HOST:PORT) that may be reached over plain HTTP or unverified TLS; loopback ones always may");
  app.set_version_flag("-v,--version", "berthd version 0.1.0");
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  }

  if (!exec_root.empty()) config.exec_root = exec_root;
  else if (app.count("--data-root")) config.exec_root = config.data_root + "/run";

  // Requests come on threads of their own: a few shared arenas that keep
  // what they freed (up to a bound) spare each request the page faults of
  // growing a heap again.
  ::mallopt(M_ARENA_MAX, 2);
  ::mallopt(M_TRIM_THRESHOLD, 8 << 20);
  ::mallopt(M_MMAP_THRESHOLD, 8 << 20);

  // Signals are taken by one thread with sigwait, so no handler runs in the
  // middle of a request.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  ::signal(SIGPIPE, SIG_IGN);

  auto engine = engine::Engine::open(config);
  if (!engine) {
    std::cerr << "berthd: " << engine.error().message() << "\n";
    return 1;
  }
  Router router;
  add_system_routes(router, **engine);
  add_image_routes(router, **engine);
  add_container_routes(router, **engine);
  add_exec_routes(router, **engine);
  add_container_file_routes(router, **engine);
  add_registry_routes(router, **engine);
  http::HttpServer server([&router](http::Request& rq, http::ResponseWriter& rs) { router.dispatch(rq, rs); },
                          {{"Api-Version", "1.43"}, {"Docker-Experimental", "false"}, {"Ostype", "linux"}});
  auto slash = socket.rfind('/');
  if (slash != std::string::npos && slash > 0) (void)make_dirs(socket.substr(0, slash), 0755);
  if (auto listening = server.listen(socket); !listening) {
    std::cerr << "berthd: " << listening.error().message() << "\n";
    return 1;
  }
  server.run_until(signals);
  (*engine)->containers().finish_removals(std::chrono::seconds(10));
  // Connection threads (an events stream, a slow client) may still be
  // running; end here rather than destroy what they use under them. Every
  // change is already durable (SQLite transactions, atomic files).
  std::cout.flush();
  std::cerr.flush();
  ::_exit(0);
}

}  // namespace berth::api
