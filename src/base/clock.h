// Timestamps as Docker and the OCI specs write them.
#pragma once

#include <cstdint>
#include <string>

namespace berth {

// Now, in RFC 3339 with nanoseconds, UTC: "2026-11-23T05:07:02.123456789Z".
std::string rfc3339_now();

// Unix seconds of an RFC 3339 time (fraction and zone "Z" ignored); 0 if malformed.
int64_t rfc3339_to_unix(const std::string& text);

// Seconds as Docker's units.HumanDuration: "Less than a second", "About a
// minute", "3 hours", "2 weeks".
std::string human_duration(int64_t seconds);

}  // namespace berth
