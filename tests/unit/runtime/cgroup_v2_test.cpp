// cgroup v2 for real, on this machine's cgroup2 tree (the whole of
// /sys/fs/cgroup on a unified host, /sys/fs/cgroup/unified on a hybrid one).
// Needs root; skipped otherwise.
#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <thread>

#include "runtime/cgroup_impl.h"

namespace berth::runtime {
namespace {

std::string cgroup2_root() {
  for (const char* candidate : {"/sys/fs/cgroup", "/sys/fs/cgroup/unified"}) {
    struct statfs fs;
    if (::statfs(candidate, &fs) == 0 && fs.f_type == 0x63677270) return candidate;
  }
  return "";
}

class CgroupV2Test : public testing::Test {
 protected:
  void SetUp() override {
    root_ = cgroup2_root();
    if (::geteuid() != 0 || root_.empty()) GTEST_SKIP() << "needs root and a cgroup2 mount";
    parent_ = "/berth-unit-" + std::to_string(::getpid());
    cgroup_ = make_cgroup_v2(parent_ + "/c", false, root_);
    ASSERT_TRUE(cgroup_->create());
  }
  void TearDown() override {
    if (!cgroup_) return;
    for (pid_t pid : children_) {
      ::kill(pid, SIGKILL);
      ::waitpid(pid, nullptr, 0);
    }
    EXPECT_TRUE(cgroup_->destroy());
    EXPECT_FALSE(::access((root_ + parent_).c_str(), F_OK) == 0) << "parent cgroup left behind";
  }

  // A child that joins the cgroup, then runs body; its exit code is the result.
  pid_t spawn_in_cgroup(int (*body)()) {
    int ready[2];
    EXPECT_EQ(::pipe(ready), 0);
    pid_t pid = ::fork();
    if (pid == 0) {
      char c;
      ::close(ready[1]);
      if (::read(ready[0], &c, 1) != 1) ::_exit(100);
      ::_exit(body());
    }
    ::close(ready[0]);
    EXPECT_TRUE(cgroup_->add_process(pid));
    EXPECT_EQ(::write(ready[1], "x", 1), 1);
    ::close(ready[1]);
    children_.push_back(pid);
    return pid;
  }

  int wait_exit(pid_t pid) {
    int status = 0;
    ::waitpid(pid, &status, 0);
    std::erase(children_, pid);
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  }

  std::string root_, parent_;
  std::unique_ptr<Cgroup> cgroup_;
  std::vector<pid_t> children_;
};

TEST_F(CgroupV2Test, ProcessesFreezeAndKill) {
  pid_t pid = spawn_in_cgroup([] { return ::pause(), 0; });
  auto pids = cgroup_->processes();
  ASSERT_TRUE(pids);
  EXPECT_NE(std::ranges::find(*pids, pid), pids->end());
  ASSERT_TRUE(cgroup_->freeze());
  EXPECT_TRUE(cgroup_->frozen());
  ASSERT_TRUE(cgroup_->thaw());
  EXPECT_FALSE(cgroup_->frozen());
  ASSERT_TRUE(cgroup_->kill_all(SIGKILL));
  int status = 0;
  ::waitpid(pid, &status, 0);
  std::erase(children_, pid);
  EXPECT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
}

TEST_F(CgroupV2Test, DeviceFilterAllowsDefaultsAndDeniesTheRest) {
  // Deny everything, then allow /dev/kmsg read-only; the filter adds the
  // runtime's default devices (/dev/null among them). Outside the cgroup
  // root may open all of these.
  std::vector<oci::DeviceRule> rules = {{false, "", std::nullopt, std::nullopt, "rwm"}, {true, "c", 1, 11, "r"}};
  ASSERT_TRUE(attach_device_filter(root_ + parent_ + "/c", rules, {}));
  pid_t pid = spawn_in_cgroup([] {
    if (::open("/dev/null", O_RDWR) < 0) return 1;
    if (::open("/dev/kmsg", O_RDONLY | O_NONBLOCK) < 0) return 2;
    if (::open("/dev/kmsg", O_WRONLY) >= 0 || errno != EPERM) return 3;
    if (::open("/dev/loop-control", O_RDWR) >= 0 || errno != EPERM) return 4;
    return 0;
  });
  EXPECT_EQ(wait_exit(pid), 0);
}

TEST_F(CgroupV2Test, UnifiedResourceFilesAreWritten) {
  oci::Resources resources;
  resources.unified["cgroup.max.descendants"] = "3";
  ASSERT_TRUE(cgroup_->apply(resources, {}));
  resources.unified.clear();
  resources.unified["../escape"] = "1";
  EXPECT_FALSE(cgroup_->apply(resources, {}));
}

TEST(FlatKeyValue, ReadsOneCounter) {
  EXPECT_EQ(flat_key_value("low 0\nhigh 0\nmax 4\noom 1\noom_kill 2\n", "oom_kill"), 2u);
  EXPECT_EQ(flat_key_value("oom_kill_disable 0\nunder_oom 0\noom_kill 1\n", "oom_kill"), 1u);
  EXPECT_EQ(flat_key_value("oom_kill_disable 0\nunder_oom 0\n", "oom_kill"), 0u);
}

}  // namespace
}  // namespace berth::runtime
