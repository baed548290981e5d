#include "engine/engine.h"

#include <unistd.h>

#include "base/file.h"
#include "registry/pull.h"

namespace berth::engine {

namespace {

std::string own_directory() {
  char buf[4096];
  ssize_t n = ::readlink("/proc/self/exe", buf, sizeof buf - 1);
  if (n <= 0) return ".";
  std::string path(buf, static_cast<size_t>(n));
  return path.substr(0, path.rfind('/'));
}

}  // namespace

Engine::Engine(EngineConfig config, std::unique_ptr<image::ImageStore> images)
    : config_(std::move(config)), images_(std::move(images)) {
  std::string bin = config_.binary_dir.empty() ? own_directory() : config_.binary_dir;
  containers_ = std::make_unique<Containers>(
      ContainerPaths{config_.data_root, config_.exec_root, bin + "/berth-shim-start", config_.init_path}, *images_, image_mutex_, events_);
}

Result<std::unique_ptr<Engine>> Engine::open(const EngineConfig& config) {
  TRY(make_dirs(config.data_root, 0711));
  TRY(make_dirs(config.exec_root, 0711));
  auto images = TRY_CTX(image::ImageStore::open(config.data_root + "/image"), "open image store");
  std::unique_ptr<Engine> engine(new Engine(config, std::move(images)));
  TRY_CTX(engine->containers().restore(), "restore containers");
  // A day to come back to an interrupted pull; then its partial layers go.
  registry::remove_stale_downloads(engine->download_dir(), std::chrono::hours(24));
  return engine;
}

}  // namespace berth::engine
