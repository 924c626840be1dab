// parse_topic_meta (see topic_meta.h).
#include "topics/topic_meta.h"

#include <charconv>

#include "topics/topic_requests.h"

namespace gpsrelay::topics {

bool parse_topic_meta(std::string_view meta, TopicInfo& info) {
  std::int64_t fields[3] = {};
  for (std::int64_t& field : fields) {
    const std::size_t space = meta.find(' ');
    const std::string_view text = meta.substr(0, space);
    const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), field);
    if (ec != std::errc() || end != text.data() + text.size()) return false;
    meta = space == std::string_view::npos ? std::string_view() : meta.substr(space + 1);
  }
  if (fields[0] < 1 || fields[0] > static_cast<std::int64_t>(kMaxPartitions)) return false;
  info.partitions = static_cast<unsigned>(fields[0]);
  info.retention = std::chrono::milliseconds(fields[1]);
  info.created_ms = fields[2];
  return true;
}

std::optional<ConsumerSession> parse_consumer_session(std::string_view value) {
  const std::size_t space = value.find(' ');
  const std::string_view expiry = value.substr(0, space);
  ConsumerSession session;
  const auto [end, error] =
      std::from_chars(expiry.data(), expiry.data() + expiry.size(), session.expires_ms);
  if (expiry.empty() || error != std::errc() || end != expiry.data() + expiry.size()) {
    return std::nullopt;
  }
  if (space != std::string_view::npos) session.instance = value.substr(space + 1);
  return session;
}

}  // namespace gpsrelay::topics
