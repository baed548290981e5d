#include "cli/help.h"

#include <algorithm>
#include <sstream>

namespace berth::cli {

namespace {

// "berth image ls": the command path from the top.
std::string command_path(const CLI::App* app) {
  std::string path;
  for (const CLI::App* a = app; a; a = a->get_parent()) path = a->get_name() + (path.empty() ? "" : " " + path);
  return path;
}

std::string option_names(const CLI::Option* opt) {
  std::string shorts, longs;
  for (const auto& s : opt->get_snames()) shorts += (shorts.empty() ? "-" : ", -") + s;
  for (const auto& l : opt->get_lnames()) longs += (longs.empty() ? "--" : ", --") + l;
  std::string names = shorts.empty() ? "    " + longs : shorts + (longs.empty() ? "" : ", " + longs);
  // Flags take no value; others show the kind of value, as Docker does.
  if (opt->get_expected_max() != 0 && opt->get_type_size_max() != 0) names += opt->get_items_expected_max() > 1 ? " list" : " string";
  return names;
}

void columns(std::ostringstream& out, const std::vector<std::pair<std::string, std::string>>& rows) {
  size_t width = 0;
  for (const auto& [left, right] : rows) width = std::max(width, left.size());
  for (const auto& [left, right] : rows) out << "  " << left << std::string(width - left.size() + 3, ' ') << right << "\n";
}

}  // namespace

std::string DockerHelp::make_help(const CLI::App* app, std::string, CLI::AppFormatMode) const {
  std::ostringstream out;
  std::string usage = command_path(app);
  auto options = app->get_options([](const CLI::Option* o) { return !o->get_positional() && o->get_name() != "--help"; });
  bool has_options = std::ranges::any_of(options, [](const CLI::Option* o) { return o->get_name() != "--help"; });
  if (has_options) usage += " [OPTIONS]";
  auto subcommands = app->get_subcommands([](const CLI::App*) { return true; });
  if (!subcommands.empty()) usage += " COMMAND";
  for (const CLI::Option* pos : app->get_options([](const CLI::Option* o) { return o->get_positional(); })) {
    std::string word = pos->get_description().empty() ? pos->get_name() : pos->get_description();
    if (pos->get_items_expected_max() > 1) word += " [" + word + "...]";
    usage += " " + (pos->get_required() ? word : "[" + word + "]");
  }
  out << "\nUsage:  " << usage << "\n\n" << app->get_description() << "\n";
  if (has_options) {
    std::vector<std::pair<std::string, std::string>> rows;
    for (const CLI::Option* opt : options) rows.emplace_back(option_names(opt), opt->get_description());
    out << "\nOptions:\n";
    columns(out, rows);
  }
  if (!subcommands.empty()) {
    std::vector<std::pair<std::string, std::string>> rows;
    for (const CLI::App* sub : subcommands) rows.emplace_back(sub->get_name(), sub->get_description());
    out << "\nCommands:\n";
    columns(out, rows);
    out << "\nRun '" << command_path(app) << " COMMAND --help' for more information on a command.\n";
  }
  return out.str();
}

}  // namespace berth::cli
