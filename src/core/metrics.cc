// Metric counting and Prometheus text rendering (see metrics.h).
#include "core/metrics.h"

#include <algorithm>
#include <cstdio>

namespace gpsrelay::core {
namespace {

std::size_t status_index(int code) {
  const auto* it = std::find(kCountedStatusCodes.begin(), kCountedStatusCodes.end(), code);
  return static_cast<std::size_t>(it - kCountedStatusCodes.begin());  // size() for "other"
}

void append_header(std::string& out, const char* name, const char* type, const char* help) {
  out += "# HELP ";
  out += name;
  out += ' ';
  out += help;
  out += "\n# TYPE ";
  out += name;
  out += ' ';
  out += type;
  out += '\n';
}

void append_sample(std::string& out, const std::string& name_and_labels, double value) {
  char number[64];
  std::snprintf(number, sizeof number, "%.17g", value);
  out += name_and_labels;
  out += ' ';
  out += number;
  out += '\n';
}

}  // namespace

void LatencyHistogram::observe(std::chrono::nanoseconds duration) {
  const double seconds = std::chrono::duration<double>(duration).count();
  const auto* it = std::lower_bound(kBucketBounds.begin(), kBucketBounds.end(), seconds);
  bump(buckets_[static_cast<std::size_t>(it - kBucketBounds.begin())]);
  bump(sum_ns_, static_cast<std::uint64_t>(std::max<std::int64_t>(0, duration.count())));
}

std::array<std::uint64_t, LatencyHistogram::kBucketBounds.size() + 1>
LatencyHistogram::bucket_counts() const {
  std::array<std::uint64_t, kBucketBounds.size() + 1> counts{};
  for (std::size_t i = 0; i < counts.size(); ++i) {
    counts[i] = buckets_[i].load(std::memory_order_relaxed);
  }
  return counts;
}

std::uint64_t LatencyHistogram::count() const {
  std::uint64_t total = 0;
  for (const auto& bucket : buckets_) total += bucket.load(std::memory_order_relaxed);
  return total;
}

double LatencyHistogram::sum_seconds() const {
  return static_cast<double>(sum_ns_.load(std::memory_order_relaxed)) / 1e9;
}

void WorkerMetrics::count_request(int status_code, std::chrono::nanoseconds duration) {
  bump(requests_by_code[status_index(status_code)]);
  request_duration.observe(duration);
}

MetricsRegistry::MetricsRegistry(std::size_t workers) {
  workers_.reserve(workers);
  for (std::size_t i = 0; i < workers; ++i) workers_.push_back(std::make_unique<WorkerMetrics>());
}

bool MetricsRegistry::redis_up() const {
  return std::all_of(workers_.begin(), workers_.end(),
                     [](const auto& w) { return w->redis_up.load(std::memory_order_relaxed); });
}

std::int64_t MetricsRegistry::queue_length() const {
  std::int64_t length = -1;
  for (const auto& w : workers_) {
    length = std::max(length, w->queue_length.load(std::memory_order_relaxed));
  }
  return length;
}

std::string MetricsRegistry::render_prometheus() const {
  std::string out;
  out.reserve(4096);

  append_header(out, "gpsrelay_http_requests_total", "counter",
                "HTTP requests answered, by status code.");
  for (std::size_t i = 0; i <= kCountedStatusCodes.size(); ++i) {
    std::uint64_t total = 0;
    for (const auto& w : workers_) total += w->requests_by_code[i].load(std::memory_order_relaxed);
    const std::string code =
        i < kCountedStatusCodes.size() ? std::to_string(kCountedStatusCodes[i]) : "other";
    append_sample(out, "gpsrelay_http_requests_total{code=\"" + code + "\"}",
                  static_cast<double>(total));
  }

  append_header(out, "gpsrelay_http_request_duration_seconds", "histogram",
                "Time from a request's arrival to its answer.");
  std::array<std::uint64_t, LatencyHistogram::kBucketBounds.size() + 1> buckets{};
  double sum = 0;
  for (const auto& w : workers_) {
    const auto counts = w->request_duration.bucket_counts();
    for (std::size_t i = 0; i < buckets.size(); ++i) buckets[i] += counts[i];
    sum += w->request_duration.sum_seconds();
  }
  std::uint64_t cumulative = 0;
  for (std::size_t i = 0; i < buckets.size(); ++i) {
    cumulative += buckets[i];
    char bound[32];
    if (i < LatencyHistogram::kBucketBounds.size()) {
      std::snprintf(bound, sizeof bound, "%g", LatencyHistogram::kBucketBounds[i]);
    } else {
      std::snprintf(bound, sizeof bound, "+Inf");
    }
    append_sample(
        out, std::string("gpsrelay_http_request_duration_seconds_bucket{le=\"") + bound + "\"}",
        static_cast<double>(cumulative));
  }
  append_sample(out, "gpsrelay_http_request_duration_seconds_sum", sum);
  append_sample(out, "gpsrelay_http_request_duration_seconds_count",
                static_cast<double>(cumulative));

  std::uint64_t accepted = 0;
  std::uint64_t reconnects = 0;
  for (const auto& w : workers_) {
    accepted += w->reports_accepted.load(std::memory_order_relaxed);
    reconnects += w->redis_reconnects.load(std::memory_order_relaxed);
  }
  append_header(out, "gpsrelay_reports_accepted_total", "counter",
                "Reports made durable in the Redis stream and acknowledged with 200.");
  append_sample(out, "gpsrelay_reports_accepted_total", static_cast<double>(accepted));
  append_header(out, "gpsrelay_queue_length", "gauge",
                "Undelivered entries in the Redis stream (last sample; -1 = unknown).");
  append_sample(out, "gpsrelay_queue_length", static_cast<double>(queue_length()));
  append_header(out, "gpsrelay_redis_reconnects_total", "counter",
                "Redis connections re-established after a loss.");
  append_sample(out, "gpsrelay_redis_reconnects_total", static_cast<double>(reconnects));
  append_header(out, "gpsrelay_redis_up", "gauge",
                "1 when every event-loop thread has a working Redis connection.");
  append_sample(out, "gpsrelay_redis_up", redis_up() ? 1 : 0);
  return out;
}

}  // namespace gpsrelay::core
