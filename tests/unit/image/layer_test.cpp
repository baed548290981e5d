// Layer application: whiteouts, metadata, compression, and hostile archives
// that try to write outside the layer (each must fail or land inside).
#include "image/layer.h"

#include <archive.h>
#include <archive_entry.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "base/file.h"
#include "test_tar.h"

namespace berth::image {
namespace {

namespace fs = std::filesystem;

class LayerTest : public testing::Test {
 protected:
  void SetUp() override {
    sandbox_ = fs::temp_directory_path() / ("berth-layer-test-" + std::to_string(::getpid()) + "-" +
                                            testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(sandbox_);
    fs::create_directories(sandbox_ / "layer");
    fs::create_directories(sandbox_ / "outside");
  }
  void TearDown() override { fs::remove_all(sandbox_); }

  Result<ApplyStats> apply(const std::vector<Entry>& entries, WhiteoutMode mode = WhiteoutMode::kApply, const char* filter = nullptr) {
    std::string tar = (sandbox_ / "layer.tar").string();
    write_tar(tar, entries, filter);
    UniqueFd fd(::open(tar.c_str(), O_RDONLY | O_CLOEXEC));
    return apply_layer(fd.get(), (sandbox_ / "layer").string(), mode);
  }

  fs::path layer(const std::string& p = "") const { return sandbox_ / "layer" / p; }
  bool outside_is_empty() const { return fs::is_empty(sandbox_ / "outside"); }

  fs::path sandbox_;
};

TEST_F(LayerTest, UnpacksFilesDirectoriesAndLinks) {
  auto stats = apply({{"etc", AE_IFDIR}, {"etc/hosts", AE_IFREG, "127.0.0.1 localhost\n"},
                      {"bin/tool", AE_IFREG, "#!/bin/sh\n", false, 04755}, {"bin/alias", AE_IFLNK, "tool"},
                      {"bin/copy", AE_IFREG, "bin/tool", true}, {"run/fifo", AE_IFIFO}});
  ASSERT_TRUE(stats) << stats.error().message();
  EXPECT_EQ(read_file(layer("etc/hosts")).value(), "127.0.0.1 localhost\n");
  EXPECT_EQ(fs::read_symlink(layer("bin/alias")), "tool");
  EXPECT_EQ(fs::status(layer("bin/tool")).permissions(), fs::perms(04755) & fs::perms::mask);
  EXPECT_EQ(fs::hard_link_count(layer("bin/tool")), 2u);
  EXPECT_TRUE(fs::is_fifo(layer("run/fifo")));
  struct stat st;
  ASSERT_EQ(::stat(layer("etc/hosts").c_str(), &st), 0);
  EXPECT_EQ(st.st_mtime, 1700000000);
  ASSERT_EQ(::stat(layer("etc").c_str(), &st), 0);
  EXPECT_EQ(st.st_mtime, 1700000000) << "directory times are set after their content";
  EXPECT_EQ(stats->bytes, 30u);
}

TEST_F(LayerTest, CompressedLayers) {
  for (const char* filter : {"gzip", "zstd", "xz"}) {
    auto stats = apply({{std::string("from-") + filter, AE_IFREG, filter}}, WhiteoutMode::kApply, filter);
    ASSERT_TRUE(stats) << filter << ": " << stats.error().message();
    EXPECT_EQ(read_file(layer(std::string("from-") + filter)).value(), filter);
  }
}

TEST_F(LayerTest, WhiteoutsRemoveLowerFiles) {
  ASSERT_TRUE(apply({{"a/b", AE_IFREG, "b"}, {"a/c", AE_IFREG, "c"}, {"d/e/f", AE_IFREG, "f"}, {"g", AE_IFREG, "g"}}));
  ASSERT_TRUE(apply({{"a/.wh.b", AE_IFREG}, {"d/.wh.e", AE_IFREG}, {".wh.g", AE_IFREG}}));
  EXPECT_FALSE(fs::exists(layer("a/b")));
  EXPECT_TRUE(fs::exists(layer("a/c")));
  EXPECT_FALSE(fs::exists(layer("d/e")));
  EXPECT_FALSE(fs::exists(layer("g")));
}

TEST_F(LayerTest, OpaqueDirectoryKeepsOnlyThisLayersEntries) {
  ASSERT_TRUE(apply({{"a/old1", AE_IFREG, "1"}, {"a/old2/x", AE_IFREG, "2"}}));
  ASSERT_TRUE(apply({{"a/new", AE_IFREG, "n"}, {"a/.wh..wh..opq", AE_IFREG}}));
  EXPECT_FALSE(fs::exists(layer("a/old1")));
  EXPECT_FALSE(fs::exists(layer("a/old2")));
  EXPECT_EQ(read_file(layer("a/new")).value(), "n");
}

TEST_F(LayerTest, OverlayModeKeepsWhiteoutsForOverlayfs) {
  ASSERT_TRUE(apply({{"a/.wh.b", AE_IFREG}, {"c/.wh..wh..opq", AE_IFREG}}, WhiteoutMode::kOverlay));
  struct stat st;
  ASSERT_EQ(::lstat(layer("a/b").c_str(), &st), 0);
  EXPECT_TRUE(S_ISCHR(st.st_mode));
  EXPECT_EQ(st.st_rdev, makedev(0, 0));
  char value[4] = {};
  ASSERT_EQ(::getxattr(layer("c").c_str(), "trusted.overlay.opaque", value, sizeof value), 1);
  EXPECT_EQ(value[0], 'y');
}

TEST_F(LayerTest, FileReplacesDirectoryAndViceVersa) {
  ASSERT_TRUE(apply({{"x/inner", AE_IFREG, "1"}, {"y", AE_IFREG, "2"}}));
  ASSERT_TRUE(apply({{"x", AE_IFREG, "now a file"}, {"y", AE_IFDIR}, {"y/z", AE_IFREG, "3"}}));
  EXPECT_EQ(read_file(layer("x")).value(), "now a file");
  EXPECT_EQ(read_file(layer("y/z")).value(), "3");
}

// Hostile archives: every one must fail or stay inside the layer.

TEST_F(LayerTest, DotDotCannotEscape) {
  auto stats = apply({{"../outside/evil", AE_IFREG, "x"}});
  ASSERT_FALSE(stats);
  EXPECT_EQ(stats.error().message(), "layer entry \"../outside/evil\": path escapes the layer");
  EXPECT_TRUE(outside_is_empty());
  ASSERT_FALSE(apply({{"a/../../outside/evil", AE_IFREG, "x"}}));
  EXPECT_TRUE(outside_is_empty());
  ASSERT_TRUE(apply({{"a/../b", AE_IFREG, "inside"}}));
  EXPECT_EQ(read_file(layer("b")).value(), "inside");
}

TEST_F(LayerTest, AbsolutePathsLandInsideTheLayer) {
  std::string target = (sandbox_ / "outside" / "evil").string();
  ASSERT_TRUE(apply({{target, AE_IFREG, "x"}}));
  EXPECT_TRUE(outside_is_empty());
  EXPECT_TRUE(fs::exists(layer(target.substr(1))));
}

TEST_F(LayerTest, SymlinkedParentCannotLeadOutside) {
  std::string outside = (sandbox_ / "outside").string();
  ASSERT_TRUE(apply({{"link", AE_IFLNK, outside}, {"link/evil", AE_IFREG, "x"}}));
  EXPECT_TRUE(outside_is_empty());
  EXPECT_TRUE(fs::exists(layer(outside.substr(1) + "/evil")));
  ASSERT_TRUE(apply({{"rel", AE_IFLNK, "../../../../../../outside"}, {"rel/evil2", AE_IFREG, "x"}}));
  EXPECT_TRUE(outside_is_empty());
}

TEST_F(LayerTest, SymlinkSwappedInForADirectoryCannotLeadOutside) {
  std::string outside = (sandbox_ / "outside").string();
  ASSERT_TRUE(apply({{"dir", AE_IFDIR}, {"dir", AE_IFLNK, outside}, {"dir/evil", AE_IFREG, "x"}}));
  EXPECT_TRUE(outside_is_empty());
}

TEST_F(LayerTest, HardlinksCannotReachOutside) {
  std::ofstream(sandbox_ / "outside" / "secret") << "secret";
  auto escaped = apply({{"h", AE_IFREG, "../outside/secret", true}});
  ASSERT_FALSE(escaped);
  EXPECT_EQ(escaped.error().message(), "hard link target \"../outside/secret\": path escapes the layer");
  auto absolute = apply({{"h", AE_IFREG, (sandbox_ / "outside" / "secret").string(), true}});
  ASSERT_FALSE(absolute) << "an absolute target is looked up inside the layer, where it does not exist";
  ASSERT_TRUE(apply({{"link", AE_IFLNK, (sandbox_ / "outside").string()}}));
  ASSERT_FALSE(apply({{"h2", AE_IFREG, "link/secret", true}})) << "a hard link through a symlink stays inside";
  EXPECT_EQ(fs::hard_link_count(sandbox_ / "outside" / "secret"), 1u);
}

TEST_F(LayerTest, WhiteoutsCannotRemoveOutside) {
  std::ofstream(sandbox_ / "outside" / "keep") << "keep";
  ASSERT_FALSE(apply({{"../outside/.wh.keep", AE_IFREG}}));
  ASSERT_TRUE(apply({{"link", AE_IFLNK, (sandbox_ / "outside").string()}, {"link/.wh.keep", AE_IFREG}}));
  EXPECT_TRUE(fs::exists(sandbox_ / "outside" / "keep"));
  ASSERT_FALSE(apply({{"a/.wh..", AE_IFREG}}));
}

TEST_F(LayerTest, GarbageIsAClearError) {
  std::string tar = (sandbox_ / "garbage.tar").string();
  std::ofstream(tar) << std::string(3000, 'z');
  UniqueFd fd(::open(tar.c_str(), O_RDONLY | O_CLOEXEC));
  auto stats = apply_layer(fd.get(), layer().string(), WhiteoutMode::kApply);
  ASSERT_FALSE(stats);
  EXPECT_TRUE(stats.error().message().starts_with("read layer: ")) << stats.error().message();
}

TEST(LayerPathTest, Components) {
  EXPECT_EQ(layer_path_components("./a//b/./c/").value(), (std::vector<std::string>{"a", "b", "c"}));
  EXPECT_EQ(layer_path_components("/").value(), std::vector<std::string>{});
  EXPECT_EQ(layer_path_components("a/b/../c").value(), (std::vector<std::string>{"a", "c"}));
  EXPECT_FALSE(layer_path_components(".."));
  EXPECT_FALSE(layer_path_components("a/../.."));
}

}  // namespace
}  // namespace berth::image
