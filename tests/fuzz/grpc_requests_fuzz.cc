// libFuzzer target for the gRPC services' request checks: the input is
// parsed as each request message of proto/gpsrelay/topics/v1/topics.proto
// and proto/gpsrelay/events/v1/events.proto (ParseFromArray: what gRPC
// does with a call's bytes) and run through the validation the services
// apply (topics/request_fields.h, is_valid_name; for an EventRequest the
// conversion to the HTTP API's JSON and events::parse_event,
// grpc/event_message.h). Invariants: no crash or out-of-bounds read; a
// refusal carries a message; an accepted message keeps a binary value byte
// for byte, has headers_json that headers_from_json reads back with as many
// headers as were sent, and a key and delay within range. An EventRequest's
// JSON text is one JSON object; a refusal's message starts with its path,
// which lies under eventHeader or eventBody; an accepted event holds the
// request's texts, dates and entities unchanged, within the limits, and
// its attributes are JSON objects no longer than the limit.
#include <jansson.h>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "events/event_request.h"
#include "gpsrelay/events/v1/events.pb.h"
#include "gpsrelay/topics/v1/topics.pb.h"
#include "grpc/event_message.h"
#include "topics/request_fields.h"

namespace {

namespace v1 = ::gpsrelay::topics::v1;
namespace t = ::gpsrelay::topics;
namespace ev1 = ::gpsrelay::events::v1;
namespace ev = ::gpsrelay::events;

void require(bool condition) {
  if (!condition) std::abort();
}

template <class T>
void check_refusal(const t::Parsed<T>& parsed) {
  if (const t::RequestError* error = t::error_of(parsed)) require(!error->message.empty());
}

void check_publish(const v1::PublishRequest& request) {
  (void)t::is_valid_name(request.topic());
  std::vector<t::HeaderField> headers;
  for (const auto& [name, value] : request.headers()) headers.emplace_back(name, value);
  const t::Parsed<t::Message> parsed = t::message_from_fields(
      {request.key(), request.value(), request.binary(), headers, request.delay_ms()});
  check_refusal(parsed);
  if (const auto* message = std::get_if<t::Message>(&parsed)) {
    require(message->key == request.key());
    require(message->key.size() <= t::kMaxKeyBytes);
    require(message->delay <= t::kMaxDelay);
    require(message->binary == request.binary());
    if (request.binary()) require(message->value == request.value());
    require(t::headers_from_json(message->headers_json).size() == headers.size());
  }
}

bool starts_with(const std::string& text, const std::string& prefix) {
  return text.compare(0, prefix.size(), prefix) == 0;
}

// A JSON object, parsed as parse_event parses (no duplicate keys).
bool is_json_object(const std::string& text) {
  json_error_t error;
  json_t* value = json_loadb(text.data(), text.size(), JSON_REJECT_DUPLICATES, &error);
  const bool object = json_is_object(value);
  json_decref(value);
  return object;
}

void check_event(const ev1::EventRequest& request) {
  const gpsrelay::grpc_api::EventJson converted = gpsrelay::grpc_api::event_json_of(request);
  require(is_json_object(converted.json));
  for (const ev::EventError& refusal : converted.refusals) {
    require(starts_with(refusal.path, "eventBody.entities[") ||
            starts_with(refusal.path, "eventHeader."));
    require(starts_with(refusal.message, refusal.path + " "));
  }
  const ev::EventLimits limits;
  const ev::Parsed<ev::Event> parsed = gpsrelay::grpc_api::parse_event_request(request, limits);
  if (const ev::EventError* error = ev::error_of(parsed)) {
    require(!error->message.empty());
    require(starts_with(error->path, "eventHeader") || starts_with(error->path, "eventBody"));
    require(starts_with(error->message, error->path + " "));
    return;
  }
  // Accepted: nothing was refused on the way, and nothing changed.
  require(converted.refusals.empty());
  const ev::Event& event = std::get<ev::Event>(parsed);
  const ev1::EventHeader& header = request.event_header();
  require(event.uuid == header.uuid() && event.event_name == header.event_name() &&
          event.event_type == header.event_type());
  require(event.created_ms >= 0 && event.created_ms <= ev::kMaxDateMs);
  if (header.created_case() == ev1::EventHeader::kCreatedDateMs) {
    require(event.created_ms == header.created_date_ms());
  }
  // An empty saved_date counts as absent, as any empty string does.
  require(event.saved_ms.has_value() ==
          (header.saved_case() == ev1::EventHeader::kSavedDateMs ||
           (header.saved_case() == ev1::EventHeader::kSavedDate && !header.saved_date().empty())));
  if (header.saved_case() == ev1::EventHeader::kSavedDateMs) {
    require(event.saved_ms == header.saved_date_ms());
  }
  require(event.entities.size() == static_cast<std::size_t>(request.event_body().entities_size()));
  require(!event.entities.empty() && event.entities.size() <= limits.max_entities);
  for (std::size_t i = 0; i < event.entities.size(); ++i) {
    const ev1::Entity& sent = request.event_body().entities(static_cast<int>(i));
    const ev::EntityUpdate& update = event.entities[i];
    require(update.entity_type == sent.entity_type() && update.entity_id == sent.entity_id());
    require(ev::is_valid_entity_type(update.entity_type) &&
            ev::is_valid_entity_id(update.entity_id));
    require(update.attributes_json.size() <= limits.max_attributes_bytes);
    require(is_json_object(update.attributes_json));
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const int length = static_cast<int>(size);
  if (v1::CreateTopicRequest create; create.ParseFromArray(data, length)) {
    const auto parsed =
        t::create_from_fields(create.name(), create.partitions(), create.retention_ms());
    check_refusal(parsed);
    if (const auto* topic = std::get_if<t::CreateTopic>(&parsed)) {
      require(t::is_valid_name(topic->name));
      require(topic->partitions >= 1 && topic->partitions <= t::kMaxPartitions);
    }
  }
  if (v1::DeleteTopicRequest remove; remove.ParseFromArray(data, length)) {
    (void)t::is_valid_name(remove.name());
  }
  if (v1::PublishRequest publish; publish.ParseFromArray(data, length)) check_publish(publish);
  if (v1::SubscribeRequest subscribe; subscribe.ParseFromArray(data, length)) {
    (void)t::is_valid_name(subscribe.group());
    const std::vector<std::string_view> topics(subscribe.topics().begin(),
                                               subscribe.topics().end());
    const auto parsed = t::join_from_fields(topics);
    check_refusal(parsed);
    if (const auto* join = std::get_if<t::Join>(&parsed)) {
      require(!join->topics.empty() && join->topics.size() <= t::kMaxJoinTopics);
    }
  }
  if (v1::AckRequest ack; ack.ParseFromArray(data, length)) {
    std::vector<t::RefFields> refs;
    for (const v1::MessageRef& ref : ack.refs())
      refs.push_back({ref.topic(), ref.partition(), ref.id()});
    const auto parsed = t::ack_from_fields(ack.consumer_id(), refs);
    check_refusal(parsed);
    if (const auto* request = std::get_if<t::AckRequest>(&parsed)) {
      require(request->messages.size() == refs.size());
      for (const t::MessageRef& ref : request->messages) {
        require(t::is_valid_stream_id(ref.id) && ref.partition < t::kMaxPartitions);
      }
    }
  }
  if (v1::CommitRequest commit; commit.ParseFromArray(data, length)) {
    const auto parsed = t::commit_from_fields(commit.consumer_id(),
                                              {commit.topic(), commit.partition(), commit.id()});
    check_refusal(parsed);
    if (const auto* request = std::get_if<t::CommitRequest>(&parsed)) {
      require(t::is_valid_name(request->upto.topic) && t::is_valid_stream_id(request->upto.id));
    }
  }
  if (ev1::EventRequest event; event.ParseFromArray(data, length)) check_event(event);
  return 0;
}
