// LocationConsumer: the locations consumer group's thread. It reads every
// entry of redis.stream through group locations.group (its own pending
// entries first, then new ones; a dead instance's after claim_idle), takes
// the location out of it, applies it to the state in Redis (one atomic
// script per batch: current location, geo index, order -> driver, stale
// reports ignored, Pub/Sub), hands it to the history store, and
// acknowledges the entry only after its history rows are committed (or at
// once with history off, or when it holds no location).
//
// MySQL being down does not stop the state: entries waiting for history
// do not take reading slots, so new locations keep flowing; when the
// history backlog is full an entry is left pending in Redis (released),
// and a later reclaim brings it back.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "core/config.h"
#include "core/event_loop.h"
#include "core/log_throttle.h"
#include "locations/location_metrics.h"
#include "locations/location_record.h"
#include "locations/location_state.h"
#include "queue/lease.h"
#include "queue/redis_connection.h"
#include "queue/stream_consumer.h"
#include "store/history_store.h"

namespace gpsrelay::locations {

class LocationConsumer : private queue::StreamConsumerListener {
 public:
  // `upkeep_lease`: the history table's hourly partition upkeep runs while
  // it is held (null: always).
  LocationConsumer(const core::Config& config, std::string consumer_name, LocationMetrics& metrics,
                   const queue::Lease* upkeep_lease = nullptr);
  ~LocationConsumer() override;
  LocationConsumer(const LocationConsumer&) = delete;
  LocationConsumer& operator=(const LocationConsumer&) = delete;

  void start();
  // From any thread: leave the loop; entries not acknowledged stay pending.
  void request_stop();
  void join();
  std::chrono::steady_clock::time_point last_heartbeat() const;

 private:
  // One stream entry's locations on their way through.
  struct Entry {
    std::string id;
    Source source;
    std::int64_t added_ms;  // from the stream id: when XADD stored it
    std::vector<LocationRecord> records;
    // A device endpoint's single record is stored as to_json already
    // wrote it: passed on as is rather than rendered again. Empty otherwise.
    std::string record_json;
  };

  // queue::StreamConsumerListener
  void on_entry(queue::StreamEntry entry) override;
  std::size_t free_slots() const override;

  void send_updates();
  static void on_update_reply(redisAsyncContext*, void* reply, void* self);
  void handle_update_reply(const redisReply* reply);
  // After the state took an entry: history next, or acknowledge.
  void after_update(Entry& entry);
  void sweep();
  static void on_sweep_reply(redisAsyncContext*, void* reply, void* self);
  void acknowledge_committed();
  void tick();

  const StateKeys keys_;
  const std::int64_t ttl_ms_;
  LocationMetrics& metrics_;
  core::ThrottledLog state_error_log_;

  // Destroyed bottom-up: everything registered on base_ goes before it.
  core::EventBasePtr base_;
  queue::StreamConsumer consumer_;
  queue::RedisConnection state_;
  std::vector<Entry> waiting_;               // read, not yet sent to the script
  std::deque<std::vector<Entry>> updating_;  // sent, in command order
  std::size_t entries_in_state_ = 0;         // in waiting_ and updating_
  bool sweep_in_flight_ = false;
  core::CrossThreadTrigger update_trigger_;
  core::Timer sweep_timer_;
  core::Timer tick_timer_;
  core::CrossThreadTrigger stop_trigger_;
  // Entry ids whose history is committed, from the store's thread.
  std::mutex committed_mutex_;
  std::vector<std::string> committed_ids_;
  core::CrossThreadTrigger committed_trigger_;
  // Last of the loop's members: its thread is joined before they go.
  std::unique_ptr<store::HistoryStore> history_;  // null with history = false

  std::atomic<std::int64_t> heartbeat_ns_{0};
  std::thread thread_;
};

}  // namespace gpsrelay::locations
