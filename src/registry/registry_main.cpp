#include "registry/registry_main.h"

#include <signal.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <filesystem>
#include <iostream>

#include "http/http_server.h"
#include "registry/registry_server.h"

namespace berth::registry {

namespace {

int collect_garbage(const std::string& root, bool dry_run) {
  if (!std::filesystem::is_directory(root + "/repositories")) {
    std::cerr << "berth-registry: " << root << " is not a registry's storage\n";
    return 1;
  }
  Storage storage(root);
  auto removed = storage.collect_garbage(dry_run);
  if (!removed) {
    std::cerr << "berth-registry: gc: " << removed.error().message() << "\n";
    return 1;
  }
  for (const auto& digest : *removed) std::cout << (dry_run ? "eligible for deletion: " : "deleted: ") << digest << "\n";
  std::cout << removed->size() << (dry_run ? " blobs eligible for deletion\n" : " blobs deleted\n");
  return 0;
}

}  // namespace

int registry_main(int argc, char** argv) {
  CLI::App app{"berth-registry: a private registry speaking the OCI distribution API", "berth-registry"};
  app.set_version_flag("-v,--version", "berth-registry version 0.1.0");
  app.require_subcommand(1);
  std::string address = "127.0.0.1:5000", root = "/var/lib/berth-registry";
  auto* serve = app.add_subcommand("serve", "serve the registry over HTTP");
  serve->add_option("--addr", address, "address to listen on, HOST:PORT")->capture_default_str();
  serve->add_option("--root", root, "directory of the registry's storage")->capture_default_str();
  std::string htpasswd, realm = "berth-registry";
  serve->add_option("--htpasswd", htpasswd, "require Basic auth by the users of this htpasswd file (bcrypt)");
  serve->add_option("--realm", realm, "the realm of Basic auth")->capture_default_str();
  std::string tls_cert, tls_key;
  serve->add_option("--tls-cert", tls_cert, "serve HTTPS with this PEM certificate (chain)");
  serve->add_option("--tls-key", tls_key, "the PEM private key of --tls-cert");
  bool dry_run = false;
  auto* gc = app.add_subcommand("gc", "remove the blobs no manifest refers to (stop serve first)");
  gc->add_option("--root", root, "directory of the registry's storage")->capture_default_str();
  gc->add_flag("-d,--dry-run", dry_run, "only list what would be removed");
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  }

  if (*gc) return collect_garbage(root, dry_run);

  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  ::pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  ::signal(SIGPIPE, SIG_IGN);

  Storage storage(root);
  if (auto ready = storage.init(); !ready) {
    std::cerr << "berth-registry: " << root << ": " << ready.error().message() << "\n";
    return 1;
  }
  RegistryServer registry(storage);
  if (!htpasswd.empty()) {
    auto users = Htpasswd::load(htpasswd);
    if (!users) {
      std::cerr << "berth-registry: " << users.error().message() << "\n";
      return 1;
    }
    registry.require_auth(std::move(*users), realm);
  }
  http::HttpServer server([&registry](http::Request& rq, http::ResponseWriter& rs) { registry.dispatch(rq, rs); },
                          {{"Docker-Distribution-API-Version", "registry/2.0"}});
  if (tls_cert.empty() != tls_key.empty()) {
    std::cerr << "berth-registry: --tls-cert and --tls-key go together\n";
    return 1;
  }
  if (!tls_cert.empty())
    if (auto tls = server.use_tls(tls_cert, tls_key); !tls) {
      std::cerr << "berth-registry: " << tls.error().message() << "\n";
      return 1;
    }
  if (auto listening = server.listen_tcp(address); !listening) {
    std::cerr << "berth-registry: " << listening.error().message() << "\n";
    return 1;
  }
  std::cerr << "berth-registry: serving " << root << " on port " << server.port() << "\n";
  server.run_until(signals);
  // Connection threads may still run; every write is already atomic.
  ::_exit(0);
}

}  // namespace berth::registry
