#include "cli/format.h"

#include <time.h>

#include <algorithm>
#include <cstdio>
#include <sstream>
#include <vector>

#include "cli/template.h"

namespace berth::cli {

namespace {

// value in the largest unit under it, with digits significant digits.
std::string scaled(double value, double base, const std::vector<const char*>& units, int digits) {
  size_t unit = 0;
  while (value >= base && unit + 1 < units.size()) {
    value /= base;
    ++unit;
  }
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.*g%s", digits, value, units[unit]);
  return buf;
}

}  // namespace

std::string human_size(int64_t bytes) {
  return scaled(static_cast<double>(bytes), 1000, {"B", "kB", "MB", "GB", "TB", "PB", "EB"}, 3);
}

// Docker's units.BytesSize: binary units, four significant digits ("1.953MiB").
std::string binary_size(double bytes) { return scaled(bytes, 1024, {"B", "KiB", "MiB", "GiB", "TiB", "PiB"}, 4); }

std::string time_ago(int64_t unix_seconds) { return human_duration(static_cast<int64_t>(::time(nullptr)) - unix_seconds) + " ago"; }

namespace {

// Characters, not bytes: "…" is one column.
size_t display_width(const std::string& text) {
  return static_cast<size_t>(std::ranges::count_if(text, [](char c) { return (static_cast<unsigned char>(c) & 0xC0) != 0x80; }));
}

}  // namespace

std::string align_tabs(const std::string& text) {
  constexpr size_t kMinWidth = 10, kPadding = 3;
  std::vector<std::vector<std::string>> lines;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    std::vector<std::string> cells;
    size_t start = 0;
    for (size_t tab; (tab = line.find('\t', start)) != std::string::npos; start = tab + 1) cells.push_back(line.substr(start, tab - start));
    cells.push_back(line.substr(start));
    lines.push_back(std::move(cells));
  }
  std::vector<size_t> widths;
  for (const auto& cells : lines)
    for (size_t i = 0; i + 1 < cells.size(); ++i) {
      if (widths.size() <= i) widths.push_back(kMinWidth);
      widths[i] = std::max(widths[i], display_width(cells[i]) + kPadding);
    }
  std::string out;
  for (const auto& cells : lines) {
    for (size_t i = 0; i < cells.size(); ++i) {
      out += cells[i];
      if (i + 1 < cells.size()) out += std::string(widths[i] - display_width(cells[i]), ' ');
    }
    out += '\n';
  }
  return out;
}

Result<void> print_rows(std::ostream& out, const std::string& format, const std::vector<Json>& rows, const Json& headers) {
  if (format == "json") {
    for (const auto& row : rows) out << row.dump() << "\n";
    return {};
  }
  bool table = format.starts_with("table");
  std::string body = table ? format.substr(5) : format;
  if (table && !body.empty() && (body[0] == ' ' || body[0] == '\t')) body.erase(0, 1);
  // Docker's format strings spell tabs and newlines as \t and \n.
  for (auto [from, to] : {std::pair{"\\t", "\t"}, std::pair{"\\n", "\n"}}) {
    for (size_t at; (at = body.find(from)) != std::string::npos;) body.replace(at, 2, to);
  }
  auto tmpl = Template::parse(body);
  if (!tmpl) return fail("template parsing error: " + tmpl.error().message());
  std::string text;
  if (table) text += TRY(tmpl->execute(headers)) + "\n";
  for (const auto& row : rows) {
    auto line = tmpl->execute(row);
    if (!line) return fail("template parsing error: " + line.error().message());
    text += *line + "\n";
  }
  out << (table ? align_tabs(text) : text);
  return {};
}

}  // namespace berth::cli
