#include "cli/registry_commands.h"

#include <termios.h>
#include <unistd.h>

#include <iostream>
#include <memory>
#include <sstream>

#include "cli/docker_config.h"
#include "cli/format.h"
#include "cli/json_messages.h"
#include "cli/subcommand.h"
#include "image/reference.h"

namespace berth::cli {

namespace {

// A streamed pull or push: the daemon's messages go to out as they come.
Result<MessageDisplay> stream_messages(const Context& ctx, const std::string& path, const api::Client::Query& query,
                                       const std::string& domain, std::ostream& out, bool terminal) {
  auto client = ctx.client();
  client.set_header("X-Registry-Auth", registry_auth_header(domain));
  MessageDisplay display(out, terminal);
  auto response = TRY(client.request("POST", path, query, {}, "", [&](std::string_view data) { return display.feed(data); }));
  if (response.status >= 300) return std::unexpected(daemon_error(response));
  return display;
}

Result<void> pull(const Context& ctx, image::Reference ref, bool all_tags, const std::string& platform, std::ostream& out, bool terminal) {
  api::Client::Query query = {{"fromImage", ref.name()}};
  if (!ref.digest.empty()) query.push_back({"tag", ref.digest});
  else if (!all_tags) query.push_back({"tag", ref.tag});
  if (!platform.empty()) query.push_back({"platform", platform});
  TRY(stream_messages(ctx, "/images/create", query, ref.domain, out, terminal));
  return {};
}

void add_pull(CLI::App* cmd, Context& ctx) {
  auto name = std::make_shared<std::string>();
  auto all = std::make_shared<bool>(false);
  auto quiet = std::make_shared<bool>(false);
  auto platform = std::make_shared<std::string>();
  cmd->add_option("NAME", *name, "NAME[:TAG|@DIGEST]")->required();
  cmd->add_flag("-a,--all-tags", *all, "Download all tagged images in the repository");
  cmd->add_flag("-q,--quiet", *quiet, "Suppress verbose output");
  cmd->add_option("--platform", *platform, "Set platform if server is multi-platform capable");
  cmd->final_callback([=, &ctx] {
    ctx.run = [=, &ctx]() -> Result<int> {
      auto ref = TRY(image::parse_reference(*name));
      if (*all && (!ref.tag.empty() || !ref.digest.empty())) return fail("tag can't be used with --all-tags/-a");
      if (!*all && ref.tag.empty() && ref.digest.empty()) {
        ref.tag = "latest";
        if (!*quiet) std::cout << "Using default tag: latest\n";
      }
      std::ostringstream discard;
      TRY(pull(ctx, ref, *all, *platform, *quiet ? static_cast<std::ostream&>(discard) : std::cout, !*quiet && ::isatty(1)));
      std::cout << (*all ? ref.name() : ref.str()) << "\n";
      return 0;
    };
  });
}

void add_push(CLI::App* cmd, Context& ctx) {
  auto name = std::make_shared<std::string>();
  auto all = std::make_shared<bool>(false);
  auto quiet = std::make_shared<bool>(false);
  cmd->add_option("NAME", *name, "NAME[:TAG]")->required();
  cmd->add_flag("-a,--all-tags", *all, "Push all tags of an image to the repository");
  cmd->add_flag("-q,--quiet", *quiet, "Suppress verbose output");
  cmd->final_callback([=, &ctx] {
    ctx.run = [=, &ctx]() -> Result<int> {
      auto ref = TRY(image::parse_reference(*name));
      if (!ref.digest.empty()) return fail("cannot push a digest reference");
      if (*all && !ref.tag.empty()) return fail("tag can't be used with --all-tags/-a");
      if (!*all && ref.tag.empty()) {
        ref.tag = "latest";
        if (!*quiet) std::cout << "Using default tag: latest\n";
      }
      api::Client::Query query;
      if (!*all) query.push_back({"tag", ref.tag});
      std::ostringstream discard;
      TRY(stream_messages(ctx, "/images/" + api::url_encode(ref.name()) + "/push", query, ref.domain,
                                         *quiet ? static_cast<std::ostream&>(discard) : std::cout, !*quiet && ::isatty(1)));
      if (*quiet) std::cout << ref.name() + (*all ? "" : ":" + ref.tag) << "\n";
      return 0;
    };
  });
}

// Reads a line from the terminal, without echo when secret.
Result<std::string> prompt(const std::string& text, bool secret) {
  std::cout << text << std::flush;
  termios saved{};
  bool restore = secret && ::tcgetattr(0, &saved) == 0;
  if (restore) {
    termios quiet = saved;
    quiet.c_lflag &= ~static_cast<tcflag_t>(ECHO);
    ::tcsetattr(0, TCSANOW, &quiet);
  }
  std::string line;
  bool ok = static_cast<bool>(std::getline(std::cin, line));
  if (restore) {
    ::tcsetattr(0, TCSANOW, &saved);
    std::cout << "\n";
  }
  if (!ok) return fail("cannot read from stdin");
  return line;
}

void add_login(CLI::App* cmd, Context& ctx) {
  auto server = std::make_shared<std::string>();
  auto username = std::make_shared<std::string>();
  auto password = std::make_shared<std::string>();
  auto password_stdin = std::make_shared<bool>(false);
  cmd->add_option("SERVER", *server, "Registry server (Docker Hub when not given)");
  cmd->add_option("-u,--username", *username, "Username");
  cmd->add_option("-p,--password", *password, "Password or Personal Access Token (PAT)");
  cmd->add_flag("--password-stdin", *password_stdin, "Take the Password or Personal Access Token (PAT) from stdin");
  cmd->final_callback([=, &ctx] {
    ctx.run = [=, &ctx]() -> Result<int> {
      std::string user = *username, pass = *password;
      if (!pass.empty() && *password_stdin) return fail("--password and --password-stdin are mutually exclusive");
      if (*password_stdin) {
        if (user.empty()) return fail("Must provide --username with --password-stdin");
        std::string all((std::istreambuf_iterator<char>(std::cin)), std::istreambuf_iterator<char>());
        while (!all.empty() && (all.back() == '\n' || all.back() == '\r')) all.pop_back();
        pass = all;
      }
      if (!pass.empty() && !*password_stdin) std::cerr << "WARNING! Using --password via the CLI is insecure. Use --password-stdin.\n";
      std::string domain = image::registry_domain(*server);
      if (user.empty()) user = TRY(prompt("Username: ", false));
      if (pass.empty()) {
        if (!::isatty(0)) return fail("Cannot perform an interactive login from a non TTY device");
        pass = TRY(prompt("Password: ", true));
      }
      if (user.empty()) return fail("Username is required");
      if (pass.empty()) return fail("Password is required");
      Json body = {{"username", user}, {"password", pass}, {"serveraddress", auth_key(domain)}};
      TRY(call(ctx, "POST", "/auth", {}, body.dump()));
      TRY(store_auth(domain, {user, pass}));
      std::cerr << "WARNING! Your credentials are stored unencrypted in '" << docker_config_path() << "'.\n"
                << "Configure a credential helper to remove this warning. See\n"
                << "https://docs.docker.com/go/credential-store/\n\n";
      std::cout << "Login Succeeded\n";
      return 0;
    };
  });
}

void add_logout(CLI::App* cmd, Context& ctx) {
  auto server = std::make_shared<std::string>();
  cmd->add_option("SERVER", *server, "Registry server (Docker Hub when not given)");
  cmd->final_callback([=, &ctx] {
    ctx.run = [=]() -> Result<int> {
      std::string domain = image::registry_domain(*server);
      std::string shown = server->empty() ? auth_key(domain) : *server;
      if (!TRY(remove_auth(domain))) {
        std::cout << "Not logged in to " << shown << "\n";
        return 0;
      }
      std::cout << "Removing login credentials for " << shown << "\n";
      return 0;
    };
  });
}

void add_search(CLI::App* cmd, Context& ctx) {
  auto term = std::make_shared<std::string>();
  auto limit = std::make_shared<int>(0);
  auto filters = std::make_shared<std::vector<std::string>>();
  auto no_trunc = std::make_shared<bool>(false);
  auto format = std::make_shared<std::string>();
  cmd->add_option("TERM", *term, "Search term")->required();
  cmd->add_option("--limit", *limit, "Max number of search results");
  cmd->add_option("-f,--filter", *filters, "Filter output based on conditions provided")->allow_extra_args(false);
  cmd->add_flag("--no-trunc", *no_trunc, "Don't truncate output");
  cmd->add_option("--format", *format, "Pretty-print search using a Go template");
  cmd->final_callback([=, &ctx] {
    ctx.run = [=, &ctx]() -> Result<int> {
      for (const auto& f : *filters)
        if (f.find('=') == std::string::npos) return fail("bad format of filter (expected name=value)");
      api::Client::Query query = {{"term", *term}};
      if (*limit) query.push_back({"limit", std::to_string(*limit)});
      if (!filters->empty()) query.push_back({"filters", filters_json(*filters).dump()});
      auto client = ctx.client();
      std::string domain = "docker.io";
      if (auto slash = term->find('/'); slash != std::string::npos) domain = image::registry_domain(term->substr(0, slash));
      client.set_header("X-Registry-Auth", registry_auth_header(domain));
      auto response = TRY(client.request("GET", "/images/search", query));
      if (response.status >= 300) return std::unexpected(daemon_error(response));
      auto results = TRY(parse_json(response.body));
      std::vector<Json> rows;
      for (const auto& r : results) {
        std::string description = r.value("description", "");
        if (!*no_trunc && description.size() > 45) description = description.substr(0, 45) + "…";
        rows.push_back({{"Name", r.value("name", "")},
                        {"Description", description},
                        {"StarCount", std::to_string(r.value("star_count", 0))},
                        {"IsOfficial", r.value("is_official", false) ? "[OK]" : ""},
                        {"IsAutomated", r.value("is_automated", false) ? "[OK]" : ""}});
      }
      std::string fmt = format->empty() ? "table {{.Name}}\t{{.Description}}\t{{.StarCount}}\t{{.IsOfficial}}" : *format;
      Json headers = {{"Name", "NAME"}, {"Description", "DESCRIPTION"}, {"StarCount", "STARS"}, {"IsOfficial", "OFFICIAL"}, {"IsAutomated", "AUTOMATED"}};
      TRY(print_rows(std::cout, fmt, rows, headers));
      return 0;
    };
  });
}

}  // namespace

Result<void> pull_image(const Context& ctx, const std::string& image, const std::string& platform, std::ostream& out) {
  auto ref = image::with_default_tag(TRY(image::parse_reference(image)));
  return pull(ctx, ref, false, platform, out, false);
}

void add_registry_commands(CLI::App& app, CLI::App& image, Context& ctx) {
  lazily(app.add_subcommand("pull", "Download an image from a registry"), [&ctx](CLI::App* s) { add_pull(s, ctx); });
  lazily(image.add_subcommand("pull", "Download an image from a registry"), [&ctx](CLI::App* s) { add_pull(s, ctx); });
  lazily(app.add_subcommand("push", "Upload an image to a registry"), [&ctx](CLI::App* s) { add_push(s, ctx); });
  lazily(image.add_subcommand("push", "Upload an image to a registry"), [&ctx](CLI::App* s) { add_push(s, ctx); });
  lazily(app.add_subcommand("login", "Authenticate to a registry"), [&ctx](CLI::App* s) { add_login(s, ctx); });
  lazily(app.add_subcommand("logout", "Log out from a registry"), [&ctx](CLI::App* s) { add_logout(s, ctx); });
  lazily(app.add_subcommand("search", "Search Docker Hub for images"), [&ctx](CLI::App* s) { add_search(s, ctx); });
}

}  // namespace berth::cli
