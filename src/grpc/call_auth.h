// Token checks of gRPC calls: the "authorization: Bearer <token>" metadata
// against one of the daemon's token stores, with the HTTP API's rules
// (auth/token_store.h). Shared by every service; it knows no service.
#pragma once

#include <grpcpp/support/server_callback.h>

#include <optional>

#include "auth/token_store.h"
#include "core/shared_slot.h"

namespace grpc {
class CallbackServerContext;
}  // namespace grpc

namespace gpsrelay::grpc_api {

using TokenSlot = core::SharedSlot<const auth::TokenStore>;

// nullopt when the call may go on: `slot` is nullptr (no such tokens are
// configured), or the metadata holds one of its tokens. Otherwise the
// UNAUTHENTICATED status to end the call with.
std::optional<grpc::Status> refusal(const grpc::CallbackServerContext& context,
                                    const TokenSlot* slot);

// A unary call's start: true (and the call finished UNAUTHENTICATED) when
// its token is refused.
bool refused(const grpc::CallbackServerContext& context, const TokenSlot* slot,
             grpc::ServerUnaryReactor* reactor);

}  // namespace gpsrelay::grpc_api
