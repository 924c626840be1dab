// Token checks of gRPC calls (see call_auth.h).
#include "grpc/call_auth.h"

#include <grpcpp/server_context.h>

#include <memory>
#include <string_view>

namespace gpsrelay::grpc_api {

std::optional<grpc::Status> refusal(const grpc::CallbackServerContext& context,
                                    const TokenSlot* slot) {
  if (slot == nullptr) return std::nullopt;
  const std::shared_ptr<const auth::TokenStore> tokens = slot->current();
  std::optional<std::string_view> authorization;
  const auto& metadata = context.client_metadata();
  if (const auto found = metadata.find("authorization"); found != metadata.end()) {
    authorization = std::string_view(found->second.data(), found->second.size());
  }
  const auth::AuthResult result = auth::check(*tokens, authorization, std::nullopt);
  if (result == auth::AuthResult::kAccepted) return std::nullopt;
  return grpc::Status(grpc::StatusCode::UNAUTHENTICATED,
                      result == auth::AuthResult::kMissing
                          ? "a token is required (authorization: Bearer <token>)"
                          : "the token is not valid");
}

bool refused(const grpc::CallbackServerContext& context, const TokenSlot* slot,
             grpc::ServerUnaryReactor* reactor) {
  const std::optional<grpc::Status> refusal_status = refusal(context, slot);
  if (refusal_status) reactor->Finish(*refusal_status);
  return refusal_status.has_value();
}

}  // namespace gpsrelay::grpc_api
