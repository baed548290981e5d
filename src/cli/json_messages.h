// A daemon's stream of JSON messages (pull, push) shown as the docker CLI
// shows it: on a terminal one line per layer, redrawn in place with its
// progress bar; otherwise plain lines without the bars.
#pragma once

#include <map>
#include <ostream>
#include <string>
#include <string_view>

#include "base/error.h"
#include "base/json.h"

namespace berth::cli {

class MessageDisplay {
 public:
  MessageDisplay(std::ostream& out, bool terminal) : out_(out), terminal_(terminal) {}

  // Takes the stream as it comes (lines may be split); the stream's error
  // message ({"error": …}) becomes the error.
  Result<void> feed(std::string_view data);
  // The aux objects (push: {"Tag", "Digest", "Size"}), in order.
  const Json& aux() const { return aux_; }

 private:
  Result<void> show(const Json& message);

  std::ostream& out_;
  bool terminal_;
  std::string pending_;
  std::map<std::string, size_t> lines_;  // id → its line among the progress lines
  Json aux_ = Json::array();
};

}  // namespace berth::cli
