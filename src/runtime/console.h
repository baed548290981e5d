// Terminals: the container's pty, and passing its master to whoever holds
// the --console-socket.
#pragma once

#include <string>

#include "base/error.h"
#include "base/unique_fd.h"
#include "oci/runtime_spec.h"

namespace berth::runtime {

struct Pty {
  UniqueFd master;
  UniqueFd slave;
  std::string slave_path;
};

// Opens a pty from the devpts instance at /dev/ptmx (the container's, once
// pivoted) and sets its size when given.
Result<Pty> open_pty(const std::optional<oci::ConsoleSize>& size);

// Makes the pty the session's controlling terminal and stdin/out/err.
Result<void> attach_controlling_terminal(int slave_fd);

// Sends fd over a unix socket with SCM_RIGHTS, as runc's console socket protocol does.
Result<void> send_fd(int socket_fd, int fd, const std::string& name);
Result<UniqueFd> receive_fd(int socket_fd);

// Connects to the unix socket at path.
Result<UniqueFd> connect_unix(const std::string& path);

}  // namespace berth::runtime
