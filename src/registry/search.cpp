#include "registry/search.h"

namespace berth::registry {

Result<Json> search(Session& session, const std::string& term, int limit) {
  HttpRequest request{.url = "/v1/search?q=" + url_escape(term) + "&n=" + std::to_string(limit)};
  auto response = TRY(session.send(std::move(request), ""));
  if (response.status != 200) return fail("Unexpected status code " + std::to_string(response.status), EIO);
  auto doc = parse_json(response.body);
  if (!doc || !doc->is_object() || !doc->contains("results") || !(*doc)["results"].is_array())
    return fail("invalid search response from " + session.domain(), EPROTO);
  return (*doc)["results"];
}

}  // namespace berth::registry
