// The messages the runtime and the processes it forks exchange over a
// SOCK_SEQPACKET socketpair while a container is set up.
#pragma once

#include <string>

#include "base/error.h"
#include "base/unique_fd.h"

namespace berth::runtime {

enum class SyncType : uint8_t {
  kGo = 1,           // parent → child: carry on (cgroup joined, maps written, hooks run)
  kUsernsCreated,    // child → parent: write the id maps now
  kChildPid,         // child → parent: the container process's pid (value)
  kRunHooks,         // child → parent: mounts are ready; run createRuntime hooks
  kCreated,          // child → parent: set up and waiting for start
  kStart,            // parent → child: start the process (run, exec)
  kError,            // child → parent: setup failed (text)
};

struct SyncMessage {
  SyncType type{};
  int64_t value = 0;
  std::string text;
};

class SyncSocket {
 public:
  SyncSocket() = default;
  explicit SyncSocket(UniqueFd fd) : fd_(std::move(fd)) {}

  // A connected pair: first for the parent, second for the child.
  static Result<std::pair<SyncSocket, SyncSocket>> make_pair();

  Result<void> send(SyncType type, int64_t value = 0, std::string_view text = {}) const;
  Result<SyncMessage> receive() const;
  // Receives and checks the type; a kError from the peer becomes the error.
  Result<SyncMessage> expect(SyncType type) const;

  int fd() const { return fd_.get(); }
  void close() { fd_.reset(); }

 private:
  UniqueFd fd_;
};

}  // namespace berth::runtime
