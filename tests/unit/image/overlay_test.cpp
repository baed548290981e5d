// overlayfs mounts for real (needs root): a stack deeper than the classic
// one-page mount options allow, whiteouts from upper layers, writes landing
// in the upper directory.
#include "image/overlay.h"

#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "base/file.h"

namespace berth::image {
namespace {

namespace fs = std::filesystem;

TEST(OverlayTest, DeepStackWithWhiteoutsAndWrites) {
  if (::geteuid() != 0) GTEST_SKIP() << "needs root";
  fs::path root = fs::temp_directory_path() / ("berth-overlay-test-" + std::to_string(::getpid()));
  fs::remove_all(root);
  OverlayDirs dirs;
  constexpr int kLayers = 200;  // ~100 bytes a path: far past one page of options
  for (int i = 0; i < kLayers; ++i) {
    fs::path layer = root / "layers" / (std::string(64, 'a' + i % 26) + std::to_string(i)) / "diff";
    fs::create_directories(layer);
    std::ofstream(layer / ("file" + std::to_string(i))) << i;
    dirs.lower.push_back(layer.string());
  }
  // The top layer removes what the bottom one added.
  ASSERT_EQ(::mknod((fs::path(dirs.lower.back()) / "file0").c_str(), S_IFCHR, makedev(0, 0)), 0);
  fs::create_directories(root / "upper");
  fs::create_directories(root / "work");
  fs::create_directories(root / "merged");
  dirs.upper = (root / "upper").string();
  dirs.work = (root / "work").string();
  std::string merged = (root / "merged").string();

  auto mounted = mount_overlay(dirs, merged);
  ASSERT_TRUE(mounted) << mounted.error().message();
  EXPECT_FALSE(fs::exists(root / "merged" / "file0"));
  EXPECT_EQ(read_file(merged + "/file1").value(), "1");
  EXPECT_EQ(read_file(merged + "/file" + std::to_string(kLayers - 1)).value(), std::to_string(kLayers - 1));
  std::ofstream(root / "merged" / "new") << "written";
  std::ofstream(root / "merged" / "file5", std::ios::trunc) << "changed";
  ASSERT_TRUE(unmount(merged));
  EXPECT_EQ(read_file((root / "upper" / "new").string()).value(), "written");
  EXPECT_EQ(read_file((root / "upper" / "file5").string()).value(), "changed");
  EXPECT_EQ(read_file(dirs.lower[5] + "/file5").value(), "5") << "lower layers stay as they were";
  fs::remove_all(root);
}

TEST(OverlayTest, ErrorsAreClear) {
  if (::geteuid() != 0) GTEST_SKIP() << "needs root";
  EXPECT_FALSE(mount_overlay({}, "/nonexistent"));
  auto missing = mount_overlay({{"/nonexistent/layer"}, "/nonexistent/upper", "/nonexistent/work"}, "/nonexistent/target");
  ASSERT_FALSE(missing);
  EXPECT_NE(missing.error().message().find("/nonexistent/layer"), std::string::npos) << missing.error().message();
}

}  // namespace
}  // namespace berth::image
