#include "runtime/process.h"

#include <fcntl.h>
#include <grp.h>
#include <linux/close_range.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <array>
#include <sstream>

#include "base/file.h"
#include "runtime/capabilities.h"
#include "runtime/seccomp.h"

namespace berth::runtime {

namespace {

constexpr const char* kDefaultPath = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

std::string env_value(const std::vector<std::string>& env, std::string_view key) {
  for (const auto& entry : env)
    if (entry.size() > key.size() && entry.starts_with(key) && entry[key.size()] == '=') return entry.substr(key.size() + 1);
  return {};
}

bool is_executable_file(const std::string& path) {
  struct stat st;
  return ::stat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode) && (st.st_mode & 0111);
}

Result<void> set_oom_score_adj(int value) {
  // Lowering the score needs CAP_SYS_RESOURCE; writing the value the
  // process already has is a no-op that must not fail for lack of it.
  auto current = read_file("/proc/self/oom_score_adj");
  if (current && std::stoi(*current) == value) return {};
  TRY_CTX(write_file("/proc/self/oom_score_adj", std::to_string(value)), "set oomScoreAdj");
  return {};
}

Result<void> set_io_priority(const oci::IoPriority& prio) {
  int klass = prio.klass == "IOPRIO_CLASS_RT" ? 1 : prio.klass == "IOPRIO_CLASS_BE" ? 2 : 3;
  long value = (static_cast<long>(klass) << 13) | prio.priority;
  if (::syscall(SYS_ioprio_set, 1 /* IOPRIO_WHO_PROCESS */, 0, value) != 0) return fail_errno("set ioPriority");
  return {};
}

// LSM labels only mean something when that LSM is active; like runc, a
// label for an inactive one is not an error.
Result<void> set_lsm_labels(const oci::Process& process) {
  if (!process.apparmor_profile.empty() && read_file("/sys/module/apparmor/parameters/enabled").value_or("N").starts_with("Y"))
    TRY_CTX(write_file("/proc/self/attr/apparmor/exec", "exec " + process.apparmor_profile), "apply AppArmor profile");
  if (!process.selinux_label.empty() && path_exists("/sys/fs/selinux/enforce"))
    TRY_CTX(write_file("/proc/self/attr/exec", process.selinux_label), "apply SELinux label");
  return {};
}

Result<void> set_credentials(const oci::User& user) {
  std::vector<gid_t> groups(user.additional_gids.begin(), user.additional_gids.end());
  if (::setgroups(groups.size(), groups.data()) != 0 && !(errno == EPERM && groups.empty()))
    return fail_errno("setgroups");
  if (::setresgid(user.gid, user.gid, user.gid) != 0) return fail_errno("setgid " + std::to_string(user.gid));
  if (::setresuid(user.uid, user.uid, user.uid) != 0) return fail_errno("setuid " + std::to_string(user.uid));
  return {};
}

}  // namespace

Result<int> rlimit_resource(const std::string& name) {
  static constexpr std::array<std::pair<const char*, int>, 16> kLimits = {{
      {"RLIMIT_CPU", RLIMIT_CPU},       {"RLIMIT_FSIZE", RLIMIT_FSIZE},         {"RLIMIT_DATA", RLIMIT_DATA},
      {"RLIMIT_STACK", RLIMIT_STACK},   {"RLIMIT_CORE", RLIMIT_CORE},           {"RLIMIT_RSS", RLIMIT_RSS},
      {"RLIMIT_NPROC", RLIMIT_NPROC},   {"RLIMIT_NOFILE", RLIMIT_NOFILE},       {"RLIMIT_MEMLOCK", RLIMIT_MEMLOCK},
      {"RLIMIT_AS", RLIMIT_AS},         {"RLIMIT_LOCKS", RLIMIT_LOCKS},         {"RLIMIT_SIGPENDING", RLIMIT_SIGPENDING},
      {"RLIMIT_MSGQUEUE", RLIMIT_MSGQUEUE}, {"RLIMIT_NICE", RLIMIT_NICE},       {"RLIMIT_RTPRIO", RLIMIT_RTPRIO},
      {"RLIMIT_RTTIME", RLIMIT_RTTIME},
  }};
  for (auto [n, value] : kLimits)
    if (name == n) return value;
  return fail("process.rlimits: unknown rlimit \"" + name + "\"");
}

