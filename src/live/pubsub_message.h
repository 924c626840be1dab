// The live updates' wire pieces, pure: the message the location state
// script publishes on driver:<id> / order:<id> ("<stream id>\n<record
// JSON>": the id names the update for SSE's id: and dates it for the
// fan-out latency), the channel names, and a Server-Sent Events frame.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace gpsrelay::live {

struct PubSubMessage {
  std::string_view entry_id;  // the stream id of the report
  std::string_view record;    // the location record's JSON
};

// nullopt unless `message` is an id ("<ms>-<seq>") and a JSON object
// separated by one newline.
std::optional<PubSubMessage> parse_pubsub_message(std::string_view message);

// Milliseconds part of a stream id; 0 when malformed.
std::int64_t stream_id_ms(std::string_view id);

std::string driver_channel(std::string_view driver_id);
std::string order_channel(std::string_view order_id);

// "id: <id>\ndata: <data>\n\n". `data` must hold no line break (compact
// JSON never does); `id` is left out when empty.
std::string sse_event(std::string_view id, std::string_view data);

}  // namespace gpsrelay::live
