#include "engine/engine.h"

#include "base/file.h"

namespace berth::engine {

Result<std::unique_ptr<Engine>> Engine::open(const EngineConfig& config) {
  TRY(make_dirs(config.data_root, 0711));
  auto images = TRY_CTX(image::ImageStore::open(config.data_root + "/image"), "open image store");
  return std::unique_ptr<Engine>(new Engine(config, std::move(images)));
}

}  // namespace berth::engine
