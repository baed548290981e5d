// The berth-runtime command line: flags parsed here, work done by
// berth::runtime::Runtime.
#pragma once

namespace berth::cli {

// Parses argv, runs the command and returns the process exit code.
int runtime_main(int argc, char** argv);

}  // namespace berth::cli
