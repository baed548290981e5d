#include "image/image_store.h"

#include <fcntl.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <filesystem>

#include "base/file.h"
#include "image/image_config.h"
#include "image/layer.h"
#include "test_tar.h"

namespace berth::image {
namespace {

namespace fs = std::filesystem;

class ImageStoreTest : public testing::Test {
 protected:
  void SetUp() override {
    root_ = fs::temp_directory_path() / ("berth-images-test-" + std::to_string(::getpid()));
    fs::remove_all(root_);
    auto store = ImageStore::open(root_.string());
    ASSERT_TRUE(store) << store.error().message();
    store_ = std::move(*store);
  }
  void TearDown() override { fs::remove_all(root_); }

  Result<std::string> import(const std::vector<Entry>& entries, ImportOptions options = {}, const char* filter = nullptr) {
    std::string tar = (root_ / "input.tar").string();
    write_tar(tar, entries, filter);
    UniqueFd fd(::open(tar.c_str(), O_RDONLY | O_CLOEXEC));
    return store_->import(fd_reader(fd.get()), options);
  }

  static ImportOptions tagged(const char* name) {
    ImportOptions options;
    options.tag = *parse_reference(name);
    return options;
  }

  fs::path root_;
  std::unique_ptr<ImageStore> store_;
};

TEST_F(ImageStoreTest, ImportMakesAOneLayerImage) {
  ImportOptions options = tagged("busybox");
  options.changes = {"CMD [\"sh\"]", "ENV PATH=/bin"};
  auto id = import({{"bin", AE_IFDIR}, {"bin/sh", AE_IFREG, "#!"}}, options, "gzip");
  ASSERT_TRUE(id) << id.error().message();
  auto image = store_->resolve("busybox");
  ASSERT_TRUE(image) << image.error().message();
  EXPECT_EQ(image->id, *id);
  EXPECT_EQ(image->tags, std::vector<std::string>{"docker.io/library/busybox:latest"});
  EXPECT_EQ(image->config["config"]["Cmd"], Json::parse("[\"sh\"]"));
  EXPECT_EQ(image->config["config"]["Env"], Json::parse("[\"PATH=/bin\"]"));
  ASSERT_EQ(image->chain_ids.size(), 1u);
  EXPECT_EQ(image->chain_ids[0], image->config["rootfs"]["diff_ids"][0]);
  EXPECT_EQ(image->size, 2);
  EXPECT_EQ(sha256_digest(store_->content().read(*id).value()), *id) << "the image ID is the config's digest";
  EXPECT_EQ(read_file(*store_->layer_path(image->chain_ids[0]) + "/bin/sh").value(), "#!");
  EXPECT_EQ(store_->resolve(id->substr(7, 12))->id, *id);
}

TEST_F(ImageStoreTest, TagAndUntag) {
  auto id = *import({{"f", AE_IFREG, "x"}}, tagged("one"));
  ASSERT_TRUE(store_->tag(id, *parse_reference("localhost:5000/two:v1")));
  EXPECT_EQ(store_->resolve("localhost:5000/two:v1")->id, id);
  auto events = store_->remove("one", false);
  ASSERT_TRUE(events);
  ASSERT_EQ(events->size(), 1u);
  EXPECT_EQ((*events)[0].what, "one:latest");
  EXPECT_FALSE((*events)[0].deleted);
  EXPECT_TRUE(store_->resolve(id));
  EXPECT_EQ(store_->resolve("one").error().message(), "No such image: one:latest");
}

TEST_F(ImageStoreTest, RemovingTheLastTagDeletesImageAndLayers) {
  auto id = *import({{"f", AE_IFREG, "x"}}, tagged("only"));
  auto chain = store_->resolve(id)->chain_ids[0];
  auto layer = *store_->layer_path(chain);
  auto events = store_->remove("only", false);
  ASSERT_TRUE(events);
  ASSERT_EQ(events->size(), 3u);
  EXPECT_EQ((*events)[1].what, id);
  EXPECT_EQ((*events)[2].what, chain);
  EXPECT_FALSE(fs::exists(layer));
  EXPECT_FALSE(store_->content().has(id));
  EXPECT_TRUE(store_->list()->empty());
}

TEST_F(ImageStoreTest, RemovingByIdNeedsForceWithSeveralTags) {
  auto id = *import({{"f", AE_IFREG, "x"}}, tagged("a"));
  ASSERT_TRUE(store_->tag(id, *parse_reference("b")));
  auto refused = store_->remove(id.substr(7, 12), false);
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().message(),
            "conflict: unable to delete " + id.substr(7, 12) + " (must be forced) - image is referenced in multiple repositories");
  auto events = store_->remove(id.substr(7, 12), true);
  ASSERT_TRUE(events);
  EXPECT_EQ(events->size(), 4u);  // two untags, the image, its layer
}

TEST_F(ImageStoreTest, SharedLayersStayWhileUsed) {
  auto first = *import({{"same", AE_IFREG, "content"}}, tagged("x"));
  ImportOptions other = tagged("y");
  other.changes = {"CMD [\"other\"]"};
  auto second = *import({{"same", AE_IFREG, "content"}}, other);
  ASSERT_NE(first, second);
  auto chain = store_->resolve("x")->chain_ids[0];
  ASSERT_EQ(store_->resolve("y")->chain_ids[0], chain);
  ASSERT_EQ(store_->remove("x", false)->size(), 2u) << "untag and the image, not the shared layer";
  EXPECT_TRUE(fs::exists(*store_->layer_path(chain)));
  ASSERT_EQ(store_->remove("y", false)->size(), 3u);
  EXPECT_FALSE(fs::exists(*store_->layer_path(chain)));
}

TEST_F(ImageStoreTest, BadInputLeavesNothing) {
  std::string junk = (root_ / "junk").string();
  ASSERT_TRUE(write_file_atomic(junk, std::string(5000, 'j')));
  UniqueFd fd(::open(junk.c_str(), O_RDONLY | O_CLOEXEC));
  auto id = store_->import(fd_reader(fd.get()), {});
  ASSERT_FALSE(id);
  EXPECT_TRUE(store_->list()->empty());
  EXPECT_TRUE(store_->content().list()->empty());
  ImportOptions bad;
  bad.changes = {"RUN rm -rf /"};
  EXPECT_EQ(import({{"f", AE_IFREG, "x"}}, bad).error().message(), "RUN is not a valid change command");
  EXPECT_TRUE(store_->content().list()->empty());
}

TEST_F(ImageStoreTest, StoreSurvivesReopen) {
  auto id = *import({{"f", AE_IFREG, "x"}}, tagged("kept"));
  store_.reset();
  store_ = std::move(*ImageStore::open(root_.string()));
  EXPECT_EQ(store_->resolve("kept")->id, id);
}

TEST(ImageConfigTest, Changes) {
  Json config = import_config("sha256:x", "now", "c");
  ASSERT_TRUE(apply_change(config, "CMD echo hi"));
  ASSERT_TRUE(apply_change(config, "ENTRYPOINT [\"/bin/sh\", \"-c\"]"));
  ASSERT_TRUE(apply_change(config, "ENV A=1 B=\"two words\""));
  ASSERT_TRUE(apply_change(config, "ENV A 3"));
  ASSERT_TRUE(apply_change(config, "EXPOSE 80 53/udp"));
  ASSERT_TRUE(apply_change(config, "LABEL org.example=yes"));
  ASSERT_TRUE(apply_change(config, "workdir /srv"));
  ASSERT_TRUE(apply_change(config, "USER 1000:1000"));
  ASSERT_TRUE(apply_change(config, "VOLUME /data"));
  const Json& c = config["config"];
  EXPECT_EQ(c["Cmd"], Json::parse(R"(["/bin/sh","-c","echo hi"])"));
  EXPECT_EQ(c["Entrypoint"], Json::parse(R"(["/bin/sh","-c"])"));
  EXPECT_EQ(c["Env"], Json::parse(R"(["B=two words","A=3"])"));
  EXPECT_EQ(c["ExposedPorts"], Json::parse(R"({"53/udp":{},"80/tcp":{}})"));
  EXPECT_EQ(c["Labels"]["org.example"], "yes");
  EXPECT_EQ(c["WorkingDir"], "/srv");
  EXPECT_EQ(c["User"], "1000:1000");
  EXPECT_TRUE(c["Volumes"].contains("/data"));
  EXPECT_FALSE(apply_change(config, "ENV"));
  EXPECT_FALSE(apply_change(config, "ENV =x"));
  EXPECT_FALSE(apply_change(config, "FROM scratch"));
}

}  // namespace
}  // namespace berth::image
