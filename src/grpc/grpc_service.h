// GrpcService: one service of gpsrelayd's gRPC server as a module brings
// it (topics, entity events), with whatever it runs besides gRPC's own
// threads. The GrpcModule serves the services it is given and drives
// their lifecycle around the server's; it knows nothing of what they do.
#pragma once

#include <chrono>
#include <string_view>

namespace grpc {
class Service;
}  // namespace grpc

namespace gpsrelay::grpc_api {

class GrpcService {
 public:
  virtual ~GrpcService() = default;

  // Its name in logs and /health ("topics").
  virtual std::string_view name() const = 0;
  // What the server registers; lives as long as this.
  virtual grpc::Service& service() = 0;

  // Before the server takes calls.
  virtual void start() {}
  // On stop, while the server still serves: end the calls that would not
  // end by themselves (open streams). Calls in flight still get answers.
  virtual void drain() {}
  // After the server has ended every call: stop what answered them.
  virtual void stop() {}
  // False when a thread of the service stopped making progress.
  virtual bool alive(std::chrono::steady_clock::time_point /*now*/,
                     std::chrono::steady_clock::duration /*limit*/) const {
    return true;
  }
};

}  // namespace gpsrelay::grpc_api
