// The request and answer bodies of the Topics HTTP API (CONTRACT.md,
// "Topics"): request bodies and the poll query turned into typed requests
// with their defaults applied, or a RequestError (400, or 413 for a batch
// with too many messages) whose message names the field; and the compact
// JSON answers built from what the store returned.
//
// Pure: text in, values out. It owns no sockets, no Redis and no libevent
// types; it does not bound body sizes (the HTTP layer does), does not know
// which topics exist or how many partitions one has (the store does), and
// does not look at path parameters beyond offering is_valid_name for them.
// Any byte sequence is safe input to every parse_ function.
//
// Rules shared by every body:
//  - A body is one JSON object; duplicate keys are refused (which one would
//    count is not obvious), and so is a number jansson cannot hold (an
//    integer beyond 64 bits, a real beyond double).
//  - Unknown fields are ignored, for forward compatibility: an older
//    daemon accepts what a newer client sends (so "delay" on an ack, which
//    only nack reads, is ignored too).
//  - An optional field given as null counts as absent (except "value",
//    where null is the message).
//  - A duration ("delay", "retention", the poll's "wait") is a string in
//    gpsrelay.conf's grammar ("250ms", "5s", "10m", "2h", "7d", see
//    core/units.h) or a non-negative integer count of milliseconds; in a
//    query string, where all is text, bare digits are milliseconds.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

