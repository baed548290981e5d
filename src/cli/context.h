// What every berth command needs: where the daemon is, a client for it,
// and how errors are printed.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "api/client.h"
#include "base/error.h"

namespace berth::cli {

struct Context {
  std::string host;           // socket path
  bool default_host = true;   // not chosen by -H or the environment: berthd may be started
  std::function<Result<int>()> run;  // the command chosen on the command line

  api::Client client() const { return api::Client(host); }
  // Starts berthd in the background when nothing answers on the default
  // socket and we are root, so a fresh machine needs no service manager.
  Result<void> ensure_daemon() const;
};

// The daemon's error as Docker prints it: "Error response from daemon: …".
Error daemon_error(const api::ClientResponse& response);

// Sends a request and fails with the daemon's message on a non-2xx status.
Result<api::ClientResponse> call(const Context& ctx, const std::string& method, const std::string& path,
                                 const api::Client::Query& query = {}, std::string_view body = {});

// --filter KEY=VALUE flags as the API's filters: {"KEY":{"VALUE":true}}.
Json filters_json(const std::vector<std::string>& filters);

// Asks "Are you sure you want to continue? [y/N]" after the warning.
bool confirmed(const std::string& warning);

}  // namespace berth::cli
