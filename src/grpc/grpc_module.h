// GrpcModule: gpsrelayd's gRPC server as a daemon module, enabled by
// [grpc] listen when some module brings a service for it ([topics]: the
// topics service; [events]: the entity event service). It serves the
// GrpcServices it is given (grpc/grpc_service.h) and knows nothing of what
// they do; it adds no HTTP routes.
//
// On SIGTERM (join()) each service drains (topics: open Subscribe calls end
// with UNAVAILABLE), the server stops taking calls, gives calls in flight
// kShutdownGrace, cancels what is left (a PublishStream whose client keeps
// writing) after that, and only then the services stop (topics: its
// bridge), so every call gets its answer and the daemon still exits well
// within 10 s. It must come after the modules whose services it serves in
// the daemon's list, so that they stop and join first (daemon/modules.cc).
#pragma once

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/config.h"
#include "daemon/module.h"
#include "grpc/grpc_server.h"
#include "grpc/grpc_service.h"

namespace gpsrelay::grpc_api {

inline constexpr std::chrono::milliseconds kShutdownGrace{3000};

class GrpcModule : public daemon::Module {
 public:
  // REQUIRES: config.grpc.listen is set and `services` is not empty.
  GrpcModule(const core::Config& config, std::vector<std::unique_ptr<GrpcService>> services);
  ~GrpcModule() override;

  std::string_view name() const override { return "grpc"; }
  void add_routes(http::RouteTable& /*routes*/) const override {}
  std::unique_ptr<http::RequestHandler> make_handler(
      const http::WorkerServices& /*services*/) override {
    return nullptr;
  }

  // Starts the services, binds [grpc] listen (throws when it cannot, or
  // the TLS files do not load) and serves.
  void start() override;
  void join() override;
  bool alive(std::chrono::steady_clock::time_point now,
             std::chrono::steady_clock::duration limit) const override;
  void add_health(http::HealthSnapshot& snapshot) const override;

 private:
  void stop_and_join();

  const core::Config config_;
  std::vector<std::unique_ptr<GrpcService>> services_;
  std::optional<GrpcServer> server_;  // last: stopped before the services
};

}  // namespace gpsrelay::grpc_api
