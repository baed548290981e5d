// berth: the command line client, as docker's.
#include "cli/berth_main.h"

int main(int argc, char** argv) { return berth::cli::berth_main(argc, argv); }
