// The daemon's core, without HTTP: the stores under the data root, the
// containers, the event stream, and the lock that orders changes to images.
#pragma once

#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "base/error.h"
#include "engine/containers.h"
#include "engine/events.h"
#include "image/image_store.h"

namespace berth::engine {

struct EngineConfig {
  std::string data_root = "/var/lib/berth";
  std::string exec_root = "/run/berth";  // state that a reboot ends: shims, runtime state
  std::string binary_dir;                // where berth-shim and berth-runtime are; berthd's own by default
  std::string init_path = "/usr/bin/tini-static";  // run --init: a static init, mounted as /sbin/docker-init
  std::vector<std::string> insecure_registries;    // HOST:PORT reachable over plain HTTP
};

class Engine {
 public:
  static Result<std::unique_ptr<Engine>> open(const EngineConfig& config);

  const EngineConfig& config() const { return config_; }
  // Where pulls keep their partial downloads.
  std::string download_dir() const { return config_.data_root + "/downloads"; }
  image::ImageStore& images() { return *images_; }
  // Held across each change to images: SQLite makes each step atomic, this
  // makes a whole rmi or import one step for the other requests.
  std::mutex& image_mutex() { return image_mutex_; }
  EventBus& events() { return events_; }
  Containers& containers() { return *containers_; }

 private:
  Engine(EngineConfig config, std::unique_ptr<image::ImageStore> images);
  EngineConfig config_;
  std::unique_ptr<image::ImageStore> images_;
  std::mutex image_mutex_;
  EventBus events_;
  std::unique_ptr<Containers> containers_;
};

}  // namespace berth::engine
