#include "cli/context.h"

#include <fcntl.h>
#include <limits.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sys/wait.h>

#include <chrono>
#include <iostream>
#include <thread>

#include "base/file.h"

namespace berth::cli {

Error daemon_error(const api::ClientResponse& response) {
  Error error = api::response_error(response);
  return Error("Error response from daemon: " + error.message(), error.code());
}

Result<api::ClientResponse> call(const Context& ctx, const std::string& method, const std::string& path,
                                 const api::Client::Query& query, std::string_view body) {
  auto response = TRY(ctx.client().request(method, path, query, body, body.empty() ? "" : "application/json"));
  if (response.status >= 300) return std::unexpected(daemon_error(response));
  return response;
}

Json filters_json(const std::vector<std::string>& filters) {
  Json out = Json::object();
  for (const auto& f : filters) {
    auto eq = f.find('=');
    out[f.substr(0, eq)][eq == std::string::npos ? "" : f.substr(eq + 1)] = true;
  }
  return out;
}

bool confirmed(const std::string& warning) {
  std::cout << warning << "\nAre you sure you want to continue? [y/N] " << std::flush;
  std::string answer;
  std::getline(std::cin, answer);
  return answer == "y" || answer == "Y" || answer == "yes";
}

Result<void> Context::ensure_daemon() const {
  auto ping = [&] {
    auto response = client().request("GET", "/_ping");
    return response && response->status == 200;
  };
  if (!default_host || ::geteuid() != 0 || ping()) return {};
  char self[PATH_MAX];
  ssize_t n = ::readlink("/proc/self/exe", self, sizeof self - 1);
  if (n <= 0) return fail_errno("find berthd");
  self[n] = 0;
  std::string dir(self);
  std::string berthd = dir.substr(0, dir.rfind('/')) + "/berthd";
  if (!path_exists(berthd)) berthd = "berthd";
  pid_t pid = ::fork();
  if (pid < 0) return fail_errno("start berthd");
  if (pid == 0) {
    ::setsid();
    (void)make_dirs("/var/log", 0755);
    int log = ::open("/var/log/berthd.log", O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0640);
    int null = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
    ::dup2(null, 0);
    if (log >= 0) {
      ::dup2(log, 1);
      ::dup2(log, 2);
    }
    // A second fork: berthd is nobody's child and outlives this command.
    if (::fork() == 0) {
      ::execlp(berthd.c_str(), "berthd", "--socket", host.c_str(), nullptr);
      ::_exit(127);
    }
    ::_exit(0);
  }
  ::waitpid(pid, nullptr, 0);
  for (int i = 0; i < 200; ++i) {
    if (ping()) return {};
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return fail("started berthd, but it does not answer on " + host + " (see /var/log/berthd.log)");
}

}  // namespace berth::cli