std::vector<std::string> process_environment(const oci::Process& process) {
  std::vector<std::string> env = process.env;
  if (!env_value(env, "HOME").empty()) return env;
  std::string home = "/";
  if (auto passwd = read_file("/etc/passwd")) {
    std::istringstream in(*passwd);
    std::string line;
    while (std::getline(in, line)) {
      std::vector<std::string> fields;
      std::istringstream fs(line);
      std::string field;
      while (std::getline(fs, field, ':')) fields.push_back(field);
      if (fields.size() >= 6 && fields[2] == std::to_string(process.user.uid)) {
        home = fields[5];
        break;
      }
    }
  }
  env.push_back("HOME=" + home);
  return env;
}

Result<std::string> find_executable(const oci::Process& process) {
  const std::string& name = process.args.front();
  if (name.find('/') != std::string::npos) {
    std::string path = name.starts_with('/') ? name : process.cwd + "/" + name;
    if (!is_executable_file(path)) {
      if (!path_exists(path)) return fail("exec: \"" + name + "\": stat " + name + ": no such file or directory", ENOENT);
      return fail("exec: \"" + name + "\": permission denied", EACCES);
    }
    return name;
  }
  std::string path = env_value(process.env, "PATH");
  if (path.empty()) path = kDefaultPath;
  std::istringstream dirs(path);
  std::string dir;
  while (std::getline(dirs, dir, ':')) {
    std::string candidate = (dir.empty() ? "." : dir) + "/" + name;
    if (is_executable_file(candidate)) return candidate;
  }
  return fail("exec: \"" + name + "\": executable file not found in $PATH", ENOENT);
}

Result<void> exec_process(const oci::Process& process, const std::optional<oci::Seccomp>& seccomp,
                          const std::string& executable, int preserve_fds) {
  if (::chdir(process.cwd.c_str()) != 0) return fail_errno("chdir to cwd (\"" + process.cwd + "\") set in config.json");
  for (const auto& limit : process.rlimits) {
    int resource = TRY(rlimit_resource(limit.type));
    rlimit value{limit.soft, limit.hard};
    if (::setrlimit(resource, &value) != 0) return fail_errno("setrlimit " + limit.type);
  }
  if (process.oom_score_adj) TRY(set_oom_score_adj(*process.oom_score_adj));
  if (process.io_priority) TRY(set_io_priority(*process.io_priority));
  TRY(set_lsm_labels(process));

  std::optional<CapabilitySets> caps;
  if (process.capabilities) caps = TRY(parse_capabilities(*process.capabilities));
  // Loading a filter without no_new_privs needs CAP_SYS_ADMIN, so then it
  // goes in while the process still has it; otherwise as late as possible.
  if (seccomp && !process.no_new_privileges) TRY(load_seccomp(*seccomp));
  if (caps) TRY(apply_bounding_set(*caps));
  if (::prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0) != 0) return fail_errno("keep capabilities");
  TRY(set_credentials(process.user));
  if (caps) TRY(apply_capability_sets(*caps));
  if (process.no_new_privileges && ::prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) return fail_errno("set no_new_privs");
  if (seccomp && process.no_new_privileges) TRY(load_seccomp(*seccomp));
  ::umask(process.user.umask.value_or(022));

  // Preserved fds (socket activation) stay open across exec; others close.
  for (int fd = 3; fd < 3 + preserve_fds; ++fd) ::fcntl(fd, F_SETFD, 0);
  ::syscall(SYS_close_range, 3 + preserve_fds, ~0U, CLOSE_RANGE_CLOEXEC);

  // The process starts with default signal handling whatever its launcher
  // blocked or ignored (blocked and ignored signals survive exec).
  for (int sig = 1; sig < NSIG; ++sig)
    if (sig != SIGKILL && sig != SIGSTOP) ::signal(sig, SIG_DFL);
  sigset_t none;
  sigemptyset(&none);
  ::sigprocmask(SIG_SETMASK, &none, nullptr);

  auto env = process_environment(process);
  std::vector<char*> argv, envp;
  for (const auto& a : process.args) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  for (const auto& e : env) envp.push_back(const_cast<char*>(e.c_str()));
  envp.push_back(nullptr);
  ::execve(executable.c_str(), argv.data(), envp.data());
  return fail_errno("exec " + process.args.front());
}

}  // namespace berth::runtime
