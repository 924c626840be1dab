// The gRPC module (see grpc_module.h).
#include "grpc/grpc_module.h"

#include <grpcpp/security/server_credentials.h>

#include <algorithm>
#include <utility>

#include "core/file_reader.h"
#include "core/log.h"

namespace gpsrelay::grpc_api {
namespace {

// Certificates and keys are small; a runaway file is refused.
constexpr std::size_t kMaxPemBytes = 1024 * 1024;

std::shared_ptr<grpc::ServerCredentials> credentials_for(const core::Config& config) {
  if (!config.grpc.tls) return grpc::InsecureServerCredentials();
  grpc::SslServerCredentialsOptions options;
  options.pem_key_cert_pairs.push_back(
      {core::read_bounded_file(config.http.tls_key, kMaxPemBytes, core::FileKinds::kRegularOnly),
       core::read_bounded_file(config.http.tls_cert, kMaxPemBytes, core::FileKinds::kRegularOnly)});
  return grpc::SslServerCredentials(options);
}

}  // namespace

GrpcModule::GrpcModule(const core::Config& config,
                       std::vector<std::unique_ptr<GrpcService>> services)
    : config_(config), services_(std::move(services)) {}

// Not through the virtual join(): a destructor must not dispatch.
GrpcModule::~GrpcModule() { stop_and_join(); }

void GrpcModule::start() {
  for (const auto& service : services_) service->start();
  std::vector<grpc::Service*> served;
  std::string names;
  for (const auto& service : services_) {
    served.push_back(&service->service());
    names += (names.empty() ? "" : ",") + std::string(service->name());
  }
  const std::string address = config_.grpc.listen->to_string();
  server_.emplace(address, credentials_for(config_), served);
  core::log_info(
      "gRPC listening",
      {{"LISTEN", address}, {"TLS", config_.grpc.tls ? "on" : "off"}, {"SERVICES", names}});
}

void GrpcModule::join() { stop_and_join(); }

void GrpcModule::stop_and_join() {
  // The services keep answering while the server winds down: every call
  // in flight needs its answer to finish.
  for (const auto& service : services_) service->drain();
  if (server_) server_->shutdown(kShutdownGrace);
  for (const auto& service : services_) service->stop();
}

bool GrpcModule::alive(std::chrono::steady_clock::time_point now,
                       std::chrono::steady_clock::duration limit) const {
  return std::all_of(services_.begin(), services_.end(),
                     [&](const auto& service) { return service->alive(now, limit); });
}

void GrpcModule::add_health(http::HealthSnapshot& snapshot) const {
  std::string services;
  for (const auto& service : services_) {
    services += (services.empty() ? "\"" : ",\"") + std::string(service->name()) + "\"";
  }
  snapshot.modules.push_back({std::string(name()),
                              "{\"status\":\"ok\",\"listen\":\"" +
                                  config_.grpc.listen->to_string() + "\",\"services\":[" +
                                  services + "]}",
                              true});
}

}  // namespace gpsrelay::grpc_api
