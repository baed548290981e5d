#include "base/error.h"

#include <cctype>
#include <cstring>

namespace berth {

std::string errno_text(int err) {
  std::string text = strerror(err);
  if (!text.empty()) text[0] = static_cast<char>(std::tolower(static_cast<unsigned char>(text[0])));
  return text;
}

Error Error::from_errno(std::string what, int err) {
  return Error(std::move(what) + ": " + errno_text(err), err);
}

Error& Error::wrap(std::string_view context) & {
  message_.insert(0, std::string(context) + ": ");
  return *this;
}

Error&& Error::wrap(std::string_view context) && { return std::move(wrap(context)); }

}  // namespace berth
