#include "base/clock.h"

#include <time.h>

#include <chrono>
#include <cstdio>

namespace berth {

// Calendar arithmetic, not gmtime_r, strftime and printf: those load the
// time zone database and the locale, which every shim would pay for.
std::string rfc3339_now() {
  using namespace std::chrono;
  auto now = system_clock::now();
  auto day = floor<days>(now);
  year_month_day date(day);
  hh_mm_ss time(floor<nanoseconds>(now - day));
  std::string out = "0000-00-00T00:00:00.000000000Z";
  auto put = [&](size_t at, size_t width, uint64_t value) {
    for (size_t i = at + width; i > at; value /= 10) out[--i] = static_cast<char>('0' + value % 10);
  };
  put(0, 4, static_cast<uint64_t>(static_cast<int>(date.year())));
  put(5, 2, static_cast<unsigned>(date.month()));
  put(8, 2, static_cast<unsigned>(date.day()));
  put(11, 2, static_cast<uint64_t>(time.hours().count()));
  put(14, 2, static_cast<uint64_t>(time.minutes().count()));
  put(17, 2, static_cast<uint64_t>(time.seconds().count()));
  put(20, 9, static_cast<uint64_t>(time.subseconds().count()));
  return out;
}

int64_t rfc3339_to_unix(const std::string& text) {
  tm t{};
  if (!strptime(text.c_str(), "%Y-%m-%dT%H:%M:%S", &t)) return 0;
  return static_cast<int64_t>(timegm(&t));
}

std::string human_duration(int64_t seconds) {
  auto plural = [](int64_t n, const char* unit) { return std::to_string(n) + " " + unit + (n == 1 ? "" : "s"); };
  if (seconds < 1) return "Less than a second";
  if (seconds == 1) return "1 second";
  if (seconds < 60) return plural(seconds, "second");
  int64_t minutes = seconds / 60;
  if (minutes == 1) return "About a minute";
  if (minutes < 60) return plural(minutes, "minute");
  int64_t hours = minutes / 60;
  if (hours == 1) return "About an hour";
  if (hours < 48) return plural(hours, "hour");
  if (hours < 24 * 7 * 2) return plural(hours / 24, "day");
  if (hours < 24 * 30 * 2) return plural(hours / 24 / 7, "week");
  if (hours < 24 * 365 * 2) return plural(hours / 24 / 30, "month");
  return plural(hours / 24 / 365, "year");
}

}  // namespace berth
