#include "runtime/mount_options.h"

#include <sys/mount.h>

#include <array>

namespace berth::runtime {

namespace {

struct FlagOption {
  const char* name;
  bool clear;  // the option removes the flag ("rw", "suid")
  unsigned long flag;
};

constexpr std::array<FlagOption, 26> kFlags = {{
    {"ro", false, MS_RDONLY},          {"rw", true, MS_RDONLY},
    {"nosuid", false, MS_NOSUID},      {"suid", true, MS_NOSUID},
    {"nodev", false, MS_NODEV},        {"dev", true, MS_NODEV},
    {"noexec", false, MS_NOEXEC},      {"exec", true, MS_NOEXEC},
    {"sync", false, MS_SYNCHRONOUS},   {"async", true, MS_SYNCHRONOUS},
    {"dirsync", false, MS_DIRSYNC},    {"remount", false, MS_REMOUNT},
    {"mand", false, MS_MANDLOCK},      {"nomand", true, MS_MANDLOCK},
    {"noatime", false, MS_NOATIME},    {"atime", true, MS_NOATIME},
    {"nodiratime", false, MS_NODIRATIME}, {"diratime", true, MS_NODIRATIME},
    {"relatime", false, MS_RELATIME},  {"norelatime", true, MS_RELATIME},
    {"strictatime", false, MS_STRICTATIME}, {"nostrictatime", true, MS_STRICTATIME},
    {"lazytime", false, MS_LAZYTIME},  {"nolazytime", true, MS_LAZYTIME},
    {"silent", false, MS_SILENT},      {"loud", true, MS_SILENT},
}};

struct PropagationOption {
  const char* name;
  unsigned long flags;
};

constexpr std::array<PropagationOption, 8> kPropagation = {{
    {"private", MS_PRIVATE},
    {"rprivate", MS_PRIVATE | MS_REC},
    {"shared", MS_SHARED},
    {"rshared", MS_SHARED | MS_REC},
    {"slave", MS_SLAVE},
    {"rslave", MS_SLAVE | MS_REC},
    {"unbindable", MS_UNBINDABLE},
    {"runbindable", MS_UNBINDABLE | MS_REC},
}};

}  // namespace

Result<unsigned long> parse_propagation(std::string_view value) {
  for (const auto& p : kPropagation)
    if (value == p.name) return p.flags;
  return fail("invalid rootfs propagation \"" + std::string(value) + "\"");
}

Result<MountOptions> parse_mount_options(const std::vector<std::string>& options) {
  MountOptions out;
  for (const auto& option : options) {
    bool handled = false;
    for (const auto& f : kFlags) {
      if (option == f.name) {
        if (f.clear)
          out.flags &= ~f.flag;
        else
          out.flags |= f.flag;
        handled = true;
        break;
      }
    }
    if (handled) continue;
    if (auto p = parse_propagation(option)) {
      out.propagation = *p;
      continue;
    }
    if (option == "bind") {
      out.bind = true;
    } else if (option == "rbind") {
      out.bind = out.recursive = true;
    } else if (option == "tmpcopyup") {
      out.tmpcopyup = true;
    } else if (option == "rro") {
      out.recursive_ro = true;
      out.flags |= MS_RDONLY;
    } else if (option == "z" || option == "Z" || option == "U" || option == "copy" || option == "nocopy" ||
               option == "notmpcopyup") {
      // Engine-level options (SELinux relabel, volume copy-up) that engines
      // sometimes pass through; they have no meaning for the mount itself.
    } else if (option == "idmap" || option == "ridmap") {
      return fail("mount option \"" + option + "\": idmapped mounts are not supported");
    } else if (option.empty()) {
      return fail("empty mount option");
    } else {
      if (!out.data.empty()) out.data += ',';
      out.data += option;
    }
  }
  return out;
}

}  // namespace berth::runtime
