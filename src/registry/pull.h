// docker pull: a manifest (or an index, narrowed to one platform), its
// config, and its layers downloaded in parallel into the image store. Every
// blob is verified against its digest; layers already stored are skipped; a
// failed pull leaves no image, and keeps its complete layers and partial
// downloads for the next attempt.
#pragma once

#include <chrono>
#include <mutex>
#include <string>
#include <vector>

#include "base/error.h"
#include "image/image_store.h"
#include "image/reference.h"
#include "registry/manifest.h"
#include "registry/progress.h"
#include "registry/session.h"

namespace berth::registry {

struct PullOptions {
  Platform platform;
  std::string download_dir;  // partial downloads, kept to resume
  std::mutex* store_lock = nullptr;  // held while the image store changes
  int max_downloads = 3;  // Docker's max-concurrent-downloads
};

struct PullResult {
  std::string image_id;
  std::string digest;  // of the manifest (or index) the reference names
  bool downloaded = false;  // false: the tag already named this image
};

// Pulls one tag or digest (ref has one of them).
Result<PullResult> pull(Session& session, image::ImageStore& store, const image::Reference& ref, const PullOptions& options,
                        Progress& progress);

// Removes the partial downloads of pulls abandoned more than max_age ago:
// until then, a pull of the same layer resumes from them.
void remove_stale_downloads(const std::string& dir, std::chrono::seconds max_age);

// The repository's tags (GET /v2/NAME/tags/list, every page).
Result<std::vector<std::string>> list_tags(Session& session, const std::string& path);

}  // namespace berth::registry
