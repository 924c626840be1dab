// The gRPC server's owner (see grpc_server.h).
#include "grpc/grpc_server.h"

#include <grpcpp/server_builder.h>
#include <pthread.h>

#include <csignal>
#include <stdexcept>

namespace gpsrelay::grpc_api {
namespace {

// Blocks every signal in this thread for its lifetime, so the threads that
// gRPC starts meanwhile inherit a full mask: signals belong to the main
// loop (as core::start_loop_thread arranges for our own threads).
class BlockedSignals {
 public:
  BlockedSignals() {
    sigset_t all;
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &previous_);
  }
  ~BlockedSignals() { pthread_sigmask(SIG_SETMASK, &previous_, nullptr); }
  BlockedSignals(const BlockedSignals&) = delete;
  BlockedSignals& operator=(const BlockedSignals&) = delete;

 private:
  sigset_t previous_{};
};

}  // namespace

GrpcServer::GrpcServer(const std::string& address,
                       const std::shared_ptr<grpc::ServerCredentials>& credentials,
                       const std::vector<grpc::Service*>& services) {
  grpc::ServerBuilder builder;
  builder.AddListeningPort(address, credentials, &port_);
  for (grpc::Service* service : services) builder.RegisterService(service);
  const BlockedSignals blocked;
  server_ = builder.BuildAndStart();
  if (!server_ || port_ == 0) {
    throw std::runtime_error("cannot serve gRPC on " + address);
  }
}

GrpcServer::~GrpcServer() { shutdown(std::chrono::milliseconds(0)); }

void GrpcServer::shutdown(std::chrono::milliseconds grace) {
  if (stopped_ || !server_) return;
  stopped_ = true;
  server_->Shutdown(std::chrono::system_clock::now() + grace);
  server_->Wait();
}

}  // namespace gpsrelay::grpc_api
