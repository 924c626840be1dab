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

}  // namespace

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

void append_metric(std::string& out, const char* name, const char* type, const char* help,
                   double value) {
  append_header(out, name, type, help);
  append_sample(out, name, value);
}

void append_histogram(std::string& out, const std::string& name, const BucketCounts& counts,
                      double sum_seconds) {
  std::uint64_t cumulative = 0;
  for (std::size_t i = 0; i < counts.size(); ++i) {
    cumulative += counts[i];
    char bound[32];
    if (i < LatencyHistogram::kBucketBounds.size()) {
      std::snprintf(bound, sizeof bound, "%g", LatencyHistogram::kBucketBounds[i]);
    } else {
      std::snprintf(bound, sizeof bound, "+Inf");
    }
    append_sample(out, name + "_bucket{le=\"" + bound + "\"}", static_cast<double>(cumulative));
  }
  append_sample(out, name + "_sum", sum_seconds);
  append_sample(out, name + "_count", static_cast<double>(cumulative));
}

void append_histogram(std::string& out, const std::string& name,
                      const LatencyHistogram& histogram) {
  append_histogram(out, name, histogram.bucket_counts(), histogram.sum_seconds());
}

namespace {

std::size_t bucket_of(std::chrono::nanoseconds duration) {
  const double seconds = std::chrono::duration<double>(duration).count();
  const auto* it = std::lower_bound(LatencyHistogram::kBucketBounds.begin(),
                                    LatencyHistogram::kBucketBounds.end(), seconds);
  return static_cast<std::size_t>(it - LatencyHistogram::kBucketBounds.begin());
}

std::uint64_t nanoseconds_of(std::chrono::nanoseconds duration) {
  return static_cast<std::uint64_t>(std::max<std::int64_t>(0, duration.count()));
}

}  // namespace

void LatencyHistogram::observe(std::chrono::nanoseconds duration) {
  bump(buckets_[bucket_of(duration)]);
  bump(sum_ns_, nanoseconds_of(duration));
}

