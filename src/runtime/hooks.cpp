#include "runtime/hooks.h"

#include "base/file.h"
#include "base/subprocess.h"

namespace berth::runtime {

namespace {

Result<void> run_hook(const oci::Hook& hook, const std::string& kind, const std::string& state_json) {
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
  return {};
}

}  // namespace

Result<void> run_hooks(const std::vector<oci::Hook>& hooks, const std::string& kind, const std::string& state_json) {
  for (const auto& hook : hooks) TRY(run_hook(hook, kind, state_json));
  return {};
}

void run_hooks_warning(const std::vector<oci::Hook>& hooks, const std::string& kind, const std::string& state_json) {
  for (const auto& hook : hooks)
    if (auto result = run_hook(hook, kind, state_json); !result)
      (void)write_all(2, "berth-runtime: warning: " + result.error().message() + "\n");
}

}  // namespace berth::runtime
