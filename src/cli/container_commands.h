// berth's container commands, in both forms (`ps` and `container ls`, …).
#pragma once

#include <CLI/CLI.hpp>

#include "cli/context.h"

namespace berth::cli {

void add_container_commands(CLI::App& app, Context& ctx);
// create, run, start, attach, exec (streaming a container's stdio).
void add_run_commands(CLI::App& app, CLI::App& container, Context& ctx);
// cp, diff, export, commit.
void add_file_commands(CLI::App& app, CLI::App& container, Context& ctx);

}  // namespace berth::cli
