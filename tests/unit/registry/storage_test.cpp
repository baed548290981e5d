#include "registry/storage.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>

#include "base/digest.h"
#include "base/json.h"

namespace berth::registry {
namespace {

namespace fs = std::filesystem;

constexpr const char* kOciManifest = "application/vnd.oci.image.manifest.v1+json";
constexpr const char* kOciIndex = "application/vnd.oci.image.index.v1+json";

class StorageTest : public testing::Test {
 protected:
  void SetUp() override {
    root_ = fs::temp_directory_path() / ("berth-registry-test-" + std::to_string(::getpid()));
    fs::remove_all(root_);
    storage_ = std::make_unique<Storage>(root_.string());
    ASSERT_TRUE(storage_->init());
  }
  void TearDown() override { fs::remove_all(root_); }

  // Uploads data in two chunks; returns its digest.
  std::string push_blob(const std::string& name, const std::string& data) {
    auto id = storage_->start_upload(name);
    EXPECT_TRUE(id);
    EXPECT_EQ(*storage_->append_upload(name, *id, data.substr(0, 3), 0), std::min<size_t>(3, data.size()));
    EXPECT_TRUE(storage_->append_upload(name, *id, data.substr(std::min<size_t>(3, data.size())), std::min<size_t>(3, data.size())));
    auto digest = storage_->finish_upload(name, *id, sha256_digest(data));
    EXPECT_TRUE(digest) << digest.error().message();
    return *digest;
  }

  std::string image_manifest(const std::string& config, const std::string& layer) {
    return Json{{"schemaVersion", 2},
                {"mediaType", kOciManifest},
                {"config", {{"mediaType", "application/vnd.oci.image.config.v1+json"}, {"digest", config}, {"size", 2}}},
                {"layers", {{{"mediaType", "application/vnd.oci.image.layer.v1.tar"}, {"digest", layer}, {"size", 5}}}}}
        .dump();
  }

