// FailureStore: the MySQL side of the data path. Packets that could not be
// delivered are handed over from the forwarder's loop; a thread of its own
// writes them into failed_packets (in batches, one transaction each,
// idempotent by message_id) and reports which message ids are committed, so
// that only then the forwarder acknowledges them in Redis. It reconnects
// with backoff when MySQL goes away, creates or migrates the table on each
// connect, and deletes rows older than mysql.retention in small batches.
//
// While MySQL is down the packets wait here, still pending in Redis; the
// in-memory backlog is bounded, and a packet refused by submit() simply
// stays pending in the stream to be tried again later.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "core/config.h"
#include "core/metrics.h"

namespace gpsrelay::queue {
class Lease;
}  // namespace gpsrelay::queue

namespace gpsrelay::store {

struct FailedPacket {
  std::string message_id;  // the stream id
  std::string payload;
  std::string request_id;
  std::int64_t received_at_ms = 0;
  unsigned retry_count = 0;  // attempts after the first
  std::string last_error;
  std::string target_server;  // the target of the last attempt
  std::uint32_t origin = 0;   // who holds the entry (a forwarder loop); handed back with its id
};

class FailureStore {
 public:
  struct Options {
    std::size_t max_backlog = 10000;  // packets waiting for MySQL
    std::size_t max_batch = 256;      // rows per transaction
    std::size_t purge_batch = 1000;   // rows per retention DELETE
    // When set, the retention purge runs only while it is held: one
    // instance of a fleet purges (queue/lease.h). Null = always.
    const queue::Lease* purge_lease = nullptr;
  };
  // Called on the store's thread with the ids whose rows are committed, once
  // per origin of a transaction's packets.
  using StoredCallback =
      std::function<void(std::uint32_t origin, std::vector<std::string> message_ids)>;

  FailureStore(core::MysqlConfig config, Options options, core::StoreMetrics& metrics,
               StoredCallback on_stored);
  ~FailureStore();
  FailureStore(const FailureStore&) = delete;
  FailureStore& operator=(const FailureStore&) = delete;

  void start();
  // Queues a packet for storing; false when the backlog is full.
  bool submit(FailedPacket packet);
  // Stops after the statement under way; queued packets are dropped (they
  // are still pending in Redis).
  void request_stop();
  void join();

 private:
  class Session;

  void run();
  void connect();
  void store(std::vector<FailedPacket>& batch);
  void purge_expired();

  const core::MysqlConfig config_;
  const Options options_;
  core::StoreMetrics& metrics_;
  const StoredCallback on_stored_;

  std::mutex mutex_;
  std::condition_variable wake_;
  std::deque<FailedPacket> backlog_;
  bool stopping_ = false;

  // Store thread only.
  std::unique_ptr<Session> session_;
  std::chrono::milliseconds reconnect_delay_{0};
  std::chrono::steady_clock::time_point next_purge_{};
  std::thread thread_;
};

}  // namespace gpsrelay::store
