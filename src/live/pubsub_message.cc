// Live update messages (see pubsub_message.h).
#include "live/pubsub_message.h"

#include <algorithm>
#include <charconv>

namespace gpsrelay::live {
namespace {

bool is_stream_id(std::string_view id) {
  const std::size_t dash = id.find('-');
  if (dash == 0 || dash == std::string_view::npos || dash + 1 == id.size()) return false;
  const auto digits = [](std::string_view text) {
    return std::all_of(text.begin(), text.end(), [](char c) { return c >= '0' && c <= '9'; });
  };
  return digits(id.substr(0, dash)) && digits(id.substr(dash + 1));
}

}  // namespace

std::optional<PubSubMessage> parse_pubsub_message(std::string_view message) {
  const std::size_t newline = message.find('\n');
  if (newline == std::string_view::npos) return std::nullopt;
  const std::string_view id = message.substr(0, newline);
  const std::string_view record = message.substr(newline + 1);
  if (!is_stream_id(id) || record.size() < 2 || record.front() != '{' || record.back() != '}' ||
      record.find('\n') != std::string_view::npos || record.find('\r') != std::string_view::npos) {
    return std::nullopt;
  }
  return PubSubMessage{id, record};
}

std::int64_t stream_id_ms(std::string_view id) {
  std::int64_t ms = 0;
  const auto [end, ec] = std::from_chars(id.data(), id.data() + id.size(), ms);
  return ec == std::errc() ? ms : 0;
}

std::string driver_channel(std::string_view driver_id) {
  return "driver:" + std::string(driver_id);
}

std::string order_channel(std::string_view order_id) { return "order:" + std::string(order_id); }

std::string sse_event(std::string_view id, std::string_view data) {
  std::string frame;
  frame.reserve(id.size() + data.size() + 16);
  if (!id.empty()) {
    frame += "id: ";
    frame += id;
    frame += '\n';
  }
  frame += "data: ";
  frame += data;
  frame += "\n\n";
  return frame;
}

}  // namespace gpsrelay::live
