// Typed topics requests from fields (see request_fields.h).
#include "topics/request_fields.h"

#include <jansson.h>

#include <string>

#include "core/json_handle.h"

namespace gpsrelay::topics {
namespace {

using core::json_quote;

// A name or id that json_quote would turn into "" (not UTF-8) must not pass
// as an empty one: such bytes are never valid, so any refused text stands in.
std::string quoted(std::string_view text) {
  std::string out = json_quote(text);
  if (out == "\"\"" && !text.empty()) return "\"\\u0000\"";
  return out;
}

bool is_one_json_value(std::string_view text) {
  json_error_t error;
  const core::JsonPtr value(
      json_loadb(text.data(), text.size(), JSON_DECODE_ANY | JSON_REJECT_DUPLICATES, &error));
  return static_cast<bool>(value);
}

std::string refs_json(std::span<const RefFields> refs) {
  std::string out = "[";
  for (const RefFields& ref : refs) {
    if (out.size() > 1) out += ',';
    out += "{\"topic\":" + quoted(ref.topic) + ",\"partition\":" + std::to_string(ref.partition) +
           ",\"id\":" + quoted(ref.id) + "}";
  }
  return out + "]";
}

}  // namespace

Parsed<Message> message_from_fields(const MessageFields& fields) {
  if (!fields.binary && !is_one_json_value(fields.value)) {
    return RequestError{400, "value must be the text of one JSON value (or set binary)"};
  }
  std::string body = "{\"key\":" + quoted(fields.key) + ",\"headers\":{";
  bool first = true;
  for (const auto& [name, value] : fields.headers) {
    if (!first) body += ',';
    first = false;
    body += quoted(name) + ":" + quoted(value);
  }
  body += "},\"delay\":" + std::to_string(fields.delay_ms) + ",\"value\":";
  // A binary value is checked and kept as is: only the other fields need
  // the body's rules.
  body += fields.binary ? std::string("null") : std::string(fields.value);
  body += '}';
  Parsed<Message> parsed = parse_message(body);
  if (auto* message = std::get_if<Message>(&parsed); message != nullptr && fields.binary) {
    message->value.assign(fields.value);
    message->binary = true;
  }
  return parsed;
}

Parsed<CreateTopic> create_from_fields(std::string_view name, std::uint32_t partitions,
                                       std::uint64_t retention_ms) {
  std::string body = "{\"name\":" + quoted(name);
  if (partitions != 0) body += ",\"partitions\":" + std::to_string(partitions);
  if (retention_ms != 0) body += ",\"retention\":" + std::to_string(retention_ms);
  return parse_create_topic(body + "}");
}

Parsed<Join> join_from_fields(std::span<const std::string_view> topics) {
  std::string body = "{\"topics\":[";
  bool first = true;
  for (const std::string_view topic : topics) {
    if (!first) body += ',';
    first = false;
    body += quoted(topic);
  }
  return parse_join(body + "]}");
}

Parsed<AckRequest> ack_from_fields(std::string_view consumer_id, std::span<const RefFields> refs) {
  return parse_ack(
      "{\"consumer_id\":" + quoted(consumer_id) + ",\"messages\":" + refs_json(refs) + "}",
      /*allow_delay=*/false);
}

Parsed<CommitRequest> commit_from_fields(std::string_view consumer_id, const RefFields& upto) {
  return parse_commit(
      "{\"consumer_id\":" + quoted(consumer_id) + ",\"topic\":" + quoted(upto.topic) +
      ",\"partition\":" + std::to_string(upto.partition) + ",\"id\":" + quoted(upto.id) + "}");
}

std::vector<std::pair<std::string, std::string>> headers_from_json(std::string_view json) {
  std::vector<std::pair<std::string, std::string>> out;
  json_error_t error;
  const core::JsonPtr object(json_loadb(json.data(), json.size(), 0, &error));
  if (!object || !json_is_object(object.get())) return out;
  const char* name = nullptr;
  json_t* value = nullptr;
  json_object_foreach(object.get(), name, value) {
    if (json_is_string(value)) {
      out.emplace_back(name, std::string(json_string_value(value), json_string_length(value)));
    }
  }
  return out;
}

}  // namespace gpsrelay::topics
