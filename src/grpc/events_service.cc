// The gRPC entity event service (see events_service.h).
#include "grpc/events_service.h"

#include <cstdint>
#include <string>
#include <utility>
#include <variant>
#include <vector>

#include "grpc/event_message.h"

namespace gpsrelay::grpc_api {
namespace {

using events::EventResultLabel;
using store::EventOutcome;
using store::EventResult;

// Answers one event from the store's result, as HTTP's answer_single does.
// On a MySQL thread; the last thing done with the call.
void finish_event(grpc::ServerUnaryReactor* reactor, events_v1::EventResponse* response,
                  const std::string& uuid, std::size_t entities, const EventResult& result) {
  switch (result.outcome) {
    case EventOutcome::kApplied:
    case EventOutcome::kDuplicate: {
      const bool applied = result.outcome == EventOutcome::kApplied;
      response->set_uuid(uuid);
      response->set_status(applied ? "applied" : "duplicate");
      response->set_entities(applied ? static_cast<std::uint32_t>(entities) : 0);
      reactor->Finish(grpc::Status::OK);
      return;
    }
    case EventOutcome::kUnavailable:
      reactor->Finish({grpc::StatusCode::UNAVAILABLE, "MySQL unavailable: " + result.error});
      return;
    case EventOutcome::kFailed:
      reactor->Finish({grpc::StatusCode::INTERNAL, "MySQL refused the event: " + result.error});
      return;
  }
  reactor->Finish({grpc::StatusCode::INTERNAL, "unknown store outcome"});
}

class EventsGrpcService final : public GrpcService {
 public:
  EventsGrpcService(store::EntityStore& store, events::EventMetrics& metrics,
                    const TokenSlot* write_tokens)
      : service_(store, metrics, write_tokens) {}

  std::string_view name() const override { return "events"; }
  grpc::Service& service() override { return service_; }

 private:
  EventsService service_;
};

}  // namespace

EventsService::EventsService(store::EntityStore& store, events::EventMetrics& metrics,
                             const TokenSlot* write_tokens)
    : store_(store), metrics_(metrics), write_tokens_(write_tokens) {}

grpc::ServerUnaryReactor* EventsService::ProcessEvent(grpc::CallbackServerContext* context,
                                                      const events_v1::EventRequest* request,
                                                      events_v1::EventResponse* response) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  if (refused(*context, write_tokens_, reactor)) return reactor;
  events::Parsed<events::Event> parsed = parse_event_request(*request, limits_);
  if (const events::EventError* error = events::error_of(parsed)) {
    metrics_.count(EventResultLabel::kInvalid);
    reactor->Finish({grpc::StatusCode::INVALID_ARGUMENT, error->message});
    return reactor;
  }
  std::vector<events::Event> batch;
  batch.push_back(std::get<events::Event>(std::move(parsed)));
  std::string uuid = batch.front().uuid;
  const std::size_t entities = batch.front().entities.size();
  const bool queued =
      store_.apply(std::move(batch), [reactor, response, uuid = std::move(uuid), entities,
                                      metrics = &metrics_](std::vector<EventResult> results) {
        const EventResult result = results.empty() ? EventResult{} : std::move(results.front());
        metrics->count(events::label_of(result.outcome));
        finish_event(reactor, response, uuid, entities, result);
      });
  if (!queued) {
    // The callback will not run: the call is still ours to finish.
    metrics_.count(EventResultLabel::kUnavailable);
    reactor->Finish({grpc::StatusCode::UNAVAILABLE,
                     "too many events waiting for MySQL, or gpsrelayd is stopping"});
  }
  return reactor;
}

grpc::ServerUnaryReactor* EventsService::HealthCheck(
    grpc::CallbackServerContext* context, const events_v1::HealthCheckRequest* /*request*/,
    events_v1::HealthCheckResponse* response) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  const bool queued = store_.ping([reactor, response](bool up, std::string error) {
    response->set_status(up ? "ok" : "unavailable");
    response->set_mysql(up ? "up" : "down");
    if (!up) response->set_error(std::move(error));
    reactor->Finish(grpc::Status::OK);
  });
  if (!queued) {
    reactor->Finish(
        {grpc::StatusCode::UNAVAILABLE, "too many MySQL reads waiting, or gpsrelayd is stopping"});
  }
  return reactor;
}

std::unique_ptr<GrpcService> make_events_service(store::EntityStore& store,
                                                 events::EventMetrics& metrics,
                                                 const TokenSlot* write_tokens) {
  return std::make_unique<EventsGrpcService>(store, metrics, write_tokens);
}

}  // namespace gpsrelay::grpc_api
