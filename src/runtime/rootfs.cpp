#include "runtime/rootfs.h"

#include <dirent.h>
#include <fcntl.h>
#include <linux/mount.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <memory>

#include "base/file.h"
#include "runtime/devices.h"
#include "runtime/mount_options.h"
#include "base/safe_path.h"

namespace berth::runtime {

namespace {

Result<void> do_mount(const std::string& source, const std::string& target, const char* type, unsigned long flags,
                      const std::string& data, const std::string& shown_target) {
  if (::mount(source.empty() ? nullptr : source.c_str(), target.c_str(), type, flags, data.empty() ? nullptr : data.c_str()) != 0)
    return fail_errno("mount " + (source.empty() ? std::string(type ? type : "") : source) + " on " + shown_target);
  return {};
}

// Flags the kernel keeps on a mount made in a user namespace from a more
// privileged one; a remount must repeat them or it fails with EPERM.
unsigned long locked_flags(const std::string& target) {
  struct statvfs st;
  if (::statvfs(target.c_str(), &st) != 0) return 0;
  unsigned long flags = 0;
  if (st.f_flag & ST_NOSUID) flags |= MS_NOSUID;
  if (st.f_flag & ST_NODEV) flags |= MS_NODEV;
  if (st.f_flag & ST_NOEXEC) flags |= MS_NOEXEC;
  if (st.f_flag & ST_RDONLY) flags |= MS_RDONLY;
  if (st.f_flag & ST_NOATIME) flags |= MS_NOATIME;
  if (st.f_flag & ST_NODIRATIME) flags |= MS_NODIRATIME;
  if (st.f_flag & ST_RELATIME) flags |= MS_RELATIME;
  return flags;
}

// Remounts a bind mount with flags (a bind ignores them the first time).
Result<void> remount_bind(const std::string& target, unsigned long flags, bool userns, const std::string& shown) {
  unsigned long keep = userns ? (locked_flags(target) & ~MS_RDONLY) : 0;
  if (::mount(nullptr, target.c_str(), nullptr, MS_BIND | MS_REMOUNT | flags | keep, nullptr) != 0) {
    // A remount that repeats the locked flags may still be refused when the
    // atime flags differ; retry with exactly what the mount has plus ours.
    if (errno == EPERM && ::mount(nullptr, target.c_str(), nullptr, MS_BIND | MS_REMOUNT | flags | locked_flags(target), nullptr) == 0)
      return {};
    return fail_errno("remount " + shown);
  }
  return {};
}

Result<void> set_propagation(const std::string& target, unsigned long propagation, const std::string& shown) {
  if (propagation && ::mount(nullptr, target.c_str(), nullptr, propagation, nullptr) != 0)
    return fail_errno("set propagation of " + shown);
  return {};
}

Result<void> make_recursively_readonly(const std::string& target, const std::string& shown) {
  mount_attr attr{};
  attr.attr_set = MOUNT_ATTR_RDONLY;
  if (::syscall(SYS_mount_setattr, AT_FDCWD, target.c_str(), AT_RECURSIVE, &attr, sizeof attr) != 0)
    return fail_errno("make " + shown + " recursively read-only");
  return {};
}

// Copies the directory tree at from_fd into to_fd: the image's content of a
// path that a tmpfs with tmpcopyup now covers.
Result<void> copy_tree(int from_fd, int to_fd) {
  int dup_fd = ::dup(from_fd);
  DIR* dir = dup_fd >= 0 ? ::fdopendir(dup_fd) : nullptr;
  if (!dir) return fail_errno("open directory to copy");
  std::unique_ptr<DIR, int (*)(DIR*)> guard(dir, ::closedir);
  while (dirent* entry = ::readdir(dir)) {
    std::string name = entry->d_name;
    if (name == "." || name == "..") continue;
    struct stat st;
    if (::fstatat(from_fd, name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) return fail_errno("stat " + name);
    if (S_ISDIR(st.st_mode)) {
      if (::mkdirat(to_fd, name.c_str(), st.st_mode & 07777) != 0 && errno != EEXIST) return fail_errno("mkdir " + name);
      UniqueFd sub_from(::openat(from_fd, name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
      UniqueFd sub_to(::openat(to_fd, name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
      if (!sub_from || !sub_to) return fail_errno("open " + name);
      TRY(copy_tree(sub_from.get(), sub_to.get()));
    } else if (S_ISLNK(st.st_mode)) {
      char target[4096];
      ssize_t n = ::readlinkat(from_fd, name.c_str(), target, sizeof target - 1);
      if (n < 0) return fail_errno("readlink " + name);
      target[n] = 0;
      if (::symlinkat(target, to_fd, name.c_str()) != 0) return fail_errno("symlink " + name);
    } else if (S_ISREG(st.st_mode)) {
      UniqueFd in(::openat(from_fd, name.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC));
      UniqueFd out(::openat(to_fd, name.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, st.st_mode & 07777));
      if (!in || !out) return fail_errno("copy " + name);
      auto data = TRY(read_fd(in.get()));
      TRY(write_all(out.get(), data));
    } else {
      continue;  // sockets, fifos and devices are not image content worth copying
    }
    ::fchownat(to_fd, name.c_str(), st.st_uid, st.st_gid, AT_SYMLINK_NOFOLLOW);
  }
  return {};
}

// /sys/fs/cgroup inside the container: cgroup2 when unified, otherwise a
// tmpfs holding a bind mount of each hierarchy's container directory.
Result<void> mount_cgroup(const RootfsContext& ctx, int root_fd, const oci::Mount& m, const MountOptions& opts) {
  auto target_fd = TRY(make_in_root(root_fd, m.destination, false));
  std::string target = fd_path(target_fd.get());
  unsigned long flags = opts.flags & ~MS_RDONLY;
  if (ctx.cgroup.unified()) {
    if (::mount("cgroup2", target.c_str(), "cgroup2", opts.flags, nullptr) == 0) return {};
    // Without a cgroup namespace (or in a user namespace) cgroup2 cannot be
    // mounted; a bind of the container's own directory shows the same tree.
    std::string dir = ctx.cgroup.mount_sources().front().second;
    TRY(do_mount(dir, target, nullptr, MS_BIND | MS_REC, "", m.destination));
    if (opts.flags & MS_RDONLY) TRY(remount_bind(target, opts.flags, ctx.userns, m.destination));
    return {};
  }
  TRY(do_mount("tmpfs", target, "tmpfs", flags, "mode=755", m.destination));
  target_fd = TRY(open_in_root(root_fd, m.destination, O_PATH | O_DIRECTORY));
  for (const auto& [name, dir] : ctx.cgroup.mount_sources()) {
    std::string sub = m.destination + "/" + name;
    auto sub_fd = TRY(make_in_root(root_fd, sub, false));
    std::string sub_target = fd_path(sub_fd.get());
    TRY(do_mount(dir, sub_target, nullptr, MS_BIND | MS_REC, "", sub));
    sub_fd = TRY(open_in_root(root_fd, sub, O_PATH));
    TRY(remount_bind(fd_path(sub_fd.get()), flags | (opts.flags & MS_RDONLY), ctx.userns, sub));
  }
  if (opts.flags & MS_RDONLY) {
    target_fd = TRY(open_in_root(root_fd, m.destination, O_PATH | O_DIRECTORY));
    TRY(do_mount("", fd_path(target_fd.get()), nullptr, MS_REMOUNT | opts.flags, "mode=755", m.destination));
  }
  return {};
}

Result<void> mount_one(const RootfsContext& ctx, int root_fd, const oci::Mount& m) {
  auto opts = TRY_CTX(parse_mount_options(m.options), "mount " + m.destination);
  if (m.type == "cgroup") return mount_cgroup(ctx, root_fd, m, opts);

  bool bind = opts.bind || m.type == "bind";
  if (bind) {
    struct stat st;
    if (::stat(m.source.c_str(), &st) != 0) return fail_errno("mount " + m.source + " on " + m.destination);
    auto target_fd = TRY(make_in_root(root_fd, m.destination, !S_ISDIR(st.st_mode)));
    TRY(do_mount(m.source, fd_path(target_fd.get()), nullptr, MS_BIND | (opts.recursive ? MS_REC : 0), "", m.destination));
    // The fd still names what lies under the new mount; reopen to reach it.
    target_fd = TRY(open_in_root(root_fd, m.destination, O_PATH));
    std::string target = fd_path(target_fd.get());
    if (opts.flags & ~MS_REMOUNT) TRY(remount_bind(target, opts.flags & ~MS_REMOUNT, ctx.userns, m.destination));
    if (opts.recursive_ro) TRY(make_recursively_readonly(target, m.destination));
    return set_propagation(target, opts.propagation, m.destination);
  }

  auto target_fd = TRY(make_in_root(root_fd, m.destination, false));
  std::string target = fd_path(target_fd.get());
  auto mounted = do_mount(m.source, target, m.type.c_str(), opts.flags, opts.data, m.destination);
  if (!mounted && mounted.error().code() == EPERM && ctx.userns && (m.type == "sysfs" || m.type == "mqueue")) {
    // Not mountable from a user namespace without its own network (sysfs) or
    // IPC namespace (mqueue): show the host's instead, as runc does.
    std::string host = m.type == "sysfs" ? "/sys" : "/dev/mqueue";
    mounted = do_mount(host, target, nullptr, MS_BIND | MS_REC, "", m.destination);
    if (mounted) {
      target_fd = TRY(open_in_root(root_fd, m.destination, O_PATH));
      mounted = remount_bind(fd_path(target_fd.get()), opts.flags, true, m.destination);
    }
  }
  TRY(std::move(mounted));
  auto top_fd = TRY(open_in_root(root_fd, m.destination, O_PATH | O_DIRECTORY));
  if (opts.tmpcopyup) {
    auto from = TRY(open_in_root(target_fd.get(), ".", O_RDONLY | O_DIRECTORY));
    auto to = TRY(open_in_root(top_fd.get(), ".", O_RDONLY | O_DIRECTORY));
    TRY_CTX(copy_tree(from.get(), to.get()), "tmpcopyup " + m.destination);
  }
  if (opts.recursive_ro) TRY(make_recursively_readonly(fd_path(top_fd.get()), m.destination));
  return set_propagation(fd_path(top_fd.get()), opts.propagation, m.destination);
}

Result<void> make_dev_symlinks(int root_fd) {
  auto dev = TRY(make_in_root(root_fd, "/dev", false));
  auto dir = TRY(open_in_root(dev.get(), ".", O_RDONLY | O_DIRECTORY));
  std::vector<std::pair<const char*, const char*>> links = {
      {"/proc/self/fd", "fd"}, {"/proc/self/fd/0", "stdin"}, {"/proc/self/fd/1", "stdout"}, {"/proc/self/fd/2", "stderr"}};
  if (path_exists("/proc/kcore")) links.emplace_back("/proc/kcore", "core");
  for (auto [target, name] : links)
    if (::symlinkat(target, dir.get(), name) != 0 && errno != EEXIST) return fail_errno(std::string("symlink /dev/") + name);
  // With a devpts of its own the container's ptmx is pts/ptmx.
  struct stat st;
  if (::fstatat(dir.get(), "pts/ptmx", &st, 0) == 0) {
    ::unlinkat(dir.get(), "ptmx", 0);
    if (::symlinkat("pts/ptmx", dir.get(), "ptmx") != 0) return fail_errno("symlink /dev/ptmx");
  }
  return {};
}

}  // namespace

Result<void> mount_rootfs(const RootfsContext& ctx) {
  // Nothing mounted from here on may reach the host's mount table.
  if (::mount(nullptr, "/", nullptr, MS_SLAVE | MS_REC, nullptr) != 0) return fail_errno("make / a slave mount");
  if (::mount(ctx.rootfs.c_str(), ctx.rootfs.c_str(), nullptr, MS_BIND | MS_REC, nullptr) != 0)
    return fail_errno("bind mount rootfs " + ctx.rootfs);
  UniqueFd root_fd(::open(ctx.rootfs.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
  if (!root_fd) return fail_errno("open rootfs " + ctx.rootfs);
  for (const auto& m : ctx.spec.mounts) TRY(mount_one(ctx, root_fd.get(), m));
  TRY(create_devices(root_fd.get(), ctx.spec.linux->devices, ctx.userns));
  TRY(make_dev_symlinks(root_fd.get()));
  return {};
}

Result<void> enter_rootfs(const std::string& rootfs, bool no_pivot) {
  if (::chdir(rootfs.c_str()) != 0) return fail_errno("chdir " + rootfs);
  if (no_pivot) {
    if (::mount(rootfs.c_str(), "/", nullptr, MS_MOVE, nullptr) != 0) return fail_errno("move rootfs to /");
    if (::chroot(".") != 0) return fail_errno("chroot " + rootfs);
  } else {
    // pivot_root(".", ".") stacks the old root under the new one; unmounting
    // it then leaves only the rootfs, with no directory for put_old needed.
    if (::syscall(SYS_pivot_root, ".", ".") != 0) return fail_errno("pivot_root " + rootfs);
    if (::mount(nullptr, ".", nullptr, MS_SLAVE | MS_REC, nullptr) != 0) return fail_errno("make old root a slave");
    if (::umount2(".", MNT_DETACH) != 0) return fail_errno("unmount old root");
  }
  if (::chdir("/") != 0) return fail_errno("chdir /");
  return {};
}

Result<void> validate_sysctls(const oci::Linux& linux) {
  auto owns = [&](const char* type) { return linux.find_namespace(type) != nullptr; };
  static const std::vector<std::string> kIpcSysctls = {"kernel.msgmax", "kernel.msgmnb", "kernel.msgmni", "kernel.sem",
                                                       "kernel.shmall", "kernel.shmmax", "kernel.shmmni", "kernel.shm_rmid_forced"};
  for (const auto& [key, value] : linux.sysctl) {
    bool isolated = false;
    if (std::ranges::find(kIpcSysctls, key) != kIpcSysctls.end() || key.starts_with("fs.mqueue."))
      isolated = owns("ipc");
    else if (key.starts_with("net."))
      isolated = owns("network");
    else if (key == "kernel.hostname" || key == "kernel.domainname")
      isolated = owns("uts");
    if (!isolated) return fail("linux.sysctl: \"" + key + "\" is not in a separate kernel namespace of the container");
  }
  return {};
}

Result<void> finish_rootfs(const oci::Spec& spec) {
  const auto& linux = *spec.linux;
  for (const auto& [key, value] : linux.sysctl) {
    if (key.find('/') != std::string::npos || key.find("..") != std::string::npos) return fail("sysctl \"" + key + "\": invalid name");
    std::string path = "/proc/sys/" + key;
    std::ranges::replace(path, '.', '/');
    TRY_CTX(write_file(path, value), "sysctl " + key);
  }
  for (const auto& path : linux.readonly_paths) {
    struct stat st;
    if (::stat(path.c_str(), &st) != 0) {
      if (errno == ENOENT) continue;
      return fail_errno("readonly path " + path);
    }
    TRY(do_mount(path, path, nullptr, MS_BIND | MS_REC, "", path));
    if (::mount(nullptr, path.c_str(), nullptr, MS_BIND | MS_REMOUNT | MS_RDONLY | locked_flags(path), nullptr) != 0)
      return fail_errno("make " + path + " read-only");
  }
  for (const auto& path : linux.masked_paths) {
    struct stat st;
    if (::stat(path.c_str(), &st) != 0) {
      if (errno == ENOENT) continue;
      return fail_errno("masked path " + path);
    }
    if (S_ISDIR(st.st_mode))
      TRY(do_mount("tmpfs", path, "tmpfs", MS_RDONLY, "", path));
    else
      TRY(do_mount("/dev/null", path, nullptr, MS_BIND, "", path));
  }
  if (!spec.hostname.empty() && ::sethostname(spec.hostname.data(), spec.hostname.size()) != 0)
    return fail_errno("set hostname " + spec.hostname);
  if (!spec.domainname.empty() && ::setdomainname(spec.domainname.data(), spec.domainname.size()) != 0)
    return fail_errno("set domainname " + spec.domainname);
  if (spec.root.readonly && ::mount(nullptr, "/", nullptr, MS_BIND | MS_REMOUNT | MS_RDONLY | locked_flags("/"), nullptr) != 0)
    return fail_errno("make the rootfs read-only");
  if (!linux.rootfs_propagation.empty()) {
    unsigned long flags = TRY(parse_propagation(linux.rootfs_propagation));
    TRY(set_propagation("/", flags, "/"));
  }
  return {};
}

}  // namespace berth::runtime
