// docker push: an image's layers (gzip-compressed, unless the registry has
// them already or can mount them from another repository), its config, then
// its schema 2 manifest under the tag.
#pragma once

#include <mutex>
#include <string>

#include "base/error.h"
#include "image/image_store.h"
#include "image/reference.h"
#include "registry/manifest.h"
#include "registry/progress.h"
#include "registry/session.h"

namespace berth::registry {

struct PushOptions {
  std::string work_dir;  // compressed layers, while they are uploaded
  std::mutex* store_lock = nullptr;
  int max_uploads = 5;  // Docker's max-concurrent-uploads
  // Blobs larger than this go up in PATCH chunks of this size.
  uint64_t chunk_size = 64 << 20;
};

struct PushResult {
  std::string digest;  // of the manifest
  int64_t size = 0;
};

// Pushes the local image ref (which has a tag) names.
Result<PushResult> push(Session& session, image::ImageStore& store, const image::Reference& ref, const PushOptions& options,
                        Progress& progress);

}  // namespace berth::registry
