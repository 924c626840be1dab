// HistoryStore: writes location records into MySQL table driver_locations
// (history_schema.h) on a thread of its own ("history") with its own
// connection, and reports which stream entries are committed, so that only
// then the locations consumer acknowledges them in Redis.
//
// Rows are written in batches: one multi-row INSERT per transaction, made
// idempotent by the primary key (driver_id, time), so an entry delivered
// again after a crash between COMMIT and XACK is a no-op that is still
// reported committed. An entry's records are never split across
// transactions. While MySQL is down the batch and the backlog wait here
// (bounded; a refused entry stays pending in Redis) and the thread
// reconnects with backoff. It also keeps the daily partitions up to date:
// at each connect and then hourly.
//
// It does not read history (route_reader.h) and does not know Redis: the
// caller maps committed entry ids to acknowledgements.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "core/config.h"
#include "core/metrics.h"
#include "locations/location_record.h"

namespace gpsrelay::queue {
class Lease;
}  // namespace gpsrelay::queue

namespace gpsrelay::store {

// One stream entry's records (at least one).
struct HistoryEntry {
  std::string entry_id;
  std::vector<locations::LocationRecord> records;
};

class HistoryStore {
 public:
  struct Options {
    std::size_t batch_size = 500;  // rows per transaction (an entry bigger than this is alone)
    std::chrono::milliseconds batch_interval{1000};  // the oldest entry waits at most this
    std::chrono::milliseconds retention{90LL * 24 * 60 * 60 * 1000};  // whole days are dropped
    std::size_t max_backlog_rows = 200000;                            // rows waiting for MySQL
    // When set, the hourly partition upkeep runs only while it is held: one
    // instance of a fleet alters the table (queue/lease.h). The upkeep at
    // connect always runs. Null = always.
    const queue::Lease* upkeep_lease = nullptr;
  };
  // Called on the store's thread, after COMMIT, with the ids of the entries
  // whose rows are all committed; each submitted entry once. It must not
  // throw (an exception ends the process, see core/thread.h).
  using CommittedCallback = std::function<void(std::vector<std::string> entry_ids)>;

  HistoryStore(core::MysqlConfig config, Options options, core::HistoryMetrics& metrics,
               CommittedCallback on_committed);
  ~HistoryStore();
  HistoryStore(const HistoryStore&) = delete;
  HistoryStore& operator=(const HistoryStore&) = delete;

  void start();
  // Queues an entry for writing; false when the backlog is full (the caller
  // leaves the entry pending) or the store is stopping. An entry larger
  // than max_backlog_rows is still taken when the backlog is empty.
  // Throws std::invalid_argument when the entry has no records or a record
  // fails locations::check_record or lies outside DATETIME's range: MySQL
  // would refuse such a row on every retry and block every entry behind it.
  bool submit(HistoryEntry entry);
  // Stops after the statement under way; queued rows are dropped (they are
  // still pending in Redis).
  void request_stop();
  void join();

 private:
  class Session;
  struct Queued {
    HistoryEntry entry;
    std::chrono::steady_clock::time_point queued_at;
  };

  void run();
  // REQUIRES: mutex_ held.
  bool batch_ready(std::chrono::steady_clock::time_point now) const;
  std::vector<HistoryEntry> take_batch();
  void connect();
  void write(std::vector<HistoryEntry>& batch);
  void maintain();
  void update_backlog_metric();

  const core::MysqlConfig config_;
  const Options options_;
  core::HistoryMetrics& metrics_;
  const CommittedCallback on_committed_;

  std::mutex mutex_;
  std::condition_variable wake_;
  std::deque<Queued> backlog_;
  std::size_t backlog_rows_ = 0;    // rows in backlog_
  std::size_t in_flight_rows_ = 0;  // rows taken out and not yet committed
  bool stopping_ = false;

  // Store thread only.
  std::unique_ptr<Session> session_;
  std::chrono::milliseconds reconnect_delay_{0};
  std::chrono::steady_clock::time_point next_maintenance_{};
  std::thread thread_;
};

}  // namespace gpsrelay::store
