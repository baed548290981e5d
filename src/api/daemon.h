// berthd's command line and lifetime: open the engine, serve the API until
// SIGTERM or SIGINT.
#pragma once

namespace berth::api {

int daemon_main(int argc, char** argv);

}  // namespace berth::api
