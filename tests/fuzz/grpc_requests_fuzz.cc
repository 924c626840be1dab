// libFuzzer target for the gRPC topics service's request checks: the input
// is parsed as each request message of proto/gpsrelay/topics/v1/
// topics.proto (ParseFromArray: what gRPC does with a call's bytes) and
// run through the validation the service applies (topics/request_fields.h,
// is_valid_name). Invariants: no crash or out-of-bounds read; a refusal
// carries a message; an accepted message keeps a binary value byte for
// byte, has headers_json that headers_from_json reads back with as many
// headers as were sent, and a key and delay within range.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "gpsrelay/topics/v1/topics.pb.h"
#include "topics/request_fields.h"

namespace {

namespace v1 = ::gpsrelay::topics::v1;
namespace t = ::gpsrelay::topics;

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
  return 0;
}
