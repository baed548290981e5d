// Signal names as kill(1), runc and Docker accept them.
#pragma once

#include <string>

#include "base/error.h"

namespace berth::runtime {

// Parses "TERM", "SIGTERM", "sigterm", "15" or "RTMIN+3" into a signal number.
Result<int> parse_signal(std::string_view text);

// "SIGTERM" for 15; the number as text for signals without a name.
std::string signal_name(int signal);

}  // namespace berth::runtime
