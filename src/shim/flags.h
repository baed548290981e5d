// Command-line flags of the shim executables. berthd (or berth-shim-start)
// is the only caller: "--flag value" pairs and bare switches, no CLI library
// (a shim's memory is paid for per container).
#pragma once

#include <cstdlib>
#include <map>
#include <string>
#include <vector>

#include "base/error.h"
#include "shim/server.h"

namespace berth::shim {

inline Result<void> parse_flags(int argc, char** argv, const std::map<std::string, std::string*>& values,
                                const std::map<std::string, bool*>& switches) {
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if (auto s = switches.find(arg); s != switches.end()) {
      *s->second = true;
    } else if (auto v = values.find(arg); v != values.end() && i + 1 < argc) {
      *v->second = argv[++i];
    } else {
      return fail("unknown or incomplete option " + arg);
    }
  }
  return {};
}

// The flags that carry ServeOptions, from berthd to berth-shim-start and on
// to berth-shim: --log, --log-max-size, --log-max-files, --tty.
inline std::vector<std::string> serve_flags(const ServeOptions& options) {
  std::vector<std::string> args;
  if (!options.log_path.empty())
    args = {"--log", options.log_path, "--log-max-size", std::to_string(options.log_options.max_size), "--log-max-files",
            std::to_string(options.log_options.max_files)};
  if (options.tty) args.push_back("--tty");
  return args;
}

// parse_flags, taking serve_flags into options too.
inline Result<void> parse_flags(int argc, char** argv, std::map<std::string, std::string*> values,
                                std::map<std::string, bool*> switches, ServeOptions& options) {
  std::string max_size, max_files;
  values.insert({{"--log", &options.log_path}, {"--log-max-size", &max_size}, {"--log-max-files", &max_files}});
  switches.insert({"--tty", &options.tty});
  TRY(parse_flags(argc, argv, values, switches));
  if (!max_size.empty()) options.log_options.max_size = std::strtoull(max_size.c_str(), nullptr, 10);
  if (!max_files.empty()) options.log_options.max_files = std::atoi(max_files.c_str());
  return {};
}

}  // namespace berth::shim
