// The Engine API routes berthd serves, grouped by resource.
#pragma once

#include "api/router.h"
#include "engine/engine.h"

namespace berth::api {

void add_system_routes(Router& router, engine::Engine& engine);
void add_image_routes(Router& router, engine::Engine& engine);
void add_container_routes(Router& router, engine::Engine& engine);
void add_exec_routes(Router& router, engine::Engine& engine);
void add_container_file_routes(Router& router, engine::Engine& engine);
// /images/{name}/push, /images/search, /auth.
void add_registry_routes(Router& router, engine::Engine& engine);

// POST /images/create?fromImage=NAME[&tag=TAG|DIGEST]: a pull, streamed as
// progress messages; without a tag, every tag of the repository.
Result<void> pull_image(Request& request, ResponseWriter& response, engine::Engine& engine);

// The images part of GET /system/df: {"LayersSize", "Images"}.
Result<Json> disk_usage_images(engine::Engine& engine);

// The containers part of GET /system/df: summaries with SizeRw.
Json disk_usage_containers(engine::Engine& engine);

// A request body of a JSON object; empty or null is {}.
Result<Json> read_json_body(Request& request);

// Docker's filters parameter: {"key":{"value":true}} or {"key":["value"]}.
Result<std::map<std::string, std::vector<std::string>>> parse_filters(const std::string& text);

}  // namespace berth::api
