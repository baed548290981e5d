// Blobs by digest, in the OCI image-layout shape (blobs/sha256/<hex>). Every
// write is verified against its digest and made visible atomically, so a
// half-written or corrupt blob is never in the store.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "base/digest.h"
#include "base/error.h"
#include "base/unique_fd.h"

namespace berth::image {

class ContentStore {
 public:
  explicit ContentStore(std::string root) : root_(std::move(root)) {}

  // Creates the store's directories and drops abandoned writes; one
  // process owns a store.
  Result<void> init() const;

  bool has(const std::string& digest) const;
  // Where the blob lives (whether or not it is there).
  std::string path(const std::string& digest) const;
  Result<std::string> read(const std::string& digest) const;
  // Stores data; returns its digest.
  Result<std::string> put(std::string_view data) const;
  Result<void> remove(const std::string& digest) const;
  Result<std::vector<std::string>> list() const;

  // A blob written in pieces: hashed as it goes, committed under its digest
  // only if that matches what was expected. Abandoned writes leave nothing.
  class Writer {
   public:
    Writer(Writer&&) = default;
    Writer& operator=(Writer&&) = default;
    ~Writer();
    Result<void> write(std::string_view data);
    // Checks the digest (when expected is given), then moves the blob into
    // place; returns its digest.
    Result<std::string> commit(std::optional<std::string> expected = std::nullopt);
    uint64_t size() const { return size_; }

   private:
    friend class ContentStore;
    Writer(const ContentStore* store, UniqueFd fd, std::string temp) : store_(store), fd_(std::move(fd)), temp_(std::move(temp)) {}
    const ContentStore* store_;
    UniqueFd fd_;
    std::string temp_;
    Sha256 hash_;
    uint64_t size_ = 0;
    uint64_t written_back_ = 0;  // bytes whose writeback has been started
  };

  Result<Writer> writer() const;

 private:
  std::string root_;
};

}  // namespace berth::image
