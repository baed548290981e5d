#include "image/content_store.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

namespace berth::image {
namespace {

namespace fs = std::filesystem;

class ContentStoreTest : public testing::Test {
 protected:
  void SetUp() override {
    root_ = fs::temp_directory_path() / ("berth-content-test-" + std::to_string(::getpid()));
    fs::remove_all(root_);
    store_.emplace(root_.string());
    ASSERT_TRUE(store_->init());
  }
  void TearDown() override { fs::remove_all(root_); }
  fs::path root_;
  std::optional<ContentStore> store_;
};

TEST_F(ContentStoreTest, PutReadListRemove) {
  auto digest = store_->put("hello");
  ASSERT_TRUE(digest);
  EXPECT_EQ(*digest, sha256_digest("hello"));
  EXPECT_TRUE(store_->has(*digest));
  EXPECT_EQ(store_->read(*digest).value(), "hello");
  EXPECT_EQ(store_->list().value(), std::vector<std::string>{*digest});
  ASSERT_TRUE(store_->remove(*digest));
  EXPECT_FALSE(store_->has(*digest));
  EXPECT_EQ(store_->read(*digest).error().code(), ENOENT);
}

TEST_F(ContentStoreTest, WriterVerifiesTheExpectedDigest) {
  auto writer = store_->writer();
  ASSERT_TRUE(writer);
  ASSERT_TRUE(writer->write("hel"));
  ASSERT_TRUE(writer->write("lo"));
  auto wrong = writer->commit(sha256_digest("other"));
  ASSERT_FALSE(wrong);
  EXPECT_TRUE(wrong.error().message().starts_with("digest mismatch: expected sha256:"));
  EXPECT_FALSE(store_->has(sha256_digest("hello")));
}

TEST_F(ContentStoreTest, AbandonedWritesLeaveNothing) {
  {
    auto writer = store_->writer();
    ASSERT_TRUE(writer->write("partial"));
  }
  EXPECT_TRUE(fs::is_empty(root_ / "ingest"));
  EXPECT_TRUE(store_->list().value().empty());
}

TEST_F(ContentStoreTest, CorruptBlobIsRefusedOnRead) {
  auto digest = store_->put("good").value();
  { std::ofstream(store_->path(digest)) << "evil"; }
  auto read = store_->read(digest);
  ASSERT_FALSE(read);
  EXPECT_EQ(read.error().message(), "blob " + digest + ": content does not match its digest");
}

TEST_F(ContentStoreTest, BadDigestsAreRejected) {
  EXPECT_FALSE(store_->has("sha256:../../etc/passwd"));
  EXPECT_FALSE(store_->read("sha256:xyz"));
  EXPECT_FALSE(store_->remove("nope"));
}

}  // namespace
}  // namespace berth::image
