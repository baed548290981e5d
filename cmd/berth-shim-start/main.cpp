// berth-shim-start: what berthd runs for a container or an exec (see shim/shim.h).
#include "shim/shim.h"

int main(int argc, char** argv) { return berth::shim::shim_main(argc, argv); }
