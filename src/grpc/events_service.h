// EventsService: the gRPC entity event service (proto/gpsrelay/events/v1/
// events.proto) on the callback API, in front of the events module's
// EntityStore, as POST /api/v1/events and GET /api/v1/events/health are
// over HTTP: the same checks (grpc/event_message.h runs HTTP's parser),
// the same store and the same counters (events::EventMetrics).
//
// A call never blocks a gRPC thread on MySQL: ProcessEvent queues the event
// on the store's writer and returns; the RPC is finished from the store's
// callback on its MySQL thread. That is allowed by the callback API:
// ServerUnaryReactor::Finish may be called from any thread, at any time
// after the method handler returned the reactor (or even before gRPC bound
// it: grpcpp/support/server_callback.h keeps such a Finish in a backlog
// under the reactor's mutex). The request and response messages stay valid
// until Finish; the store calls each callback exactly once (with an
// outcome, or kUnavailable when it stops first), so every call is finished
// once, and nothing touches the call after Finish (gRPC may free it inline).
// The store stops only after its queued callbacks ran, so the gRPC server
// (stopped after the events module, see daemon/modules.cc) never waits on a
// call that nobody will finish.
#pragma once

#include <memory>

#include "events/event_metrics.h"
#include "events/event_request.h"
#include "gpsrelay/events/v1/events.grpc.pb.h"
#include "grpc/call_auth.h"
#include "grpc/grpc_service.h"
#include "store/entity_store.h"

namespace gpsrelay::grpc_api {

namespace events_v1 = ::gpsrelay::events::v1;

class EventsService final : public events_v1::EventService::CallbackService {
 public:
  // `write_tokens`: the device tokens (auth.mode = token), which
  // ProcessEvent needs as POST /api/v1/events does; nullptr when not
  // configured. HealthCheck is open.
  EventsService(store::EntityStore& store, events::EventMetrics& metrics,
                const TokenSlot* write_tokens);

  grpc::ServerUnaryReactor* ProcessEvent(grpc::CallbackServerContext* context,
                                         const events_v1::EventRequest* request,
                                         events_v1::EventResponse* response) override;
  grpc::ServerUnaryReactor* HealthCheck(grpc::CallbackServerContext* context,
                                        const events_v1::HealthCheckRequest* request,
                                        events_v1::HealthCheckResponse* response) override;

 private:
  store::EntityStore& store_;
  events::EventMetrics& metrics_;
  const TokenSlot* const write_tokens_;
  const events::EventLimits limits_{};  // HTTP's (events_handler.cc)
};

// The service for the GrpcModule. `store` and `metrics`: the events
// module's, which must outlive it; the store must be joined (every
// callback run) before the server is shut down.
std::unique_ptr<GrpcService> make_events_service(store::EntityStore& store,
                                                 events::EventMetrics& metrics,
                                                 const TokenSlot* write_tokens);

}  // namespace gpsrelay::grpc_api
