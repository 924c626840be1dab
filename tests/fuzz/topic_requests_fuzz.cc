// libFuzzer target for the Topics API bodies (topics/topic_requests.h):
// the whole input goes to every parser. Invariants: no crash or
// out-of-bounds read; a refusal has status 400 (413 only from
// parse_batch) and a message; an accepted message has a JSON value that
// jansson reads back (or is binary), headers that are an object of at most
// kMaxHeaders strings, a key and delay in range, and a partition below the
// count; its polled_json answer is valid JSON, and publishing what that
// answer shows (key, value or value_b64, headers) parses to the same
// message: stored text is a fixed point. parse_message and parse_batch
// answer exactly as their reference (no long strings set aside, strings
// written a byte at a time): the same message bytes or the same refusal.
// Other requests stay within their
// documented ranges, and polled_json of arbitrary stored bytes is valid
// JSON.
#include <jansson.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "core/json_handle.h"
#include "http/json_scan.h"
#include "topics/topic_requests.h"

namespace {

using gpsrelay::core::JsonPtr;
using namespace gpsrelay::topics;  // NOLINT(google-build-using-namespace)

void check(bool condition, const char* what) {
  if (!condition) {
    std::fprintf(stderr, "violated: %s\n", what);
    std::abort();
  }
}

JsonPtr load(const std::string& text, std::size_t flags) {
  json_error_t error;
  return JsonPtr(json_loadb(text.data(), text.size(), flags, &error));
}

// The value of `parsed` (which must outlive the pointer), nullptr when it
// is a (well-formed) refusal.
template <class T>
const T* accepted(const Parsed<T>& parsed, bool may_413) {
  if (const RequestError* error = error_of(parsed)) {
    check(error->status == 400 || (may_413 && error->status == 413), "status 400 (or 413)");
    check(!error->message.empty(), "an error has a message");
    return nullptr;
  }
  return &std::get<T>(parsed);
}

std::string dump(const json_t* value) {
  const std::unique_ptr<char, decltype(&std::free)> text(
      json_dumps(value, JSON_COMPACT | JSON_ENCODE_ANY), &std::free);
  check(text != nullptr, "dumps");
  return text.get();
}

template <class T>
const T* accepted(const Parsed<T>&& parsed, bool may_413) = delete;  // would dangle

void check_message(const Message& m) {
  check(m.key.size() <= kMaxKeyBytes, "message: key size");
  check(m.delay.count() >= 0 && m.delay <= kMaxDelay, "message: delay range");
  if (!m.binary) {
    check(!m.value.empty(), "message: JSON value is not empty");
    check(load(m.value, JSON_DECODE_ANY) != nullptr, "message: value is JSON");
  }
  const JsonPtr headers = load(m.headers_json, 0);
  check(headers != nullptr && json_is_object(headers.get()), "message: headers are an object");
  check(json_object_size(headers.get()) <= kMaxHeaders, "message: header count");
  const char* name = nullptr;
  json_t* value = nullptr;
  json_object_foreach(headers.get(), name, value) {
    check(json_is_string(value), "message: header values are strings");
  }
  const std::optional<unsigned> partition = partition_for_key(m.key, 7);
  check(partition.has_value() == !m.key.empty() && (!partition || *partition < 7),
        "message: partition for key");

  // What a consumer sees, published again, is the same message.
  StoredMessage stored{"t", 1, "1-0", m.key, m.value, m.binary, m.headers_json, 1, 0};
  const std::string polled = polled_json({stored});
  const JsonPtr root = load(polled, 0);
  check(root != nullptr, "polled_json is JSON");
  json_t* out = json_array_get(json_object_get(root.get(), "messages"), 0);
  check(out != nullptr, "polled_json has the message");
  check((json_object_get(out, "key") != nullptr) == !m.key.empty(), "polled: key iff given");
  json_object_del(out, "topic");
  json_object_del(out, "partition");
  json_object_del(out, "id");
  json_object_del(out, "deliveries");
  json_object_del(out, "published_at");
  const Parsed<Message> again = parse_message(dump(out));  // outlives `republished`
  const Message* republished = accepted(again, false);
  check(republished != nullptr, "polled message parses as a publish body");
  check(republished->key == m.key && republished->value == m.value &&
            republished->binary == m.binary && republished->headers_json == m.headers_json,
        "polled message round-trips");
}

bool same_message(const Message& a, const Message& b) {
  return a.key == b.key && a.value == b.value && a.binary == b.binary &&
         a.headers_json == b.headers_json && a.delay == b.delay;
}

template <class T>
bool same_refusal(const Parsed<T>& a, const Parsed<T>& b) {
  const RequestError* x = error_of(a);
  const RequestError* y = error_of(b);
  return x != nullptr && y != nullptr && x->status == y->status && x->message == y->message;
}

void check_same_as_reference(std::string_view input) {
  const Parsed<Message> message = parse_message(input);
  const Parsed<Message> message_reference = parse_message_reference(input);
  check(message.index() == message_reference.index(), "message: accepted as by the reference");
  check(error_of(message) != nullptr
            ? same_refusal(message, message_reference)
            : same_message(std::get<Message>(message), std::get<Message>(message_reference)),
        "message: the same as by the reference");

  const Parsed<std::vector<Message>> batch = parse_batch(input);
  const Parsed<std::vector<Message>> batch_reference = parse_batch_reference(input);
  check(batch.index() == batch_reference.index(), "batch: accepted as by the reference");
  if (error_of(batch) != nullptr) {
    check(same_refusal(batch, batch_reference), "batch: refused as by the reference");
    return;
  }
  const auto& messages = std::get<std::vector<Message>>(batch);
  const auto& expected = std::get<std::vector<Message>>(batch_reference);
  check(messages.size() == expected.size() &&
            std::equal(messages.begin(), messages.end(), expected.begin(), same_message),
        "batch: the same messages as by the reference");
}

void check_ref(const MessageRef& ref) {
  check(is_valid_name(ref.topic), "ref: topic");
  check(ref.partition < kMaxPartitions, "ref: partition");
  check(is_valid_stream_id(ref.id), "ref: id");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  check_same_as_reference(input);

  if (const auto parsed = parse_message(input); const Message* m = accepted(parsed, false))
    check_message(*m);

  if (const auto parsed = parse_batch(input); const auto* batch = accepted(parsed, true)) {
    check(!batch->empty() && batch->size() <= kMaxBatchMessages, "batch: size");
    for (const Message& m : *batch) check_message(m);
  }

  if (const auto parsed = parse_create_topic(input);
      const CreateTopic* topic = accepted(parsed, false)) {
    check(is_valid_name(topic->name), "create: name");
    check(topic->partitions >= 1 && topic->partitions <= kMaxPartitions, "create: partitions");
    check(
        !topic->retention || (topic->retention->count() > 0 && *topic->retention <= kMaxRetention),
        "create: retention");
  }

  for (const bool allow_delay : {false, true}) {
    if (const auto parsed = parse_ack(input, allow_delay);
        const AckRequest* ack = accepted(parsed, false)) {
      check(is_valid_consumer_id(ack->consumer_id), "ack: consumer");
      check(!ack->messages.empty() && ack->messages.size() <= kMaxAckMessages, "ack: size");
      for (const MessageRef& ref : ack->messages) check_ref(ref);
      check(ack->delay.count() >= 0 && ack->delay <= kMaxDelay, "ack: delay range");
      check(allow_delay || ack->delay.count() == 0, "ack: no delay");
    }
  }

  if (const auto parsed = parse_commit(input);
      const CommitRequest* commit = accepted(parsed, false)) {
    check(is_valid_consumer_id(commit->consumer_id), "commit: consumer");
    check_ref(commit->upto);
  }

  if (const auto parsed = parse_consumer_ref(input);
      const ConsumerRef* ref = accepted(parsed, false)) {
    check(is_valid_consumer_id(ref->consumer_id), "consumer ref");
  }

  if (const auto parsed = parse_join(input); const Join* join = accepted(parsed, false)) {
    check(!join->topics.empty() && join->topics.size() <= kMaxJoinTopics, "join: size");
    for (const std::string& topic : join->topics) check(is_valid_name(topic), "join: names");
  }

  for (const unsigned max_poll_records : {0U, 20U, 500U}) {
    if (const auto parsed = parse_poll_query(input, max_poll_records);
        const PollQuery* q = accepted(parsed, false)) {
      check(is_valid_consumer_id(q->consumer_id), "poll: consumer");
      check(q->max >= 1 && q->max <= std::max(1U, max_poll_records), "poll: max");
      check(q->wait.count() >= 0 && q->wait <= kMaxPollWait, "poll: wait");
    }
  }

  // Arbitrary stored bytes still make a valid answer, as RFC 8259 reads
  // it (json_scan; jansson is stricter about lone surrogate escapes and
  // huge numbers, which a non-binary value inlined as is may hold).
  for (const bool binary : {false, true}) {
    const std::string text(input);
    const StoredMessage raw{text, 0, text, text, text, binary, text, -1, -1};
    check(gpsrelay::http::scan_json(polled_json({raw})).ok, "polled_json of raw bytes is JSON");
  }
  return 0;
}
