#include "runtime/hooks.h"

#include "base/subprocess.h"

namespace berth::runtime {

Result<void> run_hooks(const std::vector<oci::Hook>& hooks, const std::string& kind, const std::string& state_json) {
  for (const auto& hook : hooks) {
    Command command;
    command.path = hook.path;
    command.args = hook.args.empty() ? std::vector<std::string>{hook.path} : hook.args;
    command.env = hook.env;
    command.stdin_data = state_json;
    if (hook.timeout) command.timeout = std::chrono::seconds(*hook.timeout);
    std::string what = kind + " hook " + hook.path;
    auto result = TRY_CTX(run_command(command), what);
    if (result.timed_out) return fail(what + ": timed out after " + std::to_string(*hook.timeout) + "s");
    if (result.status == 127) return fail(what + ": cannot execute");
    if (result.status != 0) return fail(what + ": exit status " + std::to_string(result.status));
  }
  return {};
}

}  // namespace berth::runtime
