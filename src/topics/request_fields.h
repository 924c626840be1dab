// Typed topics requests from separate fields, as an RPC framework (gRPC)
// delivers them, with the same rules and error messages as the HTTP bodies
// of topic_requests.h: each function builds the equivalent JSON body and
// hands it to the parse_ function there, so the two APIs cannot drift
// apart in what they accept. And the reverse for answers: the headers a
// store kept (a JSON object) as name/value pairs.
//
// Pure: values in, values out; no gRPC, protobuf or Redis types, so unit
// tests and fuzzers use it without a server. Any bytes are safe input.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "topics/topic_requests.h"

namespace gpsrelay::topics {

using HeaderField = std::pair<std::string_view, std::string_view>;

struct MessageFields {
  std::string_view key;
  // JSON text of one JSON value, or any bytes when `binary`.
  std::string_view value;
  bool binary = false;
  std::span<const HeaderField> headers;
  std::uint64_t delay_ms = 0;
};

// A message as parse_message() makes it from the equivalent body: a
// non-binary value must be exactly one JSON value (and is kept as compact
// text), a binary one is kept as is.
Parsed<Message> message_from_fields(const MessageFields& fields);

// partitions 0 and retention_ms 0 mean "absent" (1 and the configured
// default).
Parsed<CreateTopic> create_from_fields(std::string_view name, std::uint32_t partitions,
                                       std::uint64_t retention_ms);

Parsed<Join> join_from_fields(std::span<const std::string_view> topics);

struct RefFields {
  std::string_view topic;
  std::uint32_t partition = 0;
  std::string_view id;
};

Parsed<AckRequest> ack_from_fields(std::string_view consumer_id, std::span<const RefFields> refs);

Parsed<CommitRequest> commit_from_fields(std::string_view consumer_id, const RefFields& upto);

// The members of a stored headers object whose values are strings, in
// order; nothing for text that is not a JSON object.
std::vector<std::pair<std::string, std::string>> headers_from_json(std::string_view json);

}  // namespace gpsrelay::topics
