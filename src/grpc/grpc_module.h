// GrpcModule: gpsrelayd's gRPC server as a daemon module, enabled by
// [grpc] listen with [topics] enabled. It owns the topics service, the
// bridge thread ("grpc-topics") that serves it from Redis, and the
// grpc::Server; it adds no HTTP routes. On SIGTERM (join()) open Subscribe
// calls end with UNAVAILABLE, the server stops taking calls, gives calls in
// flight kShutdownGrace, cancels what is left (a PublishStream whose client
// keeps writing) after that, and only then stops the bridge, so every call
// gets its answer and the daemon still exits well within 10 s.
#pragma once

#include <chrono>
#include <memory>
#include <optional>
#include <string>

#include "core/config.h"
#include "daemon/module.h"
#include "grpc/grpc_server.h"
#include "grpc/topics_bridge.h"
#include "grpc/topics_service.h"

namespace gpsrelay::grpc_api {

inline constexpr std::chrono::milliseconds kShutdownGrace{3000};

class GrpcModule : public daemon::Module {
 public:
  // `notifier`: the topics module's, with room for an inbox at
  // `inbox_index`; it must be joined before this is destroyed. `metrics`:
  // the topics module's counters (gRPC calls count as HTTP's do).
  GrpcModule(const core::Config& config, std::string instance, topics::TopicNotifier& notifier,
             std::size_t inbox_index, topics::TopicMetrics& metrics, const TokenSlot* write_tokens,
             const TokenSlot* read_tokens);
  ~GrpcModule() override;

  std::string_view name() const override { return "grpc"; }
  void add_routes(http::RouteTable& /*routes*/) const override {}
  std::unique_ptr<http::RequestHandler> make_handler(
      const http::WorkerServices& /*services*/) override {
    return nullptr;
  }

  // Binds [grpc] listen (throws when it cannot, or the TLS files do not
  // load) and serves.
  void start() override;
  void join() override;
  bool alive(std::chrono::steady_clock::time_point now,
             std::chrono::steady_clock::duration limit) const override {
    return now - bridge_.last_heartbeat() < limit;
  }
  void add_health(http::HealthSnapshot& snapshot) const override;

 private:
  void stop_and_join();

  const core::Config config_;
  TopicsBridge bridge_;
  TopicsService service_;
  std::optional<GrpcServer> server_;  // last: stopped before the service and bridge
};

}  // namespace gpsrelay::grpc_api
