// Forwarder: one delivery loop (forward.threads of them run side by side).
// It takes entries from the stream (its own StreamConsumer, a consumer of
// its own in the group, so loops share the group's entries without a
// lock), POSTs each to a target chosen by the process's one balancer
// (HttpSender, its own curl multi), retries on the schedule, and
// acknowledges an entry only after a target answered 2xx. Its own event
// loop; a packet waiting for its retry is a timer, not a thread.
//
// With forward.batch_max > 1 a delivery is a batch: the entries one read
// of the stream brought (up to batch_max) go out in one POST as a JSON
// array (forward/batch.h). The batch is the unit of everything after: one
// target, one attempt count, retried whole, acknowledged whole on a 2xx,
// each entry stored as its own failed packet when the batch gives up.
// forward.concurrency still bounds requests, not entries.
//
// Packets that exhaust their attempts or fail permanently go to the
// process's FailureStore (store/) and are acknowledged only once their
// MySQL row is committed (stored(), from the store's thread). Until then
// they stay pending in the stream, but no longer take a delivery slot, so
// a MySQL outage never stops delivery.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include "core/config.h"
#include "core/event_loop.h"
#include "core/log_throttle.h"
#include "core/metrics.h"
#include "forward/balancer.h"
#include "forward/http_sender.h"
#include "forward/retry_schedule.h"
#include "forward/shared_targets.h"
#include "queue/stream_consumer.h"
#include "store/failure_store.h"

namespace gpsrelay::forward {

class Forwarder : private queue::StreamConsumerListener {
 public:
  struct Loop {
    std::uint32_t index = 0;    // FailedPacket::origin of its packets
    std::string consumer_name;  // in the group; stable across restarts
    std::size_t concurrency = 1;
    bool health_checks = false;  // one loop checks for all
  };
  Forwarder(const core::Config& config, Loop loop, core::ForwardMetrics& metrics,
            SharedTargets& targets, store::FailureStore& store);
  ~Forwarder() override;
  Forwarder(const Forwarder&) = delete;
  Forwarder& operator=(const Forwarder&) = delete;

  void start();
  // From any thread: abandon deliveries in flight (unacknowledged, so they
  // are delivered again after a restart) and leave the loop.
  void request_stop();
  void join();
  std::chrono::steady_clock::time_point last_heartbeat() const;
  // From the store's thread: these entries' rows are committed.
  void stored(std::vector<std::string> ids);

 private:
  struct Delivery {
    // In stream order; exactly one unless forward.batch_max > 1.
    std::vector<queue::StreamEntry> entries;
    unsigned attempts = 0;
    std::optional<std::size_t> last_target;
    std::string last_error;
    std::unique_ptr<core::Timer> wait;
  };

  // queue::StreamConsumerListener
  void on_entry(queue::StreamEntry entry) override;
  std::size_t free_slots() const override;

  // Entries taken from the stream become one delivery here.
  void start_delivery(std::vector<queue::StreamEntry> entries);
  // Batch mode: turns the entries collected so far into one delivery.
  void send_collected();
  // attempt() and on_result() are the boundaries of one delivery's work:
  // if sending or handling the result throws, the delivery is abandoned.
  void attempt(std::uint64_t key);
  void send_attempt(std::uint64_t key);
  void on_result(std::uint64_t key, std::size_t target, const SendResult& result);
  void handle_result(std::uint64_t key, std::size_t target, const SendResult& result);
  // Drops a delivery whose state an exception left unknown, without
  // acknowledging it. Released, not retried here: the entry stays pending
  // in the stream and XAUTOCLAIM hands it out again after claim_idle (to
  // this or another instance), so the report is kept; a retry in place
  // could instead spin on a fault that repeats for this packet, holding a
  // delivery slot for good.
  void abandon(std::uint64_t key);
  void wait_then_attempt(Delivery& delivery, std::uint64_t key, std::chrono::milliseconds delay);
  void give_up(std::uint64_t key, std::size_t target);
  // A 2xx: acknowledges every entry of the delivery.
  void complete(std::uint64_t key);
  void acknowledge_stored();
  // Active health checks (forward.health_path): one GET per target and
  // interval; a target that fails its check gets no deliveries until it passes.
  void check_health();
  void on_health_result(std::size_t target, const SendResult& result);
  void tick();

  const std::vector<std::string> targets_;
  const std::string extra_header_;
  const std::chrono::milliseconds timeout_;
  const std::string ca_file_;
  const core::ForwardConfig::Http2 http2_;
  const std::string health_path_;
  const std::chrono::milliseconds health_interval_;
  const std::uint32_t index_;
  const std::size_t concurrency_;  // requests in flight
  const std::size_t batch_max_;    // entries per request
  const std::uint64_t batch_max_bytes_;
  const bool health_checks_;
  const RetrySchedule schedule_;
  core::ForwardMetrics& metrics_;
  SharedTargets& shared_;
  store::FailureStore& store_;
  core::ThrottledLog store_full_log_;

  // Destroyed bottom-up: everything registered on base_ goes before it.
  core::EventBasePtr base_;
  std::unordered_map<std::uint64_t, std::unique_ptr<Delivery>> deliveries_;
  std::vector<std::unique_ptr<Delivery>> abandoned_;  // destroyed at the next tick
  std::uint64_t next_key_ = 0;
  // Batch mode: entries handed over by the current read, not yet a
  // delivery. Sent when batch_max are there or, by collect_timer_ (zero
  // delay), once the consumer's callback has handed over the whole reply.
  std::vector<queue::StreamEntry> collecting_;
  std::uint64_t collecting_bytes_ = 0;  // the body they would make
  HttpSender sender_;
  queue::StreamConsumer consumer_;
  core::Timer tick_timer_;
  core::Timer collect_timer_;
  core::Timer health_timer_;
  std::vector<bool> health_check_running_;
  std::vector<bool> healthy_;
  core::CrossThreadTrigger stop_trigger_;
  // Message ids the store committed, handed from its thread to this loop.
  std::mutex stored_mutex_;
  std::vector<std::string> stored_ids_;
  core::CrossThreadTrigger stored_trigger_;
  // What this loop last added to the process-wide gauges (metrics_).
  std::uint64_t published_in_flight_ = 0;
  std::uint64_t published_reclaimed_ = 0;

  bool stopping_ = false;
  bool reported_no_target_ = false;
  std::atomic<std::int64_t> heartbeat_ns_{0};
  std::thread thread_;
};

}  // namespace gpsrelay::forward
