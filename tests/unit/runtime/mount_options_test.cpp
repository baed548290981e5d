#include "runtime/mount_options.h"

#include <sys/mount.h>

#include <gtest/gtest.h>

namespace berth::runtime {
namespace {

TEST(MountOptionsTest, SplitsFlagsFromData) {
  auto opts = parse_mount_options({"nosuid", "noexec", "nodev", "mode=755", "size=65536k", "ro"});
  ASSERT_TRUE(opts);
  EXPECT_EQ(opts->flags, static_cast<unsigned long>(MS_NOSUID | MS_NOEXEC | MS_NODEV | MS_RDONLY));
  EXPECT_EQ(opts->data, "mode=755,size=65536k");
  EXPECT_FALSE(opts->bind);
}

TEST(MountOptionsTest, LaterOptionsClearEarlierOnes) {
  auto opts = parse_mount_options({"ro", "rw", "nosuid", "suid"});
  ASSERT_TRUE(opts);
  EXPECT_EQ(opts->flags, 0ul);
}

TEST(MountOptionsTest, BindAndPropagation) {
  auto opts = parse_mount_options({"rbind", "rslave"});
  ASSERT_TRUE(opts);
  EXPECT_TRUE(opts->bind);
  EXPECT_TRUE(opts->recursive);
  EXPECT_EQ(opts->propagation, static_cast<unsigned long>(MS_SLAVE | MS_REC));
  EXPECT_EQ(opts->data, "");
}

TEST(MountOptionsTest, RuntimeExtensions) {
  auto opts = parse_mount_options({"tmpcopyup", "rro", "z"});
  ASSERT_TRUE(opts);
  EXPECT_TRUE(opts->tmpcopyup);
  EXPECT_TRUE(opts->recursive_ro);
  EXPECT_EQ(opts->data, "");
}

TEST(MountOptionsTest, UnsupportedOptionsAreErrors) {
  EXPECT_FALSE(parse_mount_options({"idmap"}));
  EXPECT_FALSE(parse_mount_options({""}));
}

TEST(MountOptionsTest, RootfsPropagation) {
  EXPECT_EQ(parse_propagation("private").value(), static_cast<unsigned long>(MS_PRIVATE));
  EXPECT_EQ(parse_propagation("rshared").value(), static_cast<unsigned long>(MS_SHARED | MS_REC));
  EXPECT_FALSE(parse_propagation("sideways"));
}

}  // namespace
}  // namespace berth::runtime
