// The gRPC module (see grpc_module.h).
#include "grpc/grpc_module.h"

#include <grpcpp/security/server_credentials.h>

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

GrpcModule::GrpcModule(const core::Config& config, std::string instance,
                       topics::TopicNotifier& notifier, std::size_t inbox_index,
                       topics::TopicMetrics& metrics, const TokenSlot* write_tokens,
                       const TokenSlot* read_tokens)
    : config_(config),
      bridge_(config, std::move(instance), notifier, inbox_index),
      service_(bridge_, config.topics, metrics, write_tokens, read_tokens) {}

// Not through the virtual join(): a destructor must not dispatch.
GrpcModule::~GrpcModule() { stop_and_join(); }

void GrpcModule::start() {
  bridge_.start();
  const std::string address = config_.grpc.listen->to_string();
  server_.emplace(address, credentials_for(config_), std::vector<grpc::Service*>{&service_});
  core::log_info("gRPC listening", {{"LISTEN", address}, {"TLS", config_.grpc.tls ? "on" : "off"}});
}

void GrpcModule::join() { stop_and_join(); }

void GrpcModule::stop_and_join() {
  // Open Subscribe calls end now (their clients reconnect elsewhere); the
  // bridge keeps answering while the server winds down: every call in
  // flight needs its store callback to finish.
  bridge_.drain();
  if (server_) server_->shutdown(kShutdownGrace);
  bridge_.request_stop();
  bridge_.join();
}

void GrpcModule::add_health(http::HealthSnapshot& snapshot) const {
  snapshot.modules.push_back(
      {std::string(name()),
       "{\"status\":\"ok\",\"listen\":\"" + config_.grpc.listen->to_string() + "\"}", true});
}

}  // namespace gpsrelay::grpc_api
