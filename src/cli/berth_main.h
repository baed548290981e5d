// The berth command line: Docker's commands and flags, against berthd.
#pragma once

namespace berth::cli {

int berth_main(int argc, char** argv);

}  // namespace berth::cli
