// berth-registry's command line: `serve` runs the distribution server.
#pragma once

namespace berth::registry {

int registry_main(int argc, char** argv);

}  // namespace berth::registry
