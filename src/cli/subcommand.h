// Subcommands whose options are built only when they run.
#pragma once

#include <CLI/CLI.hpp>

#include <utility>

namespace berth::cli {

// Calls add(sub) once sub is the command being parsed, before its
// arguments: building the options of every command cost each run of the
// CLI 3 ms. Names and descriptions, for `berth --help`, are there from
// the start.
template <class Add>
void lazily(CLI::App* sub, Add add) {
  sub->preparse_callback([sub, add = std::move(add)](std::size_t) { add(sub); });
}

}  // namespace berth::cli
