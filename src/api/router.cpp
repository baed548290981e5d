#include "api/router.h"

#include <cctype>

namespace berth::api {

int status_for(const Error& error) {
  switch (error.code()) {
    case ENOENT: return 404;
    case EBUSY:
    case EEXIST: return 409;
    case EINVAL: return 400;
    case ENOSYS: return 501;
    default: return 500;
  }
}

std::pair<std::string, std::string> split_version(std::string_view path) {
  if (path.starts_with("/v") && path.size() > 2 && std::isdigit(static_cast<unsigned char>(path[2]))) {
    auto slash = path.find('/', 1);
    if (slash == std::string_view::npos) return {std::string(path.substr(2)), "/"};
    return {std::string(path.substr(2, slash - 2)), std::string(path.substr(slash))};
  }
  return {"", std::string(path)};
}

void Router::add(const std::string& method, const std::string& pattern, Handler handler) {
  Route route;
  route.method = method;
  route.handler = std::move(handler);
  auto open = pattern.find('{');
  if (open == std::string::npos) {
    route.prefix = pattern;
  } else {
    auto close = pattern.find('}', open);
    route.has_param = true;
    route.prefix = pattern.substr(0, open);
    route.param = pattern.substr(open + 1, close - open - 1);
    route.suffix = pattern.substr(close + 1);
    if (route.param.ends_with('*')) {
      route.multi_segment = true;
      route.param.pop_back();
    }
  }
  routes_.push_back(std::move(route));
}

void Router::dispatch(Request& request, ResponseWriter& response) const {
  auto [version, path] = split_version(request.path);
  request.api_version = version;
  request.path = path;
  bool path_matched = false;
  for (const auto& route : routes_) {
    const std::string& path = request.path;
    std::string value;
    if (!route.has_param) {
      if (path != route.prefix) continue;
    } else {
      if (path.size() <= route.prefix.size() + route.suffix.size() || !path.starts_with(route.prefix) || !path.ends_with(route.suffix))
        continue;
      value = path.substr(route.prefix.size(), path.size() - route.prefix.size() - route.suffix.size());
      if (value.empty() || (!route.multi_segment && value.find('/') != std::string::npos)) continue;
    }
    path_matched = true;
    if (route.method != request.method && !(route.method == "GET" && request.method == "HEAD")) continue;
    if (route.has_param) request.params[route.param] = url_decode(value);
    auto result = route.handler(request, response);
    if (!result && !response.started()) (void)response.json(status_for(result.error()), {{"message", result.error().message()}});
    return;
  }
  (void)response.json(path_matched ? 405 : 404, {{"message", path_matched ? "method not allowed" : "page not found"}});
}

Result<Json> read_json_body(Request& request) {
  std::string body;
  char buf[65536];
  for (size_t n; (n = TRY(request.read_body(buf, sizeof buf))) > 0;) body.append(buf, n);
  auto doc = parse_json(body.empty() ? "{}" : body);
  if (!doc || !(doc->is_object() || doc->is_null())) return fail("invalid JSON in the request body", EINVAL);
  return doc->is_null() ? Json::object() : *doc;
}

}  // namespace berth::api
