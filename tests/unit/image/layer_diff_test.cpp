// A layer diff of an overlayfs upper directory, applied on top of the lower
// layer, gives the merged view the container saw.
#include "image/layer_diff.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "base/file.h"
#include "image/layer.h"

namespace berth::image {
namespace {

namespace fs = std::filesystem;

TEST(LayerDiffTest, RoundTripThroughApply) {
  if (::geteuid() != 0) GTEST_SKIP() << "whiteouts are character devices: needs root";
  fs::path root = fs::temp_directory_path() / ("berth-diff-test-" + std::to_string(::getpid()));
  fs::remove_all(root);
  fs::path lower = root / "lower", upper = root / "upper";
  fs::create_directories(lower / "etc");
  fs::create_directories(lower / "cache" / "old");
  std::ofstream(lower / "etc" / "keep") << "keep";
  std::ofstream(lower / "etc" / "gone") << "gone";
  std::ofstream(lower / "cache" / "old" / "x") << "x";
  // What a container did: a new file, a changed one, a deletion, a
  // directory replaced wholesale, a symlink and a hard link.
  fs::create_directories(upper / "etc");
  fs::create_directories(upper / "cache");
  std::ofstream(upper / "etc" / "keep") << "changed";
  std::ofstream(upper / "etc" / "new") << "new";
  ASSERT_EQ(::mknod((upper / "etc" / "gone").c_str(), S_IFCHR, makedev(0, 0)), 0);
  ASSERT_EQ(::setxattr((upper / "cache").c_str(), "trusted.overlay.opaque", "y", 1, 0), 0);
  std::ofstream(upper / "cache" / "fresh") << "fresh";
  fs::create_symlink("etc/new", upper / "link");
  fs::create_hard_link(upper / "etc" / "new", upper / "hard");

  std::string tar = (root / "diff.tar").string();
  {
    auto out = open_file(tar, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    ASSERT_TRUE(out);
    auto written = write_layer_diff(upper.string(), [&](std::string_view data) { return write_all(out->get(), data); });
    ASSERT_TRUE(written) << written.error().message();
  }
  auto in = open_file(tar, O_RDONLY);
  auto applied = apply_layer(in->get(), lower.string(), WhiteoutMode::kApply);
  ASSERT_TRUE(applied) << applied.error().message();

  EXPECT_EQ(read_file((lower / "etc" / "keep").string()).value(), "changed");
  EXPECT_EQ(read_file((lower / "etc" / "new").string()).value(), "new");
  EXPECT_FALSE(fs::exists(lower / "etc" / "gone"));
  EXPECT_FALSE(fs::exists(lower / "cache" / "old"));
  EXPECT_EQ(read_file((lower / "cache" / "fresh").string()).value(), "fresh");
  EXPECT_EQ(fs::read_symlink(lower / "link"), "etc/new");
  EXPECT_EQ(fs::hard_link_count(lower / "hard"), 2u);

  // The same changes give the same bytes: layers are content-addressed.
  std::string again;
  ASSERT_TRUE(write_layer_diff(upper.string(), [&](std::string_view data) -> Result<void> { again.append(data); return {}; }));
  EXPECT_EQ(again, read_file(tar).value());
  fs::remove_all(root);
}

}  // namespace
}  // namespace berth::image