  fs::path root_;
  std::unique_ptr<Storage> storage_;
};

TEST_F(StorageTest, UploadsAreVerifiedAndScopedToTheirRepository) {
  std::string digest = push_blob("library/busybox", "layer bytes");
  EXPECT_EQ(*storage_->blob_path("library/busybox", digest), (root_ / "blobs/sha256" / digest.substr(7)).string());
  // Another repository sees the blob only once it is mounted there.
  EXPECT_EQ(storage_->blob_path("other", digest).error().code(), ENOENT);
  ASSERT_TRUE(storage_->mount_blob("library/busybox", "other", digest));
  EXPECT_TRUE(storage_->blob_path("other", digest));

  // Bytes that do not match the digest the client gives are not stored.
  auto id = *storage_->start_upload("library/busybox");
  ASSERT_TRUE(storage_->append_upload("library/busybox", id, "evil"));
  auto bad = storage_->finish_upload("library/busybox", id, sha256_digest("good"));
  EXPECT_EQ(bad.error().code(), EBADMSG);
  EXPECT_EQ(storage_->blob_path("library/busybox", sha256_digest("good")).error().code(), ENOENT);
  EXPECT_EQ(storage_->upload_size("library/busybox", id).error().code(), ENOENT);

  // Chunks in order only; an upload belongs to its repository.
  id = *storage_->start_upload("library/busybox");
  EXPECT_EQ(storage_->append_upload("library/busybox", id, "abc", 5).error().code(), ERANGE);
  EXPECT_EQ(storage_->append_upload("other", id, "abc").error().code(), ENOENT);
  ASSERT_TRUE(storage_->cancel_upload("library/busybox", id));

  ASSERT_TRUE(storage_->delete_blob("other", digest));
  EXPECT_EQ(storage_->blob_path("other", digest).error().code(), ENOENT);
  EXPECT_TRUE(storage_->blob_path("library/busybox", digest));
}

TEST_F(StorageTest, ManifestsTagsAndIndexes) {
  std::string config = push_blob("app", "{}"), layer = push_blob("app", "files");
  std::string body = image_manifest(config, layer);
  auto digest = storage_->put_manifest("app", "v1", kOciManifest, body);
  ASSERT_TRUE(digest) << digest.error().message();
  EXPECT_EQ(*digest, sha256_digest(body));
  auto by_tag = storage_->manifest("app", "v1");
  ASSERT_TRUE(by_tag);
  EXPECT_EQ(by_tag->digest, *digest);
  EXPECT_EQ(by_tag->media_type, kOciManifest);
  EXPECT_EQ(by_tag->body, body);
  EXPECT_EQ(storage_->manifest("app", *digest)->body, body);
  ASSERT_TRUE(storage_->put_manifest("app", "latest", "", body));  // media type from the body
  EXPECT_EQ(*storage_->tags("app"), (std::vector<std::string>{"latest", "v1"}));

  // An index refers to manifests already in the repository.
  std::string index = Json{{"schemaVersion", 2}, {"mediaType", kOciIndex},
                           {"manifests", {{{"mediaType", kOciManifest}, {"digest", *digest}, {"size", body.size()},
                                           {"platform", {{"os", "linux"}, {"architecture", "amd64"}}}}}}}
                          .dump();
  ASSERT_TRUE(storage_->put_manifest("app", "multi", kOciIndex, index));

  // Deleting by tag removes the tag; by digest the manifest and its tags.
  ASSERT_TRUE(storage_->delete_manifest("app", "latest"));
  EXPECT_EQ(*storage_->tags("app"), (std::vector<std::string>{"multi", "v1"}));
  ASSERT_TRUE(storage_->delete_manifest("app", *digest));
  EXPECT_EQ(*storage_->tags("app"), std::vector<std::string>{"multi"});
  EXPECT_EQ(storage_->manifest("app", *digest).error().code(), ENOENT);
}

TEST_F(StorageTest, BadManifestsAreRefusedAndStoreNothing) {
  std::string config = push_blob("app", "{}");
  std::string missing_layer = sha256_digest("never pushed");
  EXPECT_EQ(storage_->put_manifest("app", "v1", kOciManifest, image_manifest(config, missing_layer)).error().code(), ENOENT);
  EXPECT_EQ(storage_->put_manifest("app", "v1", kOciManifest, "not json").error().code(), EINVAL);
  EXPECT_EQ(storage_->put_manifest("app", "v1", "", R"({"schemaVersion": 1, "name": "app"})").error().code(), EINVAL);
  std::string layer = push_blob("app", "files");
  std::string body = image_manifest(config, layer);
  EXPECT_EQ(storage_->put_manifest("app", sha256_digest("other"), kOciManifest, body).error().code(), EBADMSG);
  EXPECT_EQ(storage_->put_manifest("app", "bad tag!", kOciManifest, body).error().code(), EINVAL);
  EXPECT_EQ(storage_->put_manifest("Bad/Name", "v1", kOciManifest, body).error().code(), EINVAL);
  EXPECT_TRUE(storage_->tags("app")->empty());
}

TEST_F(StorageTest, GarbageCollectionKeepsWhatManifestsReferTo) {
  std::string config = push_blob("app", "{}"), layer = push_blob("app", "files");
  std::string orphan = push_blob("app", "pushed, never used");
  auto manifest = *storage_->put_manifest("app", "v1", kOciManifest, image_manifest(config, layer));
  EXPECT_EQ(*storage_->collect_garbage(/*dry_run=*/true), std::vector<std::string>{orphan});
  EXPECT_TRUE(storage_->blob_path("app", orphan));
  EXPECT_EQ(*storage_->collect_garbage(false), std::vector<std::string>{orphan});
  EXPECT_EQ(storage_->blob_path("app", orphan).error().code(), ENOENT);
  EXPECT_TRUE(storage_->blob_path("app", layer));
  // Once the manifest is gone, so is everything.
  ASSERT_TRUE(storage_->delete_manifest("app", manifest));
  auto removed = *storage_->collect_garbage(false);
  EXPECT_EQ(removed.size(), 3u);
  EXPECT_TRUE(storage_->collect_garbage(false)->empty());
}

TEST(RegistryNames, FollowTheDistributionGrammar) {
  for (const char* good : {"busybox", "library/busybox", "a.b/c-d/e__f", "x0/y1"}) EXPECT_TRUE(validate_name(good)) << good;
  for (const char* bad : {"", "Busybox", "a//b", "/a", "a/", "_a", "a/_blobs", "a..b"}) EXPECT_FALSE(validate_name(bad)) << bad;
  EXPECT_TRUE(validate_tag("v1.0_rc-2"));
  EXPECT_FALSE(validate_tag(".hidden"));
  EXPECT_FALSE(validate_tag(std::string(129, 'a')));
}

TEST(RegistryPagination, AfterLastAtMostN) {
  std::vector<std::string> items = {"a", "b", "c", "d"};
  EXPECT_EQ(paginate(items, std::nullopt, ""), items);
  EXPECT_EQ(paginate(items, 2, ""), (std::vector<std::string>{"a", "b"}));
  EXPECT_EQ(paginate(items, 2, "b"), (std::vector<std::string>{"c", "d"}));
  EXPECT_EQ(paginate(items, 5, "bb"), (std::vector<std::string>{"c", "d"}));
  EXPECT_TRUE(paginate(items, 0, "").empty());
  EXPECT_TRUE(paginate(items, 3, "d").empty());
}

TEST_F(StorageTest, CatalogListsRepositoriesWithManifests) {
  std::string config = push_blob("team/app", "{}"), layer = push_blob("team/app", "files");
  ASSERT_TRUE(storage_->put_manifest("team/app", "v1", kOciManifest, image_manifest(config, layer)));
  ASSERT_TRUE(storage_->mount_blob("team/app", "team/app/sub", config));
  ASSERT_TRUE(storage_->mount_blob("team/app", "team/app/sub", layer));
  ASSERT_TRUE(storage_->put_manifest("team/app/sub", "v2", kOciManifest, image_manifest(config, layer)));
  push_blob("blobs-only", "x");
  EXPECT_EQ(*storage_->repositories(), (std::vector<std::string>{"team/app", "team/app/sub"}));
  EXPECT_EQ(storage_->tags("nothing").error().code(), ENOENT);
}

}  // namespace
}  // namespace berth::registry
