// The write-behind values' MySQL side (CONTRACT.md, "Entity events",
// dsProxy): table user_values, one row per user with the value of the
// newest ts seen.
//
// ValueStore writes on a thread of its own ("values-write"): entries from
// the values stream are gathered until events.batch_size of them wait or
// the oldest has waited events.batch_interval, then written in one
// transaction (multi-row INSERT ... ON DUPLICATE KEY UPDATE keeping the
// newer ts; several entries of one user in a batch collapse into one row),
// and only after COMMIT are their stream ids reported, for the consumer to
// acknowledge. Writing is idempotent, so an entry delivered again (a crash
// between COMMIT and XACK) changes nothing. While MySQL is down the batch
// and the backlog wait here, bounded (a refused entry stays pending in
// Redis), and the thread reconnects with MysqlSession's backoff. A row the
// server refuses (not a lost connection) is retried alone and, refused
// again, logged and counted and reported done, so that it cannot hold
// back every entry behind it for ever.
//
// ValueReader answers lookups of one user on its own thread ("values-read")
// so reads never wait behind a batch.
//
// Neither knows Redis or HTTP.
#pragma once

#include <array>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "core/config.h"
#include "core/metrics.h"
#include "events/value_request.h"
#include "store/mysql_session.h"
#include "store/mysql_worker.h"

namespace gpsrelay::store {

// Creates user_values if it is missing.
void ensure_value_schema(MysqlConnection& connection);

// Rows per flush, as histogram buckets: <= 1, 2, 4, ..., 1024, more.
inline constexpr std::size_t kValueBatchBuckets = 12;

// What the writer counts, for /metrics.
struct ValueStoreMetrics {
  std::atomic<bool> up{false};                      // the last attempt to reach MySQL worked
  std::atomic<std::uint64_t> flushes{0};            // transactions committed
  std::atomic<std::uint64_t> rows_written{0};       // rows in committed transactions
  std::atomic<std::uint64_t> entries_committed{0};  // stream entries reported done
  std::atomic<std::uint64_t> rows_refused{0};       // rows the server refused alone
  std::atomic<std::uint64_t> backlog{0};            // entries here, not yet committed
  std::array<std::atomic<std::uint64_t>, kValueBatchBuckets> batch_rows{};
  std::atomic<std::uint64_t> batch_rows_sum{0};
  core::LatencyHistogram flush_duration;  // START TRANSACTION to COMMIT's answer
};

// One stream entry.
struct ValueEntry {
  std::string entry_id;
  events::ValueRecord record;
};

class ValueStore {
 public:
  struct Options {
    std::size_t batch_size = 50;
    std::chrono::milliseconds batch_interval{2000};
    std::size_t max_backlog = 100000;  // entries waiting; more are refused
  };
  // On the store's thread, after COMMIT, with the ids of the entries that
  // are written (each submitted entry once) and the records that decided
  // their rows (the newest per user; none the server refused). Must not
  // throw.
  using CommittedCallback = std::function<void(std::vector<std::string> entry_ids,
                                               std::vector<events::ValueRecord> written)>;

  ValueStore(core::MysqlConfig config, Options options, ValueStoreMetrics& metrics,
             CommittedCallback on_committed);
  ~ValueStore();
  ValueStore(const ValueStore&) = delete;
  ValueStore& operator=(const ValueStore&) = delete;

  void start();
  // False when the backlog is full or the store is stopping: the caller
  // leaves the entry pending in Redis.
  bool submit(ValueEntry entry);
  // Entries submit() would take now; any thread.
  std::size_t room() const;
  // Stops after the transaction under way; queued entries are dropped
  // (they are still pending in Redis).
  void request_stop();
  void join();

 private:
  struct Queued {
    ValueEntry entry;
    std::chrono::steady_clock::time_point queued_at;
  };

  void run();
  // REQUIRES: mutex_ held.
  bool batch_ready(std::chrono::steady_clock::time_point now) const;
  std::vector<ValueEntry> take_batch();
  void put_back(std::vector<ValueEntry>& batch);
  // Throws MysqlError when the connection is lost (nothing reported then).
  void write(MysqlConnection& connection, std::vector<ValueEntry>& batch);
  // The rows the server took.
  std::vector<const ValueEntry*> write_rows_alone(MysqlConnection& connection,
                                                  const std::vector<const ValueEntry*>& rows);
  void count_flush(std::size_t rows, std::chrono::steady_clock::duration took);

  const Options options_;
  ValueStoreMetrics& metrics_;
  const CommittedCallback on_committed_;
  MysqlSession session_;  // store thread only

  mutable std::mutex mutex_;
  std::condition_variable wake_;
  std::deque<Queued> backlog_;
  std::size_t in_flight_ = 0;  // taken out, not yet committed
  bool stopping_ = false;
  std::thread thread_;
};

struct ValueLookup {
  enum class Status { kFound, kNotFound, kUnavailable };
  Status status = Status::kUnavailable;
  events::ValueRecord record;  // when kFound
  std::string error;           // when kUnavailable
};

class ValueReader {
 public:
  // On the reader's thread, once per accepted lookup; must not throw.
  using LookupDone = std::function<void(ValueLookup)>;

  ValueReader(core::MysqlConfig config, std::size_t max_queued);
  void start() { worker_.start(); }
  void request_stop() { worker_.request_stop(); }
  void join() { worker_.join(); }

  // False when the queue is full or the reader is stopping (`done` is not
  // called then).
  bool lookup(std::string user_id, LookupDone done);

 private:
  struct Job {
    std::string user_id;
    LookupDone done;
  };
  void read(Job& job);

  MysqlSession session_;  // before the worker: its thread uses it until joined
  MysqlWorker<Job> worker_;
};

}  // namespace gpsrelay::store
