// `save` and `load`: image archives in the docker-archive format
// (manifest.json, repositories) and, in the same tar, an OCI image layout
// (oci-layout, index.json, blobs/sha256/…), as Docker 25+ writes them.
// load takes either, and what docker save and podman save write.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "base/error.h"
#include "image/image_store.h"
#include "image/layer.h"
#include "image/tar_writer.h"

namespace berth::image {

// An image to save, and the tags to name it by in the archive.
struct SaveItem {
  Image image;
  std::vector<std::string> tags;  // full references
};

Result<void> save_images(const ImageStore& store, const std::vector<SaveItem>& items, const ByteSink& out);

struct LoadedImage {
  std::string id;
  std::vector<std::string> tags;  // familiar names
};

// Reads an archive, stores its layers and images, tags them. An image whose
// layers or config do not match their digests is refused, and what it
// brought is dropped; images loaded before it in the archive stay.
Result<std::vector<LoadedImage>> load_images(ImageStore& store, const ByteReader& input);

}  // namespace berth::image
