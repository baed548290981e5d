// /containers/{name}/exec and /exec/…: create, start (a hijacked stream
// unless detached), inspect, resize.
#include <sys/socket.h>

#include "api/routes.h"
#include "api/stream_relay.h"
#include "base/file.h"
#include "shim/protocol.h"

namespace berth::api {

namespace {

Result<void> start(Request& request, ResponseWriter& response, engine::Engine& engine) {
  auto& containers = engine.containers();
  std::string id = request.params["id"];
  Json body = TRY(read_json_body(request));
  bool detach = body.value("Detach", false);
  auto info = TRY(containers.exec_inspect(id));
  auto output = TRY(containers.exec_prepare(id, detach));
  if (detach) {
    TRY(containers.exec_run(id));
    return response.send(200, "application/json", "");
  }
  bool tty = info["ProcessConfig"].value("tty", false);
  std::string keys = info.value("DetachKeys", "");
  RelayOptions options{info.value("OpenStdin", false), true, tty, TRY(parse_detach_keys(keys.empty() ? "ctrl-p,ctrl-q" : keys))};
  auto hijacked = TRY(response.hijack(tty ? "application/vnd.docker.raw-stream" : "application/vnd.docker.multiplexed-stream"));
  // The process runs only now that the client has the stream's header:
  // output that came with it could be lost in a client's header buffer.
  // A failure to start is said in the stream, as Docker does.
  if (auto ran = containers.exec_run(id); !ran) {
    std::string message = ran.error().message() + "\r\n";
    (void)write_all(hijacked.fd, tty ? message : shim::frame_header(shim::kStdout, message.size()) + message);
    ::shutdown(hijacked.fd, SHUT_WR);
    return {};
  }
  // The exit is recorded before the client hears the stream end, so its
  // inspect right after sees the exit code.
  if (auto status = relay_streams(hijacked.fd, hijacked.pending, output.get(), options)) containers.exec_exited(id, *status);
  ::shutdown(hijacked.fd, SHUT_WR);
  return {};
}

}  // namespace

void add_exec_routes(Router& router, engine::Engine& engine) {
  router.add("POST", "/containers/{name}/exec", [&engine](Request& rq, ResponseWriter& rs) -> Result<void> {
    Json config = TRY(read_json_body(rq));
    auto id = TRY(engine.containers().exec_create(rq.params["name"], config));
    return rs.json(201, {{"Id", id}});
  });
  router.add("POST", "/exec/{id}/start", [&engine](Request& rq, ResponseWriter& rs) { return start(rq, rs, engine); });
  router.add("GET", "/exec/{id}/json", [&engine](Request& rq, ResponseWriter& rs) -> Result<void> {
    return rs.json(200, TRY(engine.containers().exec_inspect(rq.params["id"])));
  });
  router.add("POST", "/exec/{id}/resize", [&engine](Request& rq, ResponseWriter& rs) -> Result<void> {
    int h = std::atoi(rq.query_value("h").c_str()), w = std::atoi(rq.query_value("w").c_str());
    TRY(engine.containers().exec_resize(rq.params["id"], h, w));
    return rs.send(200, "text/plain", "");
  });
}

}  // namespace berth::api
