// berth-registry: the private registry server (OCI distribution API).
#include "registry/registry_main.h"

int main(int argc, char** argv) { return berth::registry::registry_main(argc, argv); }
