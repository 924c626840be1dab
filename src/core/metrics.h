// Prometheus metrics for gpsrelayd.
//
// Each event-loop thread writes only its own WorkerMetrics (single writer,
// relaxed atomics, no lock on the request path); a scrape of /metrics sums
// all workers. This file knows nothing about HTTP or Redis: it counts what
// the I/O layer tells it and renders the Prometheus text format.
#pragma once

#include <array>
#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "core/target_state.h"

namespace gpsrelay::core {

// Increments a counter that only one thread writes: a plain load and store
// avoids the locked read-modify-write of fetch_add.
inline void bump(std::atomic<std::uint64_t>& counter, std::uint64_t by = 1) {
  counter.store(counter.load(std::memory_order_relaxed) + by, std::memory_order_relaxed);
}
// Increments a counter that several threads write (e.g. the forwarder loops').
inline void bump_shared(std::atomic<std::uint64_t>& counter, std::uint64_t by = 1) {
  counter.fetch_add(by, std::memory_order_relaxed);
}

// The status codes gpsrelayd answers with; anything else counts as "other".
inline constexpr std::array<int, 19> kCountedStatusCodes = {
    101, 200, 201, 202, 204, 400, 401, 403, 404, 405, 408, 409, 413, 415, 426, 429, 500, 501, 503};

class LatencyHistogram {
 public:
  // Upper bounds in seconds, chosen around the sub-millisecond ingest path.
  static constexpr std::array<double, 14> kBucketBounds = {
      0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 5};

  // From the one thread that writes this histogram.
  void observe(std::chrono::nanoseconds duration);
  // From any of several threads that write it.
  void observe_shared(std::chrono::nanoseconds duration);

  // Counts per bucket (not cumulative); the last slot is +Inf.
  std::array<std::uint64_t, kBucketBounds.size() + 1> bucket_counts() const;
  std::uint64_t count() const;
  double sum_seconds() const;

 private:
  std::array<std::atomic<std::uint64_t>, kBucketBounds.size() + 1> buckets_{};
  std::atomic<std::uint64_t> sum_ns_{0};
};

// Prometheus text format pieces, for the families modules render.
void append_header(std::string& out, const char* name, const char* type, const char* help);
void append_sample(std::string& out, const std::string& name_and_labels, double value);
// A family with one unlabelled sample.
void append_metric(std::string& out, const char* name, const char* type, const char* help,
                   double value);
template <typename T>
void append_metric(std::string& out, const char* name, const char* type, const char* help,
                   const std::atomic<T>& value) {
  append_metric(out, name, type, help, static_cast<double>(value.load(std::memory_order_relaxed)));
}
using BucketCounts = std::array<std::uint64_t, LatencyHistogram::kBucketBounds.size() + 1>;
// The cumulative _bucket series, _sum and _count of one histogram (its
// header written by the caller).
void append_histogram(std::string& out, const std::string& name, const BucketCounts& counts,
                      double sum_seconds);
void append_histogram(std::string& out, const std::string& name, const LatencyHistogram& histogram);

// Label values of gpsrelay_redis_write_errors_total, in queue::WriteError order.
inline constexpr std::array<const char*, 4> kRedisWriteErrorNames = {"oom", "readonly", "misconf",
                                                                     "other"};

// How long one refused append keeps /health and gpsrelay_redis_refusing_writes
// saying so (unless an append succeeds first).
inline constexpr std::chrono::seconds kRedisRefusalWindow{10};

struct WorkerMetrics {
  void count_request(int status_code, std::chrono::nanoseconds duration);

  std::array<std::atomic<std::uint64_t>, kCountedStatusCodes.size() + 1> requests_by_code{};
  LatencyHistogram request_duration;
  std::atomic<std::uint64_t> reports_accepted{0};
  // Answered with the message id of an earlier report with the same
  // Idempotency-Key; nothing added.
  std::atomic<std::uint64_t> idempotent_replays{0};
  // 401s by reason: missing, malformed, unknown (auth::AuthResult order).
  std::array<std::atomic<std::uint64_t>, 3> auth_failures{};
  std::atomic<std::uint64_t> redis_reconnects{0};
  // The edge's limits at work (http/client_connections.h).
  std::atomic<std::uint64_t> connections_rejected{0};  // over http.max_connections
  std::atomic<std::uint64_t> requests_timed_out{0};    // 408: not received within the deadline
  std::atomic<std::uint64_t> requests_over_budget{0};  // 503: over http.max_inflight_bytes
  std::atomic<std::uint64_t> reads_paused{0};   // requests not read from while the budget was spent
  std::atomic<std::uint64_t> accept_pauses{0};  // out of file descriptors
  std::atomic<std::int64_t> open_connections{0};
  std::atomic<std::int64_t> inflight_bytes{0};  // request bytes held, this worker's share
  std::atomic<bool> redis_up{false};
  // Appends Redis refused, by queue::WriteError (oom, readonly, misconf, other).
  std::array<std::atomic<std::uint64_t>, kRedisWriteErrorNames.size()> redis_write_errors{};
  // WAITs answered with too few replicas (redis.min_replicas_acked).
  std::atomic<std::uint64_t> redis_replica_ack_failures{0};
  // 1 + queue::WriteError of the latest refusal when no append succeeded
  // since; 0 otherwise. With the steady-clock time of that refusal.
  std::atomic<int> redis_refusing{0};
  std::atomic<std::int64_t> redis_refused_at_ns{0};
  // Steady-clock start of the latest request whose append Redis accepted:
  // a refusal older than any worker's success is over.
  std::atomic<std::int64_t> redis_append_ok_at_ns{0};
  // Last XLEN sample of the stream; -1 until the first answer.
  std::atomic<std::int64_t> queue_length{-1};
};

// Written only by the forwarder thread, read by scrapes.
struct TargetMetrics {
  std::string url;
  std::atomic<std::uint64_t> delivered{0};        // 2xx
  std::atomic<std::uint64_t> failed_attempts{0};  // retryable failures
  std::atomic<std::uint64_t> rejected{0};         // permanent 4xx
  // Delivery responses by the HTTP version they came over (forward.http2).
  std::atomic<std::uint64_t> http1_responses{0};
  std::atomic<std::uint64_t> http2_responses{0};
  std::atomic<TargetState> state{TargetState::kUp};  // The balancer's, as of the last tick.

