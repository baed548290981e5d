// pull, push, login, logout, search: the registry commands.
#pragma once

#include <CLI/CLI.hpp>
#include <ostream>
#include <string>

#include "cli/context.h"

namespace berth::cli {

void add_registry_commands(CLI::App& app, CLI::App& image, Context& ctx);

// Pulls image (a reference; no tag means latest) showing the daemon's
// progress on out; what `run` and `create` do for a missing image.
Result<void> pull_image(const Context& ctx, const std::string& image, const std::string& platform, std::ostream& out);

}  // namespace berth::cli
