// berth's image commands, in both forms (`images` and `image ls`, …).
#pragma once

#include <CLI/CLI.hpp>

#include "cli/context.h"

namespace berth::cli {

void add_image_commands(CLI::App& app, Context& ctx);
void add_system_commands(CLI::App& app, Context& ctx);
// inspect for kind "image", "container", or "" (either).
void add_inspect(CLI::App* cmd, Context& ctx, const std::string& kind);

}  // namespace berth::cli
