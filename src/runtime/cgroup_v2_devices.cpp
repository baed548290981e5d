// Device access rules on cgroup v2: a BPF_PROG_TYPE_CGROUP_DEVICE program
// built from the rule list. Rules are tested last to first and the first
// match decides, which is how v1's devices.allow/deny list behaves when
// written in order; no match allows, as a fresh v1 cgroup does.
#include <fcntl.h>
#include <linux/bpf.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cstring>
#include <vector>

#include "base/unique_fd.h"
#include "runtime/cgroup_impl.h"

namespace berth::runtime {

namespace {

struct Rule {
  bool allow;
  char type;  // 'a' 'c' 'b'
  int64_t major, minor;  // -1: any
  uint32_t access;       // BPF_DEVCG_ACC_* bits
};

uint32_t access_bits(std::string_view access) {
  if (access.empty()) access = "rwm";
  uint32_t bits = 0;
  for (char c : access) bits |= c == 'r' ? BPF_DEVCG_ACC_READ : c == 'w' ? BPF_DEVCG_ACC_WRITE : BPF_DEVCG_ACC_MKNOD;
  return bits;
}

bpf_insn insn(uint8_t code, uint8_t dst, uint8_t src, int16_t off, int32_t imm) {
  bpf_insn i;
  std::memset(&i, 0, sizeof i);
  i.code = code;
  i.dst_reg = dst & 0xf;
  i.src_reg = src & 0xf;
  i.off = off;
  i.imm = imm;
  return i;
}

// The checks of one rule followed by "return allow"; every failed check
// jumps past the block to the next rule.
std::vector<bpf_insn> rule_block(const Rule& rule) {
  std::vector<bpf_insn> checks;
  auto jump_unless_equal = [&](uint8_t reg, int32_t value) { checks.push_back(insn(BPF_JMP | BPF_JNE | BPF_K, reg, 0, 0, value)); };
  if (rule.type != 'a') jump_unless_equal(BPF_REG_2, rule.type == 'c' ? BPF_DEVCG_DEV_CHAR : BPF_DEVCG_DEV_BLOCK);
  if (rule.major >= 0) jump_unless_equal(BPF_REG_4, static_cast<int32_t>(rule.major));
  if (rule.minor >= 0) jump_unless_equal(BPF_REG_5, static_cast<int32_t>(rule.minor));
  // An allow rule must cover every requested access bit; a deny rule
  // matches when it shares any bit with the request.
  checks.push_back(insn(BPF_ALU64 | BPF_MOV | BPF_X, BPF_REG_1, BPF_REG_3, 0, 0));
  checks.push_back(insn(BPF_ALU64 | BPF_AND | BPF_K, BPF_REG_1, 0, 0,
                        static_cast<int32_t>(rule.allow ? ~rule.access & 7 : rule.access)));
  checks.push_back(insn(BPF_JMP | (rule.allow ? BPF_JNE : BPF_JEQ) | BPF_K, BPF_REG_1, 0, 0, 0));
  checks.push_back(insn(BPF_ALU64 | BPF_MOV | BPF_K, BPF_REG_0, 0, 0, rule.allow ? 1 : 0));
  checks.push_back(insn(BPF_JMP | BPF_EXIT, 0, 0, 0, 0));
  // Point every conditional jump at the instruction after the block.
  int size = static_cast<int>(checks.size());
  for (int i = 0; i < size; ++i)
    if ((checks[i].code & 0x07) == BPF_JMP && (checks[i].code & 0xf0) != BPF_EXIT) checks[i].off = static_cast<int16_t>(size - i - 1);
  return checks;
}

std::vector<bpf_insn> build_program(const std::vector<Rule>& rules) {
  std::vector<bpf_insn> prog = {
      insn(BPF_LDX | BPF_MEM | BPF_W, BPF_REG_2, BPF_REG_1, 0, 0),  // access_type
      insn(BPF_ALU | BPF_AND | BPF_K, BPF_REG_2, 0, 0, 0xffff),      // device type
      insn(BPF_LDX | BPF_MEM | BPF_W, BPF_REG_3, BPF_REG_1, 0, 0),
      insn(BPF_ALU | BPF_RSH | BPF_K, BPF_REG_3, 0, 0, 16),          // access bits
      insn(BPF_LDX | BPF_MEM | BPF_W, BPF_REG_4, BPF_REG_1, 4, 0),  // major
      insn(BPF_LDX | BPF_MEM | BPF_W, BPF_REG_5, BPF_REG_1, 8, 0),  // minor
  };
  for (auto it = rules.rbegin(); it != rules.rend(); ++it) {
    auto block = rule_block(*it);
    prog.insert(prog.end(), block.begin(), block.end());
  }
  prog.push_back(insn(BPF_ALU64 | BPF_MOV | BPF_K, BPF_REG_0, 0, 0, 1));
  prog.push_back(insn(BPF_JMP | BPF_EXIT, 0, 0, 0, 0));
  return prog;
}

}  // namespace

Result<void> attach_device_filter(const std::string& dir, const std::vector<oci::DeviceRule>& rules,
                                  const std::vector<oci::Device>& devices) {
  std::vector<Rule> all;
  for (const auto& r : rules)
    all.push_back({r.allow, r.type.empty() ? 'a' : r.type[0], r.major.value_or(-1), r.minor.value_or(-1), access_bits(r.access)});
  for (const auto& d : kDefaultDeviceRules) all.push_back({true, d.type, d.major, d.minor, access_bits(d.access)});
  for (const auto& d : devices)
    if (d.type != "p") all.push_back({true, d.type == "b" ? 'b' : 'c', d.major, d.minor, access_bits("rwm")});
  auto prog = build_program(all);

  static char license[] = "Apache";
  bpf_attr load;
  std::memset(&load, 0, sizeof load);
  load.prog_type = BPF_PROG_TYPE_CGROUP_DEVICE;
  load.insns = reinterpret_cast<uint64_t>(prog.data());
  load.insn_cnt = static_cast<uint32_t>(prog.size());
  load.license = reinterpret_cast<uint64_t>(license);
  UniqueFd prog_fd(static_cast<int>(::syscall(SYS_bpf, BPF_PROG_LOAD, &load, sizeof load)));
  if (!prog_fd) return fail_errno("load the device filter program");

  UniqueFd cgroup_fd(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!cgroup_fd) return fail_errno("open " + dir);
  bpf_attr attach;
  std::memset(&attach, 0, sizeof attach);
  attach.target_fd = static_cast<uint32_t>(cgroup_fd.get());
  attach.attach_bpf_fd = static_cast<uint32_t>(prog_fd.get());
  attach.attach_type = BPF_CGROUP_DEVICE;
  attach.attach_flags = BPF_F_ALLOW_MULTI;
  if (::syscall(SYS_bpf, BPF_PROG_ATTACH, &attach, sizeof attach) != 0) return fail_errno("attach the device filter to " + dir);
  return {};
}

}  // namespace berth::runtime
