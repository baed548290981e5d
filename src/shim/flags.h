// Command-line flags of the shim executables. berthd (or berth-shim-start)
// is the only caller: "--flag value" pairs and bare switches, no CLI library
// (a shim's memory is paid for per container).
#pragma once

#include <map>
#include <string>

#include "base/error.h"

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

}  // namespace berth::shim
