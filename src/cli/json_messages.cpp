#include "cli/json_messages.h"

namespace berth::cli {

Result<void> MessageDisplay::feed(std::string_view data) {
  pending_.append(data);
  for (size_t newline; (newline = pending_.find('\n')) != std::string::npos;) {
    std::string line = pending_.substr(0, newline);
    pending_.erase(0, newline + 1);
    if (line.empty()) continue;
    auto message = parse_json(line);
    if (!message || !message->is_object()) return fail("invalid message from the daemon: " + line, EPROTO);
    TRY(show(*message));
  }
  return {};
}

Result<void> MessageDisplay::show(const Json& m) {
  if (m.contains("error") || m.contains("errorDetail")) {
    std::string text = m.contains("errorDetail") && m["errorDetail"].contains("message") ? m["errorDetail"]["message"].get<std::string>()
                                                                                          : m.value("error", "unknown error");
    return fail(text, EIO);
  }
  if (m.contains("aux")) {
    aux_.push_back(m["aux"]);
    return {};
  }
  std::string id = m.value("id", "");
  std::string status = m.value("status", "");
  bool has_progress = m.contains("progressDetail");
  std::string bar = m.value("progress", "");
  if (!terminal_ && !bar.empty()) return {};  // bars only on a terminal
  size_t up = 0;
  if (!id.empty() && has_progress) {
    auto [it, added] = lines_.emplace(id, lines_.size());
    if (added && terminal_) out_ << "\n";
    up = lines_.size() - it->second;
    if (terminal_) out_ << "\x1b[" << up << "A";
  } else {
    lines_.clear();  // other output ends the block of lines being redrawn
  }
  if (terminal_) out_ << "\x1b[2K\r";
  if (!id.empty()) out_ << id << ": ";
  out_ << status;
  if (terminal_ && !bar.empty()) out_ << " " << bar;
  if (terminal_ && has_progress) out_ << "\r";
  else out_ << "\n";
  if (terminal_ && up > 0) out_ << "\x1b[" << up << "B";
  out_.flush();
  return {};
}

}  // namespace berth::cli
