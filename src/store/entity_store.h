// EntityStore: the entity-event API's MySQL side (CONTRACT.md, "Entity
// events"). Events are applied on a writer thread ("events-write") with
// group commit: everything queued while one transaction runs goes into the
// next, so throughput does not depend on one round trip per event, and
// every event's answer comes after the COMMIT that holds it. Entity reads
// and health pings go to a reader thread ("events-read") so they never
// wait behind a large write. The HTTP loops only queue and get callbacks.
//
// Tables (created at connect, entity_schema.h): `entities` (the current
// attributes of each (entity_type, entity_id)) and `applied_events` (one
// row per applied uuid: what makes a replayed event a no-op).
//
// The merge runs here, in the daemon (events/merge_patch.h), not as SQL
// JSON_MERGE_PATCH: a new entity must start from {} with the patch's nulls
// dropped (RFC 7396), which an INSERT ... ON DUPLICATE KEY UPDATE cannot
// express without the raw patch, and several updates of one entity in a
// batch collapse into one row write. Existing rows are read and locked by
// one SELECT ... FOR UPDATE (in READ COMMITTED: no gap locks), new ones
// created by a plain INSERT, so two writers (threads, or gpsrelayd
// instances on one database) never lose an update: one creating a row the
// other just created fails with a duplicate key, like one applying a uuid
// the other just applied, and rolls back and retries, as after a
// deadlock.
#pragma once

#include <array>
#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "core/config.h"
#include "core/metrics.h"
#include "events/event_request.h"
#include "store/mysql_session.h"
#include "store/mysql_worker.h"

namespace gpsrelay::store {

// What the writer counts, for /metrics (rendered by the events module).
struct EntityStoreMetrics {
  std::atomic<std::uint64_t> transactions{0};    // committed
  std::atomic<std::uint64_t> events_applied{0};  // in committed transactions
  std::atomic<std::uint64_t> entity_updates{0};  // merged and written
  std::atomic<std::uint64_t> retries{0};         // transactions rolled back and tried again
  core::LatencyHistogram commit_duration;        // START TRANSACTION to COMMIT's answer
  // Events per committed transaction: sizes of the group commits.
  std::array<std::atomic<std::uint64_t>, 8> batch_events{};  // <=1, 2, 4 ... 64, more
};

// What became of one event.
enum class EventOutcome {
  kApplied,      // committed now
  kDuplicate,    // its uuid was applied before (or earlier in the same batch): nothing done
  kUnavailable,  // MySQL unreachable or lost mid-transaction: try again (a retry is harmless)
  kFailed,       // MySQL refused this event's content (logged; error says why)
};

struct EventResult {
  EventOutcome outcome = EventOutcome::kUnavailable;
  std::string error;  // for kUnavailable and kFailed
};

struct StoredEntity {
  std::string entity_type;
  std::string entity_id;
  std::string attributes_json;  // a JSON object
  std::int64_t created_ms = 0;  // Unix milliseconds
  std::int64_t updated_ms = 0;
};

struct EntityLookup {
  enum class Status { kFound, kNotFound, kUnavailable };
  Status status = Status::kUnavailable;
  StoredEntity entity;  // when kFound
  std::string error;    // when kUnavailable
};

class EntityStore {
 public:
  struct Options {
    std::size_t max_queued_requests = 20000;  // event requests waiting; more are refused (503)
    std::size_t max_updates_per_commit =
        5000;  // entity updates per transaction (a bigger request is alone)
    std::size_t max_queued_reads = 2000;
    // Writer threads, each with its own connection: while one waits for
    // MySQL another builds and sends the next transaction.
    std::size_t writer_threads = 2;
  };
  // Callbacks run on the store's threads, once per accepted call; they
  // must not throw. The caller carries the answer to its own loop.
  using EventsDone = std::function<void(std::vector<EventResult>)>;  // one per event, in order
  using LookupDone = std::function<void(EntityLookup)>;
  using PingDone = std::function<void(bool up, std::string error)>;

  EntityStore(const core::MysqlConfig& config, Options options, EntityStoreMetrics& metrics);
  ~EntityStore();
  EntityStore(const EntityStore&) = delete;
  EntityStore& operator=(const EntityStore&) = delete;

  void start();
  void request_stop();
  void join();

  // False when the queue is full or the store is stopping (`done` is then
  // not called; the caller answers 503).
  bool apply(std::vector<events::Event> events, EventsDone done);
  bool lookup(std::string entity_type, std::string entity_id, LookupDone done);
  // Checks MySQL with a round trip (connecting if needed).
  bool ping(PingDone done);

  // Has the writer connect (creating the tables) if it is not connected,
  // without waiting: at start, and from /health while MySQL is down, so
  // that up() recovers without traffic.
  void probe();

  // Whether the writer's last attempt to reach MySQL worked.
  bool up() const { return writer_up_.load(std::memory_order_relaxed); }
  std::size_t queued() const { return writer_.queued(); }

 private:
  struct WriteJob {
    std::vector<events::Event> events;
    EventsDone done;
  };
  struct ReadJob {
    std::string entity_type;  // empty: a ping
    std::string entity_id;
    LookupDone lookup_done;
    PingDone ping_done;
  };

  void write_batch(MysqlSession& session, std::vector<WriteJob>& jobs);
  void commit_group(MysqlSession& session, WriteJob* first, std::size_t count);
  static void answer_all(WriteJob* first, std::size_t count, EventOutcome outcome,
                         const std::string& error);
  void count_commit(std::size_t events, std::size_t updates,
                    std::chrono::steady_clock::duration took);
  void read_batch(std::vector<ReadJob>& jobs);
  void read_one(ReadJob& job);
  void read_with(MysqlConnection& connection, ReadJob& job);

  const Options options_;
  EntityStoreMetrics& metrics_;
  // Declared before the workers: their threads use them until joined.
  std::vector<std::unique_ptr<MysqlSession>> writer_sessions_;  // one per writer thread
  std::atomic<bool> writer_up_{false};  // how the latest write or probe went, on any writer
  MysqlSession reader_session_;
  MysqlWorker<WriteJob> writer_;
  MysqlWorker<ReadJob> reader_;
};

}  // namespace gpsrelay::store
