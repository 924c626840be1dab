// Counters of the write-behind values for /metrics (the seed's Prometheus
// endpoint had the same): writes, cache hits and misses, the MySQL flushes
// (rows per flush, flush latency, rows written) and the backlog still in
// the stream. Written by the HTTP workers (relaxed atomics), the consumer
// thread and the store's thread; rendered on a scrape.
#pragma once

#include <atomic>
#include <cstdint>
#include <string>

#include "store/value_store.h"

namespace gpsrelay::events {

struct ValueMetrics {
  static void add(std::atomic<std::uint64_t>& counter) {
    counter.fetch_add(1, std::memory_order_relaxed);
  }

  std::atomic<std::uint64_t> writes_accepted{0};     // 202: in the stream and the cache
  std::atomic<std::uint64_t> writes_invalid{0};      // 400
  std::atomic<std::uint64_t> writes_unavailable{0};  // 503: Redis down or refusing
  std::atomic<std::uint64_t> cache_hits{0};          // reads answered from Redis
  std::atomic<std::uint64_t> cache_misses{0};        // reads that went to MySQL
  std::atomic<std::uint64_t> reads_not_found{0};     // 404
  std::atomic<std::uint64_t> reads_unavailable{0};   // 503
  std::atomic<std::uint64_t> entries_unusable{0};    // stream entries that are not records
  // The consumer thread's view (queue::StreamConsumer), -1 until known.
  std::atomic<std::int64_t> group_pending{-1};  // read, not yet acknowledged
  std::atomic<std::int64_t> group_lag{-1};      // not yet read by the group
  std::atomic<std::uint64_t> reclaimed{0};
  std::atomic<bool> consumer_redis_up{false};
  store::ValueStoreMetrics store;

  // Entries in the stream not yet in MySQL: pending + not yet read; -1
  // until the consumer has sampled the group.
  std::int64_t backlog() const;
  void render(std::string& out) const;
};

}  // namespace gpsrelay::events
