// berth-runtime: the OCI runtime command line, as runc and crun have it.
#include "cli/runtime_commands.h"

int main(int argc, char** argv) { return berth::cli::runtime_main(argc, argv); }
