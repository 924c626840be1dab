// GrpcServer: the one owner of gpsrelayd's grpc::Server. Binds the address,
// registers the services and serves them until shutdown(); destroying it
// shuts it down at once.
//
// The server's threads are gRPC's own (its completion-queue pollers and
// callback executor); the grpc++ API offers no way to name them, so in
// top -H they show under gRPC's names ("grpc_global_tim", "default-execu",
// ...), not ours. They start with every signal blocked (inherited from the
// thread that builds the server here), so SIGTERM and SIGHUP keep reaching
// the main loop. Nothing here knows what the services do.
#pragma once

#include <grpcpp/security/server_credentials.h>
#include <grpcpp/server.h>

#include <chrono>
#include <memory>
#include <string>
#include <vector>

namespace grpc {
class Service;
}  // namespace grpc

namespace gpsrelay::grpc_api {

class GrpcServer {
 public:
  // Serves `services` (which must outlive this) on `address` ("host:port").
  // Throws std::runtime_error when the address cannot be bound.
  GrpcServer(const std::string& address,
             const std::shared_ptr<grpc::ServerCredentials>& credentials,
             const std::vector<grpc::Service*>& services);
  ~GrpcServer();
  GrpcServer(const GrpcServer&) = delete;
  GrpcServer& operator=(const GrpcServer&) = delete;

  // Refuses new calls at once, lets calls in flight finish for up to
  // `grace`, then cancels the rest; returns when every call has ended.
  // Later calls do nothing.
  void shutdown(std::chrono::milliseconds grace);

  int port() const { return port_; }

 private:
  std::unique_ptr<grpc::Server> server_;
  int port_ = 0;
  bool stopped_ = false;
};

}  // namespace gpsrelay::grpc_api
