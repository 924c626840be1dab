// ValueConsumer: the write-behind values' consumer thread ("values"), with
// an event loop of its own. It reads events.values_stream through consumer
// group "values" (queue::StreamConsumer: its own pending entries first,
// left over from a previous run, then new ones; a dead instance's after
// forward.claim_idle), hands each record to the ValueStore's batch writer,
// and acknowledges (XACK, then XDEL: the stream has this one group) an
// entry only once the store reports its batch committed. Whatever has not
// reached MySQL stays pending in Redis, so a crash (kill -9) or a MySQL
// outage loses nothing: the seed design kept the batch in memory only.
//
// After a commit it also refreshes the cache with the committed records
// (value_cache.h's newer-ts rule): a read that refilled the cache from
// MySQL while a newer value still waited in the stream (MySQL back after
// an outage longer than cache_ttl) would otherwise leave that older value
// cached until it expires.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "core/config.h"
#include "core/event_loop.h"
#include "events/value_cache.h"
#include "events/value_metrics.h"
#include "queue/stream_consumer.h"
#include "store/value_store.h"

namespace gpsrelay::events {

inline constexpr std::string_view kValuesGroup = "values";

class ValueConsumer : private queue::StreamConsumerListener {
 public:
  ValueConsumer(const core::Config& config, std::string consumer_name, ValueMetrics& metrics);
  ~ValueConsumer() override;
  ValueConsumer(const ValueConsumer&) = delete;
  ValueConsumer& operator=(const ValueConsumer&) = delete;

  void start();
  // From any thread: leave the loop; entries not acknowledged stay pending.
  void request_stop();
  void join();
  std::chrono::steady_clock::time_point last_heartbeat() const;

 private:
  // queue::StreamConsumerListener
  void on_entry(queue::StreamEntry entry) override;
  std::size_t free_slots() const override;

  void acknowledge_committed();
  void tick();

  ValueMetrics& metrics_;
  // Destroyed bottom-up: everything registered on base_ goes before it.
  core::EventBasePtr base_;
  queue::StreamConsumer consumer_;
  ValueCache cache_;
  core::Timer tick_timer_;
  core::CrossThreadTrigger stop_trigger_;
  // Entry ids whose rows are committed, from the store's thread.
  std::mutex committed_mutex_;
  std::vector<std::string> committed_ids_;
  std::vector<ValueRecord> committed_records_;
  core::CrossThreadTrigger committed_trigger_;
  // Last of the loop's members: its thread is joined before they go.
  std::unique_ptr<store::ValueStore> store_;

  std::atomic<std::int64_t> heartbeat_ns_{0};
  std::thread thread_;
};

}  // namespace gpsrelay::events
