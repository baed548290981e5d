// The containers of one daemon and their life: create, start (through a
// berth-shim each), stop, kill, pause, remove, wait, restart policies, and
// re-attaching to the shims that kept running while berthd was down.
#pragma once

#include <condition_variable>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include "base/error.h"
#include "base/json.h"
#include "base/unique_fd.h"
#include "engine/container.h"
#include "engine/events.h"
#include "image/image_store.h"

namespace berth::engine {

struct ContainerPaths {
  std::string data_root;  // containers/<id>/: record, log, upper layer, rootfs mount
  std::string exec_root;  // containers/<id>/: shim socket, bundle; runtime/: the runtime's state
  std::string shim;       // berth-shim-start binary
  std::string init;       // the init of run --init (tini-static)
};

class Containers {
 public:
  Containers(ContainerPaths paths, image::ImageStore& images, std::mutex& image_mutex, EventBus& events);

  // Loads every container; re-attaches to running ones whose shim lives and
  // marks the others exited.
  Result<void> restore();

  struct Created {
    std::string id;
    std::vector<std::string> warnings;
  };
  // config and host_config as the Engine API's create body has them.
  Result<Created> create(const std::string& name, Json config, Json host_config);

  // A copy of a container, found by name, full ID or unique ID prefix.
  Result<Container> get(const std::string& ref) const;
  std::vector<Container> list() const;
  // Whether any container uses the image (rmi's conflict check).
  std::optional<Container> user_of_image(const std::string& image_id) const;

  Result<void> start(const std::string& ref);
  // Signal (StopSignal or SIGTERM), then SIGKILL after timeout seconds.
  // False when the container was not running.
  Result<bool> stop(const std::string& ref, std::optional<int> timeout, const std::string& signal = "");
  Result<void> restart(const std::string& ref, std::optional<int> timeout);
  Result<void> kill(const std::string& ref, const std::string& signal);
  Result<void> pause(const std::string& ref);
  Result<void> unpause(const std::string& ref);
  Result<void> remove(const std::string& ref, bool force);
  // Waits (at most timeout) for the files of removed containers to go: a
  // removal by an exit (--rm) finishes after its waiters have heard.
  void finish_removals(std::chrono::seconds timeout);
  Result<void> rename(const std::string& ref, const std::string& new_name);
  // Changes the limits (and restart policy), in the running container too.
  Result<void> update(const std::string& ref, const Json& body);
  // Waits per condition: "not-running" (default), "next-exit" or "removed".
  Result<int> wait(const std::string& ref, const std::string& condition);
  // Names of removed containers.
  Result<std::vector<std::string>> prune(const std::function<bool(const Container&)>& filter);

  // A connection to the container's shim, subscribed to its output. For a
  // container not running yet it waits for its next start, which in turn
  // waits (briefly) for it, so nothing printed at start is missed.
  Result<UniqueFd> attach(const std::string& ref, bool stdout, bool stderr, const std::function<bool()>& cancelled);

  // Execs: another process in a running container, each with a shim of its own.
  Result<std::string> exec_create(const std::string& ref, Json config);
  // Readies an exec's shim; unless detached, returns a connection
  // subscribed to its output (made before it runs, so nothing is missed).
  Result<UniqueFd> exec_prepare(const std::string& exec_id, bool detach);
  // Runs the prepared exec; a failure to start is its end too (status 126).
  Result<void> exec_run(const std::string& exec_id);
  Result<Json> exec_inspect(const std::string& exec_id) const;
  Result<void> exec_resize(const std::string& exec_id, int height, int width);
  // Records an exec's end (from whoever hears of it first).
  void exec_exited(const std::string& exec_id, int status);
  std::vector<std::string> exec_ids(const std::string& container_id) const;

  // The container's root filesystem for a call (cp, export), mounted for it
  // when the container is not running.
  Result<void> with_rootfs(const std::string& ref, const std::function<Result<void>(const std::string& rootfs)>& use);
  // What the container changed: {kind, path}, kind 0 changed, 1 added, 2 deleted.
  Result<std::vector<std::pair<int, std::string>>> changes(const std::string& ref);
  struct CommitOptions {
    std::vector<image::Reference> tags;
    std::string comment, author;
    std::vector<std::string> changes;  // Dockerfile instructions
    Json config;                       // overrides of the container's Config
    bool pause = true;
  };
  // A new image: the container's image plus a layer of what it changed.
  Result<std::string> commit(const std::string& ref, const CommitOptions& options);

  std::string log_path(const Container& c) const;
  std::string container_dir(const std::string& id) const;
  std::string state_dir(const std::string& id) const;
  // Where a container's directory goes while its files are removed.
  std::string trash_dir(const std::string& id) const;
  // Unmounts and deletes what a removal moved to the trash.
  Result<void> empty_trash(const std::string& id);
  static bool auto_remove(const Container& c) { return field(c.host_config, "AutoRemove") == true; }
  std::string runtime_root() const { return paths_.exec_root + "/runtime"; }
  const ContainerPaths& paths() const { return paths_; }
  image::ImageStore& images() { return images_; }
  // The runtime spec the container was started with.
  Result<Json> runtime_spec(const std::string& id) const;

 private:
  struct Entry;
  struct Exec;
  Result<std::shared_ptr<Entry>> find(const std::string& ref) const;
  Result<void> persist(const Container& c, bool durable = false) const;
  Result<void> start_locked(const std::shared_ptr<Entry>& entry);
  Result<void> prepare_rootfs(const Container& c);
  Result<void> mount_rootfs(const Container& c, image::Image* image = nullptr);
  Result<std::vector<std::string>> lower_dirs(const Container& c, image::Image* image);
  // Removes the runtime's state, the rootfs mount (in dir, by default the
  // container's directory) and the shim's state directory.
  void cleanup_rootfs(const std::string& id, const std::string& dir = "");
  // Waits for the shim's report of the exit (and then for the shim, when it
  // is our child), and applies the restart policy.
  void monitor(std::shared_ptr<Entry> entry, UniqueFd connection, pid_t shim);
  void handle_exit(const std::shared_ptr<Entry>& entry, std::optional<int> status);
  void apply_restart_policy(const std::shared_ptr<Entry>& entry);
  Result<void> send_signal(const std::shared_ptr<Entry>& entry, int signal);
  bool wait_stopped(const std::shared_ptr<Entry>& entry, std::optional<int> timeout_seconds);
  Result<void> remove_locked(const std::shared_ptr<Entry>& entry);
  std::string exec_dir(const Exec& exec) const;
  Result<std::shared_ptr<Exec>> find_exec(const std::string& exec_id) const;  // with mutex_ held

  ContainerPaths paths_;
  image::ImageStore& images_;
  std::mutex& image_mutex_;
  EventBus& events_;

  mutable std::mutex mutex_;  // the map, every Entry's container and flags
  std::condition_variable changed_;
  std::map<std::string, std::shared_ptr<Entry>> by_id_;
  std::map<std::string, std::shared_ptr<Exec>> execs_;
  int removals_ = 0;  // removed containers whose files are still being deleted
  std::mt19937 rng_{std::random_device{}()};
};

}  // namespace berth::engine
