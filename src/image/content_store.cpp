#include "image/content_store.h"

#include <dirent.h>
#include <fcntl.h>
#include <stdlib.h>
#include <unistd.h>

#include <algorithm>

#include "base/file.h"

namespace berth::image {

Result<void> ContentStore::init() const {
  TRY(make_dirs(root_ + "/blobs/sha256", 0700));
  // Writes in progress when the last process died are garbage now.
  TRY(remove_all(root_ + "/ingest"));
  TRY(make_dirs(root_ + "/ingest", 0700));
  return {};
}

std::string ContentStore::path(const std::string& digest) const {
  auto colon = digest.find(':');
  return root_ + "/blobs/" + digest.substr(0, colon) + "/" + digest.substr(colon + 1);
}

bool ContentStore::has(const std::string& digest) const { return validate_digest(digest) && path_exists(path(digest)); }

Result<std::string> ContentStore::read(const std::string& digest) const {
  TRY(validate_digest(digest));
  auto data = read_file(path(digest));
  if (!data) {
    if (data.error().code() == ENOENT) return fail("blob " + digest + " not found", ENOENT);
    return std::unexpected(data.error());
  }
  // A blob is trusted only as far as its digest: check on every read of
  // metadata, which is small.
  if (sha256_digest(*data) != digest) return fail("blob " + digest + ": content does not match its digest");
  return data;
}

Result<std::string> ContentStore::put(std::string_view data) const {
  auto w = TRY(writer());
  TRY(w.write(data));
  return w.commit();
}

Result<void> ContentStore::remove(const std::string& digest) const {
  TRY(validate_digest(digest));
  if (::unlink(path(digest).c_str()) != 0 && errno != ENOENT) return fail_errno("remove blob " + digest);
  return {};
}

Result<std::vector<std::string>> ContentStore::list() const {
  std::vector<std::string> digests;
  DIR* dir = ::opendir((root_ + "/blobs/sha256").c_str());
  if (!dir) return errno == ENOENT ? Result<std::vector<std::string>>(digests) : fail_errno("list blobs");
  while (dirent* entry = ::readdir(dir)) {
    std::string digest = std::string("sha256:") + entry->d_name;
    if (validate_digest(digest)) digests.push_back(digest);
  }
  ::closedir(dir);
  std::ranges::sort(digests);
  return digests;
}

Result<ContentStore::Writer> ContentStore::writer() const {
  std::string temp = root_ + "/ingest/blob-XXXXXX";
  int fd = ::mkostemp(temp.data(), O_CLOEXEC);
  if (fd < 0) return fail_errno("create a blob in " + root_ + "/ingest");
  return Writer(this, UniqueFd(fd), std::move(temp));
}

ContentStore::Writer::~Writer() {
  if (!temp_.empty()) ::unlink(temp_.c_str());
}

Result<void> ContentStore::Writer::write(std::string_view data) {
  hash_.update(data);
  TRY(write_all(fd_.get(), data));
  size_ += data.size();
  // Starts writeback as the blob grows, so that the fsync of commit waits
  // for the last few MiB only, not for the whole blob.
  constexpr uint64_t kWriteback = 8 << 20;
  if (size_ - written_back_ >= kWriteback) {
    (void)::sync_file_range(fd_.get(), static_cast<off64_t>(written_back_), static_cast<off64_t>(size_ - written_back_), SYNC_FILE_RANGE_WRITE);
    written_back_ = size_;
  }
  return {};
}

Result<std::string> ContentStore::Writer::commit(std::optional<std::string> expected) {
  std::string digest = hash_.finish();
  if (expected && *expected != digest) return fail("digest mismatch: expected " + *expected + ", got " + digest, EBADMSG);
  if (::fsync(fd_.get()) != 0) return fail_errno("fsync blob " + digest);
  fd_.reset();
  std::string target = store_->path(digest);
  if (::rename(temp_.c_str(), target.c_str()) != 0) return fail_errno("store blob " + digest);
  temp_.clear();
  auto dir = TRY(open_file(target.substr(0, target.rfind('/')), O_RDONLY | O_DIRECTORY));
  if (::fsync(dir.get()) != 0) return fail_errno("fsync blob directory");
  return digest;
}

}  // namespace berth::image
