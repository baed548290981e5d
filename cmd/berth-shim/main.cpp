// berth-shim: holds one container (or exec) process on behalf of berthd.
#include "shim/shim.h"

int main(int argc, char** argv) { return berth::shim::shim_main(argc, argv); }
