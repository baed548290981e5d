// The daemon's core, without HTTP: the stores under the data root, the
// event stream, and the lock that orders changes to images.
#pragma once

#include <memory>
#include <mutex>
#include <string>

#include "base/error.h"
#include "engine/events.h"
#include "image/image_store.h"

namespace berth::engine {

struct EngineConfig {
  std::string data_root = "/var/lib/berth";
};

class Engine {
 public:
  static Result<std::unique_ptr<Engine>> open(const EngineConfig& config);

  const EngineConfig& config() const { return config_; }
  image::ImageStore& images() { return *images_; }
  // Held across each change to images: SQLite makes each step atomic, this
  // makes a whole rmi or import one step for the other requests.
  std::mutex& image_mutex() { return image_mutex_; }
  EventBus& events() { return events_; }

 private:
  Engine(EngineConfig config, std::unique_ptr<image::ImageStore> images) : config_(std::move(config)), images_(std::move(images)) {}
  EngineConfig config_;
  std::unique_ptr<image::ImageStore> images_;
  std::mutex image_mutex_;
  EventBus events_;
};

}  // namespace berth::engine
