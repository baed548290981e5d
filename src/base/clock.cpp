#include "base/clock.h"

#include <time.h>

#include <cstdio>

namespace berth {

std::string rfc3339_now() {
  timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  tm utc;
  gmtime_r(&ts.tv_sec, &utc);
  char buf[64];
  size_t n = strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &utc);
  std::snprintf(buf + n, sizeof buf - n, ".%09ldZ", ts.tv_nsec);
  return buf;
}

int64_t rfc3339_to_unix(const std::string& text) {
  tm t{};
  if (!strptime(text.c_str(), "%Y-%m-%dT%H:%M:%S", &t)) return 0;
  return static_cast<int64_t>(timegm(&t));
}

}  // namespace berth
