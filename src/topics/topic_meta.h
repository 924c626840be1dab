// A topic's metadata as the `<prefix>meta` hash keeps it (topic_scripts.h):
// "<partitions> <retention ms> <created ms>", and a consumer's session as a
// group's members hash keeps it: "<expiry ms> <instance>". Pure, so the
// daemon's store and gpsrelayctl read each format with one parser; it does
// not talk to Redis.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace gpsrelay::topics {

struct TopicInfo {
  std::string name;
  unsigned partitions = 0;
  std::chrono::milliseconds retention{0};
  std::int64_t created_ms = 0;
};

// Fills partitions, retention and created_ms of `info` from `meta`; false
// (and `info` partly filled) unless it holds three integers separated by
// single spaces with 1 to kMaxPartitions partitions.
bool parse_topic_meta(std::string_view meta, TopicInfo& info);

struct ConsumerSession {
  std::int64_t expires_ms = 0;
  std::string instance;  // the gpsrelayd it last came through; may be empty
};

// nullopt unless `value` starts with the expiry's digits (then optionally a
// space and the instance).
std::optional<ConsumerSession> parse_consumer_session(std::string_view value);

}  // namespace gpsrelay::topics