namespace gpsrelay::topics {

inline constexpr std::size_t kMaxTopicName = 200;
inline constexpr unsigned kMaxPartitions = 256;
inline constexpr std::size_t kMaxBatchMessages = 1000;
inline constexpr std::size_t kMaxHeaders = 64;
inline constexpr std::size_t kMaxHeaderName = 256;  // bytes
inline constexpr std::size_t kMaxKeyBytes = 1024;
// A JSON value nests at most this many arrays/objects; far beyond any real
// message, and well inside what json_scan (512) and jansson (2048) read back.
inline constexpr std::size_t kMaxValueDepth = 128;
// Publish and nack delays: a week. Longer holds are a scheduler's job, and
// the bound keeps "due" times far from overflow.
inline constexpr std::chrono::milliseconds kMaxDelay = std::chrono::hours(24 * 7);
inline constexpr std::chrono::milliseconds kMaxRetention = std::chrono::hours(24 * 3650);
inline constexpr std::size_t kMaxJoinTopics = 100;
inline constexpr std::size_t kMaxAckMessages = 1000;
inline constexpr std::size_t kMaxConsumerId = 64;
inline constexpr unsigned kDefaultPollMax = 100;
inline constexpr std::chrono::milliseconds kMaxPollWait = std::chrono::seconds(30);

// Topic (and group) names: 1 to kMaxTopicName of A-Z a-z 0-9 . _ - (so
// "<topic>.dlq" is a name too), but not "." or "..".
bool is_valid_name(std::string_view name);

// Consumer ids as the server generates them: 1 to kMaxConsumerId of
// A-Z a-z 0-9 -.
bool is_valid_consumer_id(std::string_view id);

// A Redis stream id "<ms>-<seq>": two runs of 1 to 20 digits, each within
// 64 bits unsigned.
bool is_valid_stream_id(std::string_view id);

// Why a request was refused: the HTTP status (400, or 413 for a batch with
// more than kMaxBatchMessages) and a message for the error body that names
// the field ("messages[2].headers.x must be a string").
struct RequestError {
  int status = 400;
  std::string message;
};

// A request, or why it is refused; never both.
template <class T>
using Parsed = std::variant<T, RequestError>;

// The error of `parsed`, nullptr when it holds a value.
template <class T>
const RequestError* error_of(const Parsed<T>& parsed) {
  return std::get_if<RequestError>(&parsed);
}

// ---- POST /v1/topics --------------------------------------------------------

struct CreateTopic {
  std::string name;
  unsigned partitions = 1;                             // 1 to kMaxPartitions
  std::optional<std::chrono::milliseconds> retention;  // above 0, at most kMaxRetention
};

// {"name","partitions"?,"retention"?}: name required and valid, partitions
// an integer (default 1), retention a duration ("7d" or ms; absent: the
// config's default applies).
Parsed<CreateTopic> parse_create_topic(std::string_view body);

// ---- POST /v1/topics/{t}/publish and /batch ---------------------------------

struct Message {
  std::string key;           // empty = none; at most kMaxKeyBytes
  std::string value;         // the value's compact JSON text, or the bytes decoded from value_b64
  bool binary = false;       // true when it came as value_b64
  std::string headers_json;  // compact JSON object of string -> string, "{}" when none
  std::chrono::milliseconds delay{0};  // 0 = none; at most kMaxDelay
};

// {"key"?,"value" | "value_b64","headers"?,"delay"?}. Exactly one of value
// and value_b64: value is any JSON (object, array, string, number, bool,
// null) nesting at most kMaxValueDepth, kept as compact JSON text: object
// members in their order, strings as UTF-8, an integer as an integer (it
// must fit int64), a real in the shortest form that reads back as the same
// double and still reads as a real (0.1 stays 0.1, 1e2 becomes 100.0);
// value_b64 is standard base64
// (RFC 4648 alphabet with '+' and '/', padded to a multiple of 4, no
// blanks), "" being an empty value. key: a string of at most kMaxKeyBytes
// ("" = none). headers: an object of at most kMaxHeaders string values,
// names 1 to kMaxHeaderName bytes.
Parsed<Message> parse_message(std::string_view body);

// {"messages":[...]}: 1 to kMaxBatchMessages bodies as parse_message reads
// them (413 for more); an error names the index: "messages[3].value_b64 is
// not valid base64".
Parsed<std::vector<Message>> parse_batch(std::string_view body);

// parse_message and parse_batch done the straightforward, slower way that
// they must agree with byte for byte, on every input: jansson reads the
// whole body as it came (no long strings set aside, see
// topic_requests.cc) and every string is written a byte at a time. For
// the differential unit test and fuzz target only.
Parsed<Message> parse_message_reference(std::string_view body);
Parsed<std::vector<Message>> parse_batch_reference(std::string_view body);

// The partition for a message with `key`: FNV-1a 64 of the key's bytes mod
// `partitions`, so one key always lands on one partition (and keeps its
// order) for as long as the topic's partition count is unchanged. Changing
// this function moves keys between partitions: don't. nullopt for an empty
// key (the caller picks round-robin) and for partitions == 0.
std::optional<unsigned> partition_for_key(std::string_view key, unsigned partitions);

// {"partition":0,"id":"1-0"}; "id" is null for an empty id (a delayed
// message gets its id when it is due).
std::string published_json(unsigned partition, std::string_view id);

// {"results":[{"partition":0,"id":"1-0"},...]} in the order given.
std::string batch_published_json(const std::vector<std::pair<unsigned, std::string>>& results);

// ---- GET /v1/groups/{g}/poll ------------------------------------------------

// A message as the store kept it (value and headers_json as parse_message
// made them).
struct StoredMessage {
  std::string topic;
  unsigned partition = 0;
  std::string id;
  std::string key;
  std::string value;
  bool binary = false;
  std::string headers_json;
  std::int64_t deliveries = 0;
  std::int64_t published_at_ms = 0;  // Unix milliseconds
};

// {"messages":[{"topic","partition","id","key"?,"value" | "value_b64",
// "headers","deliveries","published_at"}]}: "key" omitted when empty,
// "value" the stored JSON text inlined, "value_b64" the binary bytes in
// padded standard base64, "headers" the stored object inlined,
// "published_at" ISO 8601 UTC with milliseconds. Always valid JSON even for
// records it did not write: a non-binary value that is not JSON goes out
// as value_b64 of its bytes, headers that are not a JSON object as {},
// strings that are not UTF-8 as "".
std::string polled_json(const std::vector<StoredMessage>& messages);

struct PollQuery {
  std::string consumer_id;
  unsigned max = kDefaultPollMax;     // 1 to max_poll_records
  std::chrono::milliseconds wait{0};  // 0 to kMaxPollWait
};

// ?consumer_id=&max=&wait=5s: consumer_id required; max plain digits,
// default kDefaultPollMax or max_poll_records when smaller; wait a duration
// ("5s", or digits as ms), default 0 (answer at once). Percent-decoded with
// '+' as a space; the last of a repeated parameter counts; an empty value
// counts as absent; unknown parameters are ignored. `query` is without '?'.
// max_poll_records 0 is read as 1.
Parsed<PollQuery> parse_poll_query(std::string_view query, unsigned max_poll_records);

// ---- consumer group bodies --------------------------------------------------

// {"consumer_id"}: heartbeat and leave.
struct ConsumerRef {
  std::string consumer_id;
};
Parsed<ConsumerRef> parse_consumer_ref(std::string_view body);

// {"topics":[names]}: 1 to kMaxJoinTopics valid names, none twice.
struct Join {
  std::vector<std::string> topics;
};
Parsed<Join> parse_join(std::string_view body);

// One polled message: its topic, partition (below kMaxPartitions; whether
// the topic has it is the store's check) and stream id.
struct MessageRef {
  std::string topic;
  unsigned partition = 0;
  std::string id;
};

struct AckRequest {
  std::string consumer_id;
  std::vector<MessageRef> messages;    // 1 to kMaxAckMessages
  std::chrono::milliseconds delay{0};  // nack only; 0 to kMaxDelay
};

// {"consumer_id","messages":[{"topic","partition","id"}],"delay"?}: ack
// with allow_delay = false (any "delay" is ignored), nack with true.
Parsed<AckRequest> parse_ack(std::string_view body, bool allow_delay);

// {"consumer_id","topic","partition","id"}: ack everything up to and
// including `upto.id` on that partition.
struct CommitRequest {
  std::string consumer_id;
  MessageRef upto;
};
Parsed<CommitRequest> parse_commit(std::string_view body);

}  // namespace gpsrelay::topics
