// berth-shim: holds one container's process for berthd, once
// berth-shim-start has created it (see shim/server.h).
#include "shim/server.h"

int main(int argc, char** argv) { return berth::shim::serve_main(argc, argv); }
