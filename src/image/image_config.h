// The Docker image config (v1.2, which OCI's image config is a subset of)
// and Dockerfile-style changes to it, as `import --change` takes them.
#pragma once

#include <string>
#include <vector>

#include "base/error.h"
#include "base/json.h"

namespace berth::image {

// A config for an image of one layer imported from a tarball.
Json import_config(const std::string& diff_id, const std::string& created, const std::string& comment);

// Applies one change ("CMD [\"sh\"]", "ENV A=b C=d", "EXPOSE 80/tcp", …) to
// config["config"]. Unsupported instructions are errors, as in Docker.
Result<void> apply_change(Json& config, std::string_view change);

}  // namespace berth::image
