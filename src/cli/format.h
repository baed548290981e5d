// Output as Docker prints it: --format templates (with the "table" and
// "json" forms), tab-aligned tables, human sizes and durations.
#pragma once

#include "base/clock.h"

#include <cstdint>
#include <ostream>
#include <string>
#include <vector>

#include "base/error.h"
#include "base/json.h"

namespace berth::cli {

// Rows through a --format: "table TEMPLATE" prints headers (rendered from
// `headers`, a row whose fields are column titles) and aligned columns;
// "json" prints each row as JSON; any other template prints one line per row.
Result<void> print_rows(std::ostream& out, const std::string& format, const std::vector<Json>& rows, const Json& headers);

// Go's text/tabwriter as Docker configures it (min width 10, padding 3).
std::string align_tabs(const std::string& text);

// 1980000 → "1.98MB" (decimal units, 3 significant digits).
std::string human_size(int64_t bytes);
// 2048000 → "1.953MiB" (binary units, 4 significant digits, as Docker's BytesSize).
std::string binary_size(double bytes);
// "About a minute ago" for a Unix time.
std::string time_ago(int64_t unix_seconds);

}  // namespace berth::cli
