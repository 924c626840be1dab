// Topics counters as Prometheus text (see topic_metrics.h).
#include "topics/topic_metrics.h"

namespace gpsrelay::topics {

void TopicMetrics::render(std::string& out) const {
  core::append_header(out, "gpsrelay_topics_messages_published_total", "counter",
                      "Messages published, by topic (acknowledged by Redis).");
  core::append_header(out, "gpsrelay_topics_bytes_published_total", "counter",
                      "Value bytes published, by topic.");
  {
    const std::lock_guard<std::mutex> lock(mutex_);
    for (const auto& [topic, counts] : by_topic_) {
      core::append_sample(out, "gpsrelay_topics_messages_published_total{topic=\"" + topic + "\"}",
                          static_cast<double>(counts.messages));
    }
    for (const auto& [topic, counts] : by_topic_) {
      core::append_sample(out, "gpsrelay_topics_bytes_published_total{topic=\"" + topic + "\"}",
                          static_cast<double>(counts.bytes));
    }
  }
  core::append_header(out, "gpsrelay_topics_publish_errors_total", "counter",
                      "Publish requests refused, by reason.");
  for (std::size_t i = 0; i < kPublishErrorNames.size(); ++i) {
    core::append_sample(
        out,
        std::string("gpsrelay_topics_publish_errors_total{type=\"") + kPublishErrorNames[i] + "\"}",
        static_cast<double>(errors_[i].load(std::memory_order_relaxed)));
  }
  core::append_header(out, "gpsrelay_topics_messages_consumed_total", "counter",
                      "Messages handed to consumers by polls, by topic and group.");
  {
    const std::lock_guard<std::mutex> lock(mutex_);
    for (const auto& [key, count] : consumed_) {
      core::append_sample(out,
                          "gpsrelay_topics_messages_consumed_total{topic=\"" + key.first +
                              "\",group=\"" + key.second + "\"}",
                          static_cast<double>(count));
    }
  }
  core::append_metric(out, "gpsrelay_topics_redeliveries_total", "counter",
                      "Messages delivered again after their visibility timeout or a nack.",
                      redelivered_);
  core::append_metric(out, "gpsrelay_topics_dead_letters_total", "counter",
                      "Messages moved to <topic>.dlq after max_retries deliveries.",
                      dead_lettered_);
  core::append_metric(out, "gpsrelay_topics_acked_total", "counter",
                      "Messages acknowledged (ack and commit).", acked_);
  core::append_metric(out, "gpsrelay_topics_nacked_total", "counter",
                      "Messages given back by nack.", nacked_);
  core::append_header(out, "gpsrelay_topics_publish_latency_seconds", "histogram",
                      "From a publish request received to Redis's answer.");
  core::append_histogram(out, "gpsrelay_topics_publish_latency_seconds", publish_latency_);
}

}  // namespace gpsrelay::topics
