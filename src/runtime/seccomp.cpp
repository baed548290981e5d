#include "runtime/seccomp.h"

#include <seccomp.h>

#include <memory>

namespace berth::runtime {

namespace {

using Filter = std::unique_ptr<void, void (*)(scmp_filter_ctx)>;

Result<uint32_t> parse_action(const std::string& action, std::optional<uint32_t> errno_ret, const std::string& path) {
  if (action == "SCMP_ACT_ALLOW") return SCMP_ACT_ALLOW;
  if (action == "SCMP_ACT_KILL" || action == "SCMP_ACT_KILL_THREAD") return SCMP_ACT_KILL_THREAD;
  if (action == "SCMP_ACT_KILL_PROCESS") return SCMP_ACT_KILL_PROCESS;
  if (action == "SCMP_ACT_TRAP") return SCMP_ACT_TRAP;
  if (action == "SCMP_ACT_LOG") return SCMP_ACT_LOG;
  if (action == "SCMP_ACT_ERRNO") return SCMP_ACT_ERRNO(errno_ret.value_or(EPERM));
  if (action == "SCMP_ACT_TRACE") return SCMP_ACT_TRACE(errno_ret.value_or(EPERM));
  if (action == "SCMP_ACT_NOTIFY") return fail(path + ": SCMP_ACT_NOTIFY is not supported");
  return fail(path + ": unknown action \"" + action + "\"");
}

Result<scmp_compare> parse_op(const std::string& op, const std::string& path) {
  if (op == "SCMP_CMP_NE") return SCMP_CMP_NE;
  if (op == "SCMP_CMP_LT") return SCMP_CMP_LT;
  if (op == "SCMP_CMP_LE") return SCMP_CMP_LE;
  if (op == "SCMP_CMP_EQ") return SCMP_CMP_EQ;
  if (op == "SCMP_CMP_GE") return SCMP_CMP_GE;
  if (op == "SCMP_CMP_GT") return SCMP_CMP_GT;
  if (op == "SCMP_CMP_MASKED_EQ") return SCMP_CMP_MASKED_EQ;
  return fail(path + ": unknown operator \"" + op + "\"");
}

Result<uint32_t> parse_arch(const std::string& arch) {
  // "SCMP_ARCH_X86_64" → "x86_64", the name seccomp_arch_resolve_name takes.
  std::string name = arch.starts_with("SCMP_ARCH_") ? arch.substr(10) : arch;
  for (char& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  uint32_t token = seccomp_arch_resolve_name(name.c_str());
  if (token == 0) return fail("linux.seccomp.architectures: unknown architecture \"" + arch + "\"");
  return token;
}

Result<Filter> compile(const oci::Seccomp& profile) {
  uint32_t default_action = TRY(parse_action(profile.default_action, profile.default_errno_ret, "linux.seccomp.defaultAction"));
  Filter filter(seccomp_init(default_action), seccomp_release);
  if (!filter) return fail("linux.seccomp: cannot initialise the filter");
  // libseccomp sets no_new_privs before loading unless told not to; the
  // process spec's noNewPrivileges alone decides that.
  seccomp_attr_set(filter.get(), SCMP_FLTATR_CTL_NNP, 0);
  for (const auto& arch : profile.architectures) {
    uint32_t token = TRY(parse_arch(arch));
    int rc = seccomp_arch_add(filter.get(), token);
    if (rc != 0 && rc != -EEXIST) return fail_errno("linux.seccomp: add architecture " + arch, -rc);
  }
  for (const auto& flag : profile.flags) {
    if (flag == "SECCOMP_FILTER_FLAG_LOG")
      seccomp_attr_set(filter.get(), SCMP_FLTATR_CTL_LOG, 1);
    else if (flag == "SECCOMP_FILTER_FLAG_SPEC_ALLOW")
      seccomp_attr_set(filter.get(), SCMP_FLTATR_CTL_SSB, 1);
    else if (flag == "SECCOMP_FILTER_FLAG_TSYNC")
      seccomp_attr_set(filter.get(), SCMP_FLTATR_CTL_TSYNC, 1);
    else
      return fail("linux.seccomp.flags: unknown flag \"" + flag + "\"");
  }
  // libseccomp refuses a rule whose action is the default one; such a rule
  // changes nothing, so it is skipped.
  for (size_t i = 0; i < profile.syscalls.size(); ++i) {
    const auto& rule = profile.syscalls[i];
    std::string path = "linux.seccomp.syscalls[" + std::to_string(i) + "]";
    uint32_t action = TRY(parse_action(rule.action, rule.errno_ret, path + ".action"));
    if (action == default_action) continue;
    std::vector<scmp_arg_cmp> conditions;
    bool repeated_index = false;
    for (size_t a = 0; a < rule.args.size(); ++a) {
      const auto& arg = rule.args[a];
      scmp_compare op = TRY(parse_op(arg.op, path + ".args[" + std::to_string(a) + "].op"));
      for (const auto& seen : conditions)
        if (seen.arg == arg.index) repeated_index = true;
      conditions.push_back({arg.index, op, arg.value, arg.value_two});
    }
    for (const auto& name : rule.names) {
      int nr = seccomp_syscall_resolve_name(name.c_str());
      // Profiles list syscalls newer than this libseccomp or absent on this
      // architecture; runc and crun skip them, and so do we.
      if (nr == __NR_SCMP_ERROR) continue;
      int rc = 0;
      if (repeated_index) {
        // Two conditions on one argument cannot be ANDed by libseccomp; as
        // runc does, each becomes its own rule (matching any of them).
        for (const auto& cond : conditions) {
          rc = seccomp_rule_add_array(filter.get(), action, nr, 1, &cond);
          if (rc != 0) break;
        }
      } else {
        rc = seccomp_rule_add_array(filter.get(), action, nr, static_cast<unsigned>(conditions.size()), conditions.data());
      }
      if (rc != 0) return fail_errno(path + ": add rule for " + name, -rc);
    }
  }
  return filter;
}

}  // namespace

Result<void> validate_seccomp(const oci::Seccomp& profile) {
  TRY(compile(profile));
  return {};
}

Result<void> load_seccomp(const oci::Seccomp& profile) {
  auto filter = TRY(compile(profile));
  int rc = seccomp_load(filter.get());
  if (rc != 0) return fail_errno("load seccomp filter", -rc);
  return {};
}

}  // namespace berth::runtime
