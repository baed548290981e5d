// --help laid out as Docker's: "Usage:  berth images [OPTIONS] [REPOSITORY[:TAG]]",
// the description, then Options and Commands with Docker's column style.
#pragma once

#include <CLI/CLI.hpp>

namespace berth::cli {

class DockerHelp : public CLI::Formatter {
 public:
  std::string make_help(const CLI::App* app, std::string name, CLI::AppFormatMode mode) const override;
};

}  // namespace berth::cli
