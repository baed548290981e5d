// Image references as Docker parses and normalizes them:
// [registry[:port]/]repo[:tag][@digest], where "ubuntu" means
// docker.io/library/ubuntu:latest.
#pragma once

#include <optional>
#include <string>

#include "base/error.h"

namespace berth::image {

struct Reference {
  std::string domain;  // "docker.io", "localhost:5000"
  std::string path;    // "library/ubuntu"
  std::string tag;     // empty when the reference has only a digest, or none
  std::string digest;  // "sha256:…" or empty

  // "docker.io/library/ubuntu"
  std::string name() const { return domain + "/" + path; }
  // The full form: "docker.io/library/ubuntu:latest", with "@digest" if any.
  std::string str() const;
  // As Docker shows it: "ubuntu:latest", "foo/bar:1", "localhost:5000/x:y".
  std::string familiar() const;
  // The repository as Docker shows it: "ubuntu", "foo/bar".
  std::string familiar_name() const;
};

// Parses and normalizes a reference the way `docker pull`/`docker tag` do;
// errors are Docker's ("invalid reference format: repository name
// (library/Ubuntu) must be lowercase"). No tag and no digest stays so:
// callers that want one add "latest" with with_default_tag().
Result<Reference> parse_reference(std::string_view text);

// The reference with tag "latest" when it has neither tag nor digest.
Reference with_default_tag(Reference ref);

// The domain a server address names, as references spell it:
// "https://index.docker.io/v1/" → "docker.io", "http://localhost:5000/" → "localhost:5000".
std::string registry_domain(const std::string& server);

// True for a full or shortened image ID in hex (what `docker rmi 3f57` takes).
bool looks_like_id(std::string_view text);

}  // namespace berth::image