  // The reason of the latest failed attempt, for /health (a certificate
  // error, a refused connection, "HTTP 503"). Written only on failures.
  void set_last_error(std::string error) {
    const std::lock_guard<std::mutex> lock(error_mutex_);
    last_error_ = std::move(error);
  }
  std::string last_error() const {
    const std::lock_guard<std::mutex> lock(error_mutex_);
    return last_error_;
  }

 private:
  mutable std::mutex error_mutex_;
  std::string last_error_;
};

// The failure store's MySQL side (store/failure_store.h).
struct StoreMetrics {
  std::atomic<bool> up{false};
  std::atomic<std::uint64_t> connects{0};
  std::atomic<std::uint64_t> stored{0};   // rows committed
  std::atomic<std::uint64_t> backlog{0};  // packets waiting for MySQL
  std::atomic<std::uint64_t> expired{0};  // rows deleted by the retention
};

// Location history in MySQL (store/history_store.h).
struct HistoryMetrics {
  std::atomic<bool> up{false};
  std::atomic<std::uint64_t> connects{0};
  std::atomic<std::uint64_t> rows_written{
      0};                                 // rows committed, duplicates of redeliveries included
  std::atomic<std::uint64_t> batches{0};  // transactions committed
  std::atomic<std::uint64_t> backlog{0};  // rows waiting for MySQL
  std::atomic<std::uint64_t> partitions_dropped{0};
  LatencyHistogram batch_duration;  // one transaction, from BEGIN to COMMIT
};

struct ForwardMetrics {
  explicit ForwardMetrics(const std::vector<std::string>& target_urls);

  std::vector<std::unique_ptr<TargetMetrics>> targets;
  LatencyHistogram attempt_duration;
  std::atomic<std::uint64_t> retries_scheduled{0};
  std::atomic<std::uint64_t> packets_failed{0};  // attempts exhausted or permanent failure
  std::atomic<std::uint64_t> no_target_waits{0};
  std::atomic<std::uint64_t> in_flight{0};
  std::atomic<std::uint64_t> reclaimed{0};
  std::atomic<std::int64_t> group_pending{-1};  // -1 = not known yet
  std::atomic<std::int64_t> group_lag{-1};
  StoreMetrics store;
};

class MetricsRegistry {
 public:
  explicit MetricsRegistry(std::size_t workers);

  // Present only when forward.targets is set.
  void set_forward(std::unique_ptr<ForwardMetrics> forward) { forward_ = std::move(forward); }
  ForwardMetrics* forward() const { return forward_.get(); }

  WorkerMetrics& worker(std::size_t index) { return *workers_.at(index); }
  std::size_t worker_count() const { return workers_.size(); }

  // True when every worker's Redis connection is up.
  bool redis_up() const;
  // The freshest known backlog, or -1 when no worker has sampled it yet.
  std::int64_t queue_length() const;
  // Why Redis refuses writes ("oom", "readonly", ...), when the latest
  // refused append of any worker is within `window` before `now_ns` (steady
  // clock) and no worker had one accepted since; nullptr otherwise.
  const char* redis_write_refusal(std::int64_t now_ns, std::chrono::nanoseconds window) const;

  // A module's families, appended to every scrape (called on HTTP threads).
  using Renderer = std::function<void(std::string& out)>;
  void add_renderer(Renderer renderer) { renderers_.push_back(std::move(renderer)); }

  std::string render_prometheus() const;

 private:
  void render_forward(std::string& out) const;

  std::vector<std::unique_ptr<WorkerMetrics>> workers_;
  std::unique_ptr<ForwardMetrics> forward_;
  std::vector<Renderer> renderers_;
};

}  // namespace gpsrelay::core
