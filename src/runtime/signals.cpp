#include "runtime/signals.h"

#include <signal.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <charconv>
#include <optional>
#include <tuple>
#include <utility>

namespace berth::runtime {

namespace {

constexpr std::array<std::pair<const char*, int>, 31> kSignals = {{
    {"HUP", SIGHUP},       {"INT", SIGINT},       {"QUIT", SIGQUIT},     {"ILL", SIGILL},     {"TRAP", SIGTRAP},
    {"ABRT", SIGABRT},     {"IOT", SIGIOT},       {"BUS", SIGBUS},       {"FPE", SIGFPE},     {"KILL", SIGKILL},
    {"USR1", SIGUSR1},     {"SEGV", SIGSEGV},     {"USR2", SIGUSR2},     {"PIPE", SIGPIPE},   {"ALRM", SIGALRM},
    {"TERM", SIGTERM},     {"STKFLT", SIGSTKFLT}, {"CHLD", SIGCHLD},     {"CONT", SIGCONT},   {"STOP", SIGSTOP},
    {"TSTP", SIGTSTP},     {"TTIN", SIGTTIN},     {"TTOU", SIGTTOU},     {"URG", SIGURG},     {"XCPU", SIGXCPU},
    {"XFSZ", SIGXFSZ},     {"VTALRM", SIGVTALRM}, {"PROF", SIGPROF},     {"WINCH", SIGWINCH}, {"IO", SIGIO},
    {"PWR", SIGPWR},
}};

std::optional<int> parse_int(std::string_view text) {
  int value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size()) return std::nullopt;
  return value;
}

}  // namespace

Result<int> parse_signal(std::string_view text) {
  std::string original(text);
  if (auto number = parse_int(text)) {
    if (*number <= 0 || *number > SIGRTMAX) return fail("invalid signal \"" + original + "\"");
    return *number;
  }
  std::string name;
  for (char c : text) name += static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  if (name.starts_with("SIG")) name.erase(0, 3);
  for (auto [n, value] : kSignals)
    if (name == n) return value;
  if (name == "SYS") return SIGSYS;
  for (auto [prefix, base, sign] : {std::tuple{"RTMIN", SIGRTMIN, 1}, std::tuple{"RTMAX", SIGRTMAX, -1}}) {
    std::string_view rest(name);
    if (!rest.starts_with(prefix)) continue;
    rest.remove_prefix(5);
    if (rest.empty()) return base;
    if (rest[0] == (sign > 0 ? '+' : '-')) {
      if (auto offset = parse_int(rest.substr(1)); offset && *offset >= 0 && base + sign * *offset >= SIGRTMIN &&
                                                    base + sign * *offset <= SIGRTMAX)
        return base + sign * *offset;
    }
  }
  return fail("invalid signal \"" + original + "\"");
}

std::string signal_name(int signal) {
  for (auto [n, value] : kSignals)
    if (value == signal && std::string_view(n) != "IOT") return std::string("SIG") + n;
  if (signal == SIGSYS) return "SIGSYS";
  return std::to_string(signal);
}

}  // namespace berth::runtime
