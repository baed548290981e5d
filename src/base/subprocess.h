// Running other programs: hooks, helper tools.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include "base/error.h"

namespace berth {

struct Command {
  std::string path;                           // executable; looked up in PATH when it has no '/'
  std::vector<std::string> args;              // argv, including argv[0]
  std::optional<std::vector<std::string>> env;  // the caller's environment when empty
  std::string stdin_data;                     // written to the child's stdin, then closed
  bool capture_stdout = false;
  std::optional<std::chrono::milliseconds> timeout;  // SIGKILL when it expires
};

struct CommandResult {
  int status = 0;      // exit code, or 128+N when killed by signal N
  bool timed_out = false;
  std::string output;  // stdout when captured
};

Result<CommandResult> run_command(const Command& command);

// Exit status as a shell reports it: the code, or 128+N for signal N.
int exit_status_from_wait(int wstatus);

// pidfd_open(2): a descriptor that becomes readable when the process exits.
Result<int> pidfd_open(pid_t pid);

}  // namespace berth