void LatencyHistogram::observe_shared(std::chrono::nanoseconds duration) {
  bump_shared(buckets_[bucket_of(duration)]);
  bump_shared(sum_ns_, nanoseconds_of(duration));
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

const char* MetricsRegistry::redis_write_refusal(std::int64_t now_ns,
                                                 std::chrono::nanoseconds window) const {
  int latest_kind = 0;
  std::int64_t latest_refusal = 0;
  std::int64_t latest_ok = 0;
  for (const auto& w : workers_) {
    const int refusing = w->redis_refusing.load(std::memory_order_relaxed);
    const std::int64_t at = w->redis_refused_at_ns.load(std::memory_order_relaxed);
    if (refusing > 0 && at > latest_refusal) {
      latest_refusal = at;
      latest_kind = refusing;
    }
    latest_ok = std::max(latest_ok, w->redis_append_ok_at_ns.load(std::memory_order_relaxed));
  }
  if (latest_kind == 0 || latest_ok > latest_refusal || now_ns - latest_refusal > window.count()) {
    return nullptr;
  }
  return kRedisWriteErrorNames[static_cast<std::size_t>(latest_kind - 1)];
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
  BucketCounts buckets{};
  double sum = 0;
  for (const auto& w : workers_) {
    const auto counts = w->request_duration.bucket_counts();
    for (std::size_t i = 0; i < buckets.size(); ++i) buckets[i] += counts[i];
    sum += w->request_duration.sum_seconds();
  }
  append_histogram(out, "gpsrelay_http_request_duration_seconds", buckets, sum);

  std::uint64_t accepted = 0;
  std::uint64_t reconnects = 0;
  std::array<std::uint64_t, 3> auth_failures{};
  for (const auto& w : workers_) {
    accepted += w->reports_accepted.load(std::memory_order_relaxed);
    reconnects += w->redis_reconnects.load(std::memory_order_relaxed);
    for (std::size_t i = 0; i < auth_failures.size(); ++i) {
      auth_failures[i] += w->auth_failures[i].load(std::memory_order_relaxed);
    }
  }
  append_header(out, "gpsrelay_auth_failures_total", "counter",
                "Ingest requests refused with 401, by reason (auth.mode = token).");
  constexpr std::array<const char*, 3> kAuthReasons = {"missing", "malformed", "unknown"};
  for (std::size_t i = 0; i < kAuthReasons.size(); ++i) {
    append_sample(out,
                  std::string("gpsrelay_auth_failures_total{reason=\"") + kAuthReasons[i] + "\"}",
                  static_cast<double>(auth_failures[i]));
  }
  append_metric(out, "gpsrelay_reports_accepted_total", "counter",
                "Reports made durable in the Redis stream and acknowledged with 200.", accepted);
  append_metric(out, "gpsrelay_queue_length", "gauge",
                "Undelivered entries in the Redis stream (last sample; -1 = unknown).",
                queue_length());
  append_metric(out, "gpsrelay_redis_reconnects_total", "counter",
                "Redis connections re-established after a loss.", reconnects);
  const auto sum_of = [this](std::atomic<std::uint64_t> WorkerMetrics::*counter) {
    std::uint64_t total = 0;
    for (const auto& w : workers_) total += ((*w).*counter).load(std::memory_order_relaxed);
    return total;
  };
  append_metric(out, "gpsrelay_http_connections_rejected_total", "counter",
                "Connections closed at once because a listener had http.max_connections.",
                sum_of(&WorkerMetrics::connections_rejected));
  append_metric(out, "gpsrelay_http_requests_timed_out_total", "counter",
                "Requests answered 408: not received within http.request_timeout.",
                sum_of(&WorkerMetrics::requests_timed_out));
  append_metric(out, "gpsrelay_http_requests_over_budget_total", "counter",
                "New requests answered 503 because http.max_inflight_bytes were in flight.",
                sum_of(&WorkerMetrics::requests_over_budget));
  append_metric(out, "gpsrelay_http_reads_paused_total", "counter",
                "Times a request under way was not read from until http.max_inflight_bytes had "
                "room again.",
                sum_of(&WorkerMetrics::reads_paused));
  append_metric(out, "gpsrelay_http_accept_pauses_total", "counter",
                "Times a listener paused accepting because the process ran out of file "
                "descriptors.",
                sum_of(&WorkerMetrics::accept_pauses));
  std::int64_t open_connections = 0;
  std::int64_t inflight_bytes = 0;
  for (const auto& w : workers_) {
    open_connections += w->open_connections.load(std::memory_order_relaxed);
    inflight_bytes += w->inflight_bytes.load(std::memory_order_relaxed);
  }
  append_metric(out, "gpsrelay_http_connections", "gauge", "Open client connections.",
                static_cast<double>(open_connections));
  append_metric(out, "gpsrelay_http_inflight_bytes", "gauge",
                "Bytes of requests being received or handled (bounded by "
                "http.max_inflight_bytes).",
                static_cast<double>(inflight_bytes));
  append_header(out, "gpsrelay_redis_write_errors_total", "counter",
                "Appends Redis refused (answered 503), by reason.");
  for (std::size_t i = 0; i < kRedisWriteErrorNames.size(); ++i) {
    std::uint64_t total = 0;
    for (const auto& w : workers_)
      total += w->redis_write_errors[i].load(std::memory_order_relaxed);
    append_sample(out,
                  std::string("gpsrelay_redis_write_errors_total{reason=\"") +
                      kRedisWriteErrorNames[i] + "\"}",
                  static_cast<double>(total));
  }
  append_metric(out, "gpsrelay_redis_replica_ack_failures_total", "counter",
                "Batches of appends fewer than redis.min_replicas_acked replicas confirmed in "
                "time (their reports were answered 503).",
                sum_of(&WorkerMetrics::redis_replica_ack_failures));
  append_metric(out, "gpsrelay_idempotent_replays_total", "counter",
                "Reports answered with the message id of an earlier report with the same "
                "Idempotency-Key.",
                sum_of(&WorkerMetrics::idempotent_replays));
  const std::int64_t now_ns = std::chrono::duration_cast<std::chrono::nanoseconds>(
                                  std::chrono::steady_clock::now().time_since_epoch())
                                  .count();
  append_metric(out, "gpsrelay_redis_refusing_writes", "gauge",
                "1 while Redis refuses appends (OOM, READONLY, MISCONF): one was refused in the "
                "last 10 s and none accepted since.",
                redis_write_refusal(now_ns, kRedisRefusalWindow) != nullptr ? 1 : 0);
  append_metric(out, "gpsrelay_redis_up", "gauge",
                "1 when every event-loop thread has a working Redis connection.",
                redis_up() ? 1 : 0);
  if (forward_) render_forward(out);
  for (const Renderer& render : renderers_) render(out);
  return out;
}

ForwardMetrics::ForwardMetrics(const std::vector<std::string>& target_urls) {
  for (const std::string& url : target_urls) {
    targets.push_back(std::make_unique<TargetMetrics>());
    targets.back()->url = url;
  }
}

void MetricsRegistry::render_forward(std::string& out) const {
  const ForwardMetrics& f = *forward_;
  append_header(out, "gpsrelay_deliveries_total", "counter",
                "Delivery attempts by target and result (delivered, failed = retryable, "
                "rejected = permanent 4xx), per report: a batched request counts each.");
  for (const auto& t : f.targets) {
    const std::string target = "target=\"" + t->url + "\"";
    append_sample(out, "gpsrelay_deliveries_total{" + target + ",result=\"delivered\"}",
                  static_cast<double>(t->delivered.load(std::memory_order_relaxed)));
    append_sample(out, "gpsrelay_deliveries_total{" + target + ",result=\"failed\"}",
                  static_cast<double>(t->failed_attempts.load(std::memory_order_relaxed)));
    append_sample(out, "gpsrelay_deliveries_total{" + target + ",result=\"rejected\"}",
                  static_cast<double>(t->rejected.load(std::memory_order_relaxed)));
  }
  append_header(out, "gpsrelay_delivery_responses_total", "counter",
                "Responses to delivery attempts by target and the HTTP version they came "
                "over (forward.http2).");
  for (const auto& t : f.targets) {
    const std::string target = "target=\"" + t->url + "\"";
    append_sample(out, "gpsrelay_delivery_responses_total{" + target + ",version=\"1.1\"}",
                  static_cast<double>(t->http1_responses.load(std::memory_order_relaxed)));
    append_sample(out, "gpsrelay_delivery_responses_total{" + target + ",version=\"2\"}",
                  static_cast<double>(t->http2_responses.load(std::memory_order_relaxed)));
  }
  append_header(out, "gpsrelay_target_up", "gauge",
                "1 when the target takes deliveries (health up, breaker not open).");
  for (const auto& t : f.targets) {
    append_sample(out, "gpsrelay_target_up{target=\"" + t->url + "\"}",
                  t->state.load(std::memory_order_relaxed) == TargetState::kUp ? 1 : 0);
  }
  append_header(out, "gpsrelay_delivery_attempt_duration_seconds", "histogram",
                "Duration of one delivery attempt.");
  append_histogram(out, "gpsrelay_delivery_attempt_duration_seconds",
                   f.attempt_duration.bucket_counts(), f.attempt_duration.sum_seconds());
  append_metric(out, "gpsrelay_retries_scheduled_total", "counter",
                "Retries scheduled, per report.", f.retries_scheduled);
  append_metric(out, "gpsrelay_packets_failed_total", "counter",
                "Packets whose attempts were exhausted or that failed permanently.",
                f.packets_failed);
  append_metric(out, "gpsrelay_no_target_available_total", "counter",
                "Times a packet waited because no target was up with its breaker closed.",
                f.no_target_waits);
  append_metric(out, "gpsrelay_deliveries_in_flight", "gauge", "Packets being delivered now.",
                f.in_flight);
  append_metric(out, "gpsrelay_entries_reclaimed_total", "counter",
                "Pending entries taken over from idle consumers (XAUTOCLAIM).", f.reclaimed);
  append_metric(out, "gpsrelay_stream_pending", "gauge",
                "Entries read by the consumer group and not yet acknowledged (any instance).",
                f.group_pending);
  append_metric(out, "gpsrelay_consumer_lag", "gauge",
                "Entries the consumer group has not read yet (-1 when Redis cannot tell).",
                f.group_lag);
  append_metric(out, "gpsrelay_mysql_up", "gauge",
                "1 while the failure store is connected to MySQL.",
                f.store.up.load(std::memory_order_relaxed) ? 1 : 0);
  append_metric(out, "gpsrelay_failed_packets_stored_total", "counter",
                "Undeliverable packets committed to MySQL failed_packets.", f.store.stored);
  append_metric(out, "gpsrelay_failed_packets_waiting", "gauge",
                "Undeliverable packets waiting for MySQL (still pending in Redis).",
                f.store.backlog);
  append_metric(out, "gpsrelay_failed_packets_expired_total", "counter",
                "Rows deleted from failed_packets after mysql.retention.", f.store.expired);
}

}  // namespace gpsrelay::core
