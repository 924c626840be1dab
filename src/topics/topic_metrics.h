// Counters of the topics API, written by the HTTP workers, read by
// /metrics: messages and bytes published per topic, publish errors by
// type, publish latency (request received to Redis's answer), messages
// consumed per topic and group, redeliveries, dead letters, acks, nacks.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <utility>

#include "core/metrics.h"

namespace gpsrelay::topics {

enum class PublishError { kInvalid, kTooLarge, kNoTopic, kUnavailable };
inline constexpr std::array<const char*, 4> kPublishErrorNames = {"invalid", "too_large",
                                                                  "no_topic", "unavailable"};

class TopicMetrics {
 public:
  void published(const std::string& topic, std::uint64_t messages, std::uint64_t bytes) {
    const std::lock_guard<std::mutex> lock(mutex_);
    Counts& counts = by_topic_[topic];
    counts.messages += messages;
    counts.bytes += bytes;
  }
  void failed(PublishError error) {
    errors_[static_cast<std::size_t>(error)].fetch_add(1, std::memory_order_relaxed);
  }
  core::LatencyHistogram& publish_latency() { return publish_latency_; }
  void consumed(const std::string& topic, const std::string& group, std::uint64_t messages) {
    const std::lock_guard<std::mutex> lock(mutex_);
    consumed_[{topic, group}] += messages;
  }
  void redelivered(std::uint64_t messages) { add(redelivered_, messages); }
  void dead_lettered(std::uint64_t messages) { add(dead_lettered_, messages); }
  void settled(bool nack, std::uint64_t messages) { add(nack ? nacked_ : acked_, messages); }

  void render(std::string& out) const;

 private:
  static void add(std::atomic<std::uint64_t>& counter, std::uint64_t n) {
    counter.fetch_add(n, std::memory_order_relaxed);
  }

  struct Counts {
    std::uint64_t messages = 0;
    std::uint64_t bytes = 0;
  };
  mutable std::mutex mutex_;
  // Topics published to since the start: bounded by the topics there are
  // (a publish to a missing topic is not counted here).
  std::map<std::string, Counts> by_topic_;
  // Messages handed to consumers, by (topic, group); bounded likewise.
  std::map<std::pair<std::string, std::string>, std::uint64_t> consumed_;
  std::atomic<std::uint64_t> redelivered_{0};
  std::atomic<std::uint64_t> dead_lettered_{0};
  std::atomic<std::uint64_t> acked_{0};
  std::atomic<std::uint64_t> nacked_{0};
  std::array<std::atomic<std::uint64_t>, kPublishErrorNames.size()> errors_{};
  core::LatencyHistogram publish_latency_;
};

}  // namespace gpsrelay::topics
