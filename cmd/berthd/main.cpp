// berthd: the daemon, speaking the Docker Engine API on a unix socket.
#include "api/daemon.h"

int main(int argc, char** argv) { return berth::api::daemon_main(argc, argv); }
