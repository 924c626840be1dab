// Write-behind value counters as Prometheus text (see value_metrics.h).
#include "events/value_metrics.h"

namespace gpsrelay::events {

std::int64_t ValueMetrics::backlog() const {
  const std::int64_t pending = group_pending.load(std::memory_order_relaxed);
  const std::int64_t lag = group_lag.load(std::memory_order_relaxed);
  if (pending < 0) return -1;
  return pending + (lag > 0 ? lag : 0);
}

void ValueMetrics::render(std::string& out) const {
  core::append_metric(out, "gpsrelay_values_writes_accepted_total", "counter",
                      "POST /write answered 202: the value is in the stream and the cache.",
                      writes_accepted);
  core::append_metric(out, "gpsrelay_values_writes_invalid_total", "counter",
                      "POST /write refused with 400.", writes_invalid);
  core::append_metric(out, "gpsrelay_values_writes_unavailable_total", "counter",
                      "POST /write answered 503: Redis down or refusing.", writes_unavailable);
  core::append_metric(out, "gpsrelay_values_cache_hits_total", "counter",
                      "GET /read answered from the Redis cache.", cache_hits);
  core::append_metric(out, "gpsrelay_values_cache_misses_total", "counter",
                      "GET /read not in the Redis cache: looked up in MySQL.", cache_misses);
  core::append_metric(out, "gpsrelay_values_reads_not_found_total", "counter",
                      "GET /read answered 404.", reads_not_found);
  core::append_metric(out, "gpsrelay_values_reads_unavailable_total", "counter",
                      "GET /read answered 503: neither Redis nor MySQL could answer.",
                      reads_unavailable);
  core::append_metric(out, "gpsrelay_values_entries_unusable_total", "counter",
                      "Stream entries that hold no value record (acknowledged, not written).",
                      entries_unusable);
  core::append_metric(out, "gpsrelay_values_rows_written_total", "counter",
                      "user_values rows written in committed transactions.", store.rows_written);
  core::append_metric(out, "gpsrelay_values_rows_refused_total", "counter",
                      "Values MySQL refused on their own (logged and dropped).",
                      store.rows_refused);
  core::append_metric(out, "gpsrelay_values_entries_committed_total", "counter",
                      "Stream entries committed to MySQL and handed back for acknowledgement.",
                      store.entries_committed);
  core::append_header(out, "gpsrelay_values_batch_rows", "histogram",
                      "user_values rows per flush (one transaction).");
  std::uint64_t cumulative = 0;
  for (std::size_t i = 0; i < store.batch_rows.size(); ++i) {
    cumulative += store.batch_rows[i].load(std::memory_order_relaxed);
    const bool last = i + 1 == store.batch_rows.size();
    const std::string le = last ? "+Inf" : std::to_string(std::uint64_t{1} << i);
    core::append_sample(out, "gpsrelay_values_batch_rows_bucket{le=\"" + le + "\"}",
                        static_cast<double>(cumulative));
  }
  core::append_sample(out, "gpsrelay_values_batch_rows_sum",
                      static_cast<double>(store.batch_rows_sum.load(std::memory_order_relaxed)));
  core::append_sample(out, "gpsrelay_values_batch_rows_count", static_cast<double>(cumulative));
  core::append_header(out, "gpsrelay_values_flush_duration_seconds", "histogram",
                      "One flush to MySQL, from START TRANSACTION to COMMIT's answer.");
  core::append_histogram(out, "gpsrelay_values_flush_duration_seconds", store.flush_duration);
  core::append_metric(out, "gpsrelay_values_backlog", "gauge",
                      "Values in the stream not yet committed to MySQL (pending + not yet read; "
                      "-1 until known).",
                      static_cast<double>(backlog()));
  core::append_metric(out, "gpsrelay_values_queued", "gauge",
                      "Values read from the stream and waiting in the daemon for the next flush.",
                      store.backlog);
  core::append_metric(out, "gpsrelay_values_reclaimed_total", "counter",
                      "Values another (dead) instance left pending, taken over after "
                      "forward.claim_idle.",
                      reclaimed);
  core::append_metric(out, "gpsrelay_values_mysql_up", "gauge",
                      "1 when the values writer's last attempt to reach MySQL worked.",
                      store.up.load(std::memory_order_relaxed) ? 1.0 : 0.0);
}

}  // namespace gpsrelay::events
