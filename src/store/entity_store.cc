// EntityStore (see entity_store.h).
#include "store/entity_store.h"

#include <mysqld_error.h>

#include <algorithm>
#include <chrono>
#include <map>
#include <set>
#include <utility>

#include "core/log.h"
#include "store/entity_batch.h"
#include "store/entity_schema.h"
#include "store/history_schema.h"

namespace gpsrelay::store {
namespace {

// Rolled back and tried again: a deadlock, a lock wait that timed out, or
// a uuid another instance applied between our SELECT and our INSERT (the
// retry's SELECT sees it and answers duplicate).
constexpr int kAttempts = 4;

// Events applied between two "persisted" debug lines.
constexpr std::uint64_t kLogEveryEvents = 10000;

bool worth_retrying(const MysqlError& error) {
  return error.code() == ER_LOCK_DEADLOCK || error.code() == ER_LOCK_WAIT_TIMEOUT ||
         error.code() == ER_DUP_ENTRY;
}

// 'text' quoted for this connection.
void append_quoted(std::string& sql, MysqlConnection& connection, std::string_view text) {
  sql += '\'';
  sql += connection.escape(text);
  sql += '\'';
}

void append_time(std::string& sql, std::int64_t unix_ms) {
  sql += '\'';
  sql += format_history_time(std::clamp(unix_ms, kMinHistoryTimeMs, kMaxHistoryTimeMs));
  sql += '\'';
}

std::set<std::string> select_applied(MysqlConnection& connection,
                                     const std::vector<std::string>& uuids) {
  std::string sql = "SELECT uuid FROM applied_events WHERE uuid IN (";
  for (std::size_t i = 0; i < uuids.size(); ++i) {
    if (i > 0) sql += ',';
    append_quoted(sql, connection, uuids[i]);
  }
  sql += ')';
  std::set<std::string> applied;
  for (const auto& row : connection.query(sql)) {
    if (!row.empty() && row[0]) applied.insert(*row[0]);
  }
  return applied;
}

// One time for every row a transaction writes (NOW(3) differs from one
// statement to the next, and a new entity's createdAt must equal its
// updatedAt): 'YYYY-MM-DD HH:MM:SS.mmm' in UTC, quoted.
std::string transaction_time() {
  const auto now = std::chrono::duration_cast<std::chrono::milliseconds>(
      std::chrono::system_clock::now().time_since_epoch());
  std::string quoted;
  append_time(quoted, now.count());
  return quoted;
}

void insert_applied(MysqlConnection& connection, const std::vector<const events::Event*>& events,
                    const std::string& now) {
  // Sorted by uuid: every transaction takes these locks in one order.
  std::vector<const events::Event*> sorted = events;
  std::sort(sorted.begin(), sorted.end(),
            [](const events::Event* a, const events::Event* b) { return a->uuid < b->uuid; });
  std::string sql =
      "INSERT INTO applied_events (uuid, event_name, event_type, created_date, saved_date, "
      "entity_updates, applied_at) VALUES ";
  for (std::size_t i = 0; i < sorted.size(); ++i) {
    const events::Event& e = *sorted[i];
    if (i > 0) sql += ',';
    sql += '(';
    append_quoted(sql, connection, e.uuid);
    sql += ',';
    append_quoted(sql, connection, e.event_name);
    sql += ',';
    append_quoted(sql, connection, e.event_type);
    sql += ',';
    append_time(sql, e.created_ms);
    sql += ',';
    if (e.saved_ms) {
      append_time(sql, *e.saved_ms);
    } else {
      sql += "NULL";
    }
    sql += ',';
    sql += std::to_string(e.entities.size());
    sql += ',';
    sql += now;
    sql += ')';
  }
  connection.execute(sql);
}

void append_key(std::string& sql, MysqlConnection& connection, const EntityKey& key) {
  append_quoted(sql, connection, key.type);
  sql += ',';
  append_quoted(sql, connection, key.id);
}

// Reads and locks the rows of `keys` that exist. Rows that do not exist
// are not locked (READ COMMITTED takes no gap locks): they are created by a
// plain INSERT in write_entities, so an instance that created one of them
// first makes ours fail with a duplicate key, and the retry merges onto
// its row instead of overwriting it.
std::map<EntityKey, std::string> lock_entities(MysqlConnection& connection,
                                               const std::vector<EntityKey>& keys) {
  std::string select =
      "SELECT entity_type, entity_id, attributes FROM entities WHERE (entity_type, entity_id) IN (";
  for (std::size_t i = 0; i < keys.size(); ++i) {
    if (i > 0) select += ',';
    select += '(';
    append_key(select, connection, keys[i]);
    select += ')';
  }
  select += ") FOR UPDATE";
  std::map<EntityKey, std::string> stored;
  for (auto& row : connection.query(select)) {
    if (row.size() != 3 || !row[0] || !row[1] || !row[2]) continue;
    stored.emplace(EntityKey{std::move(*row[0]), std::move(*row[1])}, std::move(*row[2]));
  }
  return stored;
}

// New rows by INSERT, existing (locked) rows by an upsert that keeps
// created_at; each one multi-row statement.
void write_entities(MysqlConnection& connection, const std::map<EntityKey, std::string>& merged,
                    const std::map<EntityKey, std::string>& stored, const std::string& now) {
  std::string inserts;
  std::string updates;
  for (const auto& [key, attributes] : merged) {
    std::string& sql = stored.count(key) != 0 ? updates : inserts;
    sql += sql.empty() ? "INSERT INTO entities (entity_type, entity_id, attributes, created_at, "
                         "updated_at) VALUES ("
                       : ",(";
    append_key(sql, connection, key);
    sql += ',';
    append_quoted(sql, connection, attributes);
    sql += ',';
    sql += now;
    sql += ',';
    sql += now;
    sql += ')';
  }
  if (!inserts.empty()) connection.execute(inserts);
  if (!updates.empty()) {
    updates +=
        " ON DUPLICATE KEY UPDATE attributes = VALUES(attributes), updated_at = "
        "VALUES(updated_at)";
    connection.execute(updates);
  }
}

// A rolled-back transaction on a connection that may be gone already.
void roll_back(MysqlConnection& connection) {
  try {
    connection.execute("ROLLBACK");
  } catch (const MysqlError&) {
    // The caller handles the error that got us here.
  }
}

}  // namespace

EntityStore::EntityStore(const core::MysqlConfig& config, Options options,
                         EntityStoreMetrics& metrics)
    : options_(options),
      metrics_(metrics),
      // The writers create the tables; a read before that finds none.
      reader_session_(config, "entity reads"),
      writer_(
          "events-write", options.writer_threads, options.max_queued_requests,
          options.max_queued_requests,
          [this](std::size_t thread, std::vector<WriteJob>& jobs) {
            write_batch(*writer_sessions_[thread], jobs);
          },
          [](std::vector<WriteJob>& jobs) {
            for (WriteJob& job : jobs) {
              job.done(std::vector<EventResult>(
                  job.events.size(), EventResult{EventOutcome::kUnavailable, "shutting down"}));
            }
          }),
      reader_(
          "events-read", 1, options.max_queued_reads, 64,
          [this](std::size_t /*thread*/, std::vector<ReadJob>& jobs) { read_batch(jobs); },
          [](std::vector<ReadJob>& jobs) {
            for (ReadJob& job : jobs) {
              if (job.ping_done) job.ping_done(false, "shutting down");
              if (job.lookup_done) job.lookup_done(EntityLookup{});
            }
          }) {
  for (std::size_t i = 0; i < std::max<std::size_t>(options.writer_threads, 1); ++i) {
    writer_sessions_.push_back(
        std::make_unique<MysqlSession>(config, "entity events", [](MysqlConnection& connection) {
          ensure_entity_schema(connection);
          // No gap locks: see lock_entities.
          connection.execute("SET SESSION TRANSACTION ISOLATION LEVEL READ COMMITTED");
        }));
  }
}

EntityStore::~EntityStore() {
  request_stop();
  join();
}

void EntityStore::start() {
  writer_.start();
  reader_.start();
  probe();
}

void EntityStore::probe() {
  // An empty job: the writer connects for it and has nothing to answer.
  writer_.submit(WriteJob{{}, [](const std::vector<EventResult>&) {}});
}

void EntityStore::request_stop() {
  writer_.request_stop();
  reader_.request_stop();
}

void EntityStore::join() {
  writer_.join();
  reader_.join();
}

bool EntityStore::apply(std::vector<events::Event> events, EventsDone done) {
  return writer_.submit(WriteJob{std::move(events), std::move(done)});
}

bool EntityStore::lookup(std::string entity_type, std::string entity_id, LookupDone done) {
  return reader_.submit(ReadJob{std::move(entity_type), std::move(entity_id), std::move(done), {}});
}

bool EntityStore::ping(PingDone done) {
  return reader_.submit(ReadJob{{}, {}, {}, std::move(done)});
}

void EntityStore::write_batch(MysqlSession& session, std::vector<WriteJob>& jobs) {
  // Consecutive requests share a transaction up to the update bound; a
  // request is never split, so a bulk answer is one commit's outcome.
  // Probes (no events) only connect.
  const auto probes = std::stable_partition(
      jobs.begin(), jobs.end(), [](const WriteJob& job) { return !job.events.empty(); });
  if (probes != jobs.end()) {
    writer_up_.store(session.get() != nullptr, std::memory_order_relaxed);
    jobs.erase(probes, jobs.end());
  }
  std::size_t begin = 0;
  while (begin < jobs.size()) {
    std::size_t end = begin;
    std::size_t updates = 0;
    while (end < jobs.size()) {
      std::size_t job_updates = 0;
      for (const events::Event& event : jobs[end].events) job_updates += event.entities.size();
      if (end > begin && updates + job_updates > options_.max_updates_per_commit) break;
      updates += job_updates;
      ++end;
    }
    commit_group(session, &jobs[begin], end - begin);
    begin = end;
  }
}

void EntityStore::answer_all(WriteJob* first, std::size_t count, EventOutcome outcome,
                             const std::string& error) {
  for (std::size_t j = 0; j < count; ++j) {
    WriteJob& job = first[j];
    job.done(std::vector<EventResult>(job.events.size(), EventResult{outcome, error}));
  }
}

void EntityStore::commit_group(MysqlSession& session, WriteJob* first, std::size_t count) {
  std::vector<const events::Event*> all;
  for (std::size_t j = 0; j < count; ++j) {
    for (const events::Event& event : first[j].events) all.push_back(&event);
  }
  for (int attempt = 1;; ++attempt) {
    MysqlConnection* connection = session.get();
    if (connection == nullptr) {
      writer_up_.store(false, std::memory_order_relaxed);
      answer_all(first, count, EventOutcome::kUnavailable, session.error());
      return;
    }
    const auto started = std::chrono::steady_clock::now();
    EntityBatch batch(all);
    bool commit_sent = false;
    try {
      connection->execute("START TRANSACTION");
      batch.settle_duplicates(select_applied(*connection, batch.uuids()));
      const std::vector<const events::Event*> to_apply = batch.to_apply();
      if (!to_apply.empty()) {
        const std::string now = transaction_time();
        insert_applied(*connection, to_apply, now);
        const std::map<EntityKey, std::string> stored = lock_entities(*connection, batch.keys());
        const auto merged = batch.merged(stored);
        if (!merged)
          throw MysqlError("entities: a stored or patched document is not JSON", ER_JSON_SYNTAX);
        write_entities(*connection, *merged, stored, now);
      }
      commit_sent = true;
      connection->execute("COMMIT");
    } catch (const MysqlError& error) {
      if (!error.connection_lost()) roll_back(*connection);
      if (error.connection_lost() && !commit_sent && attempt < kAttempts) {
        // Nothing took effect: a connection that went stale (a MySQL
        // restart) is replaced at once, and only an unreachable server
        // turns into 503s.
        session.failed(error);
        continue;
      }
      if (error.connection_lost()) {
        writer_up_.store(false, std::memory_order_relaxed);
        // Whether a COMMIT under way took effect is unknown: the client's
        // retry is answered duplicate if it did.
        session.failed(error);
        core::log_warning("entity events: MySQL connection lost", {{"ERROR", error.what()}});
        answer_all(first, count, EventOutcome::kUnavailable, "MySQL connection lost");
        return;
      }
      if (worth_retrying(error) && attempt < kAttempts) {
        metrics_.retries.fetch_add(1, std::memory_order_relaxed);
        continue;
      }
      if (count > 1) {
        // Something in one request's content: find it by committing each
        // request alone, so the others still go through.
        for (std::size_t j = 0; j < count; ++j) commit_group(session, first + j, 1);
        return;
      }
      core::log_error("entity events: MySQL refused a request's events",
                      {{"ERROR", error.what()}, {"EVENTS", std::to_string(all.size())}});
      answer_all(first, count, EventOutcome::kFailed, error.what());
      return;
    }
    writer_up_.store(true, std::memory_order_relaxed);
    count_commit(batch.to_apply().size(), batch.update_count(),
                 std::chrono::steady_clock::now() - started);
    // Answers after the COMMIT, each request's events in its order.
    std::size_t index = 0;
    for (std::size_t j = 0; j < count; ++j) {
      WriteJob& job = first[j];
      std::vector<EventResult> results;
      results.reserve(job.events.size());
      for (std::size_t k = 0; k < job.events.size(); ++k, ++index) {
        const EventOutcome outcome =
            batch.duplicate(index) ? EventOutcome::kDuplicate : EventOutcome::kApplied;
        results.push_back(EventResult{outcome, {}});
      }
      job.done(std::move(results));
    }
    return;
  }
}

void EntityStore::count_commit(std::size_t events, std::size_t updates,
                               std::chrono::steady_clock::duration took) {
  metrics_.transactions.fetch_add(1, std::memory_order_relaxed);
  const std::uint64_t before = metrics_.events_applied.fetch_add(events, std::memory_order_relaxed);
  // A sign of life at debug level only: at info it would be a line every
  // second under load, for what /metrics counts anyway.
  if ((before + events) / kLogEveryEvents != before / kLogEveryEvents) {
    core::log_debug(
        "entity events persisted",
        {{"EVENTS", std::to_string(before + events)},
         {"ENTITY_UPDATES",
          std::to_string(metrics_.entity_updates.load(std::memory_order_relaxed) + updates)}});
  }
  metrics_.entity_updates.fetch_add(updates, std::memory_order_relaxed);
  metrics_.commit_duration.observe(took);
  std::size_t bucket = 0;
  while (bucket + 1 < metrics_.batch_events.size() && (std::size_t{1} << bucket) < events) ++bucket;
  metrics_.batch_events[bucket].fetch_add(1, std::memory_order_relaxed);
}

void EntityStore::read_batch(std::vector<ReadJob>& jobs) {
  for (ReadJob& job : jobs) read_one(job);
}

void EntityStore::read_one(ReadJob& job) {
  // A stale connection (MySQL restarted) is replaced once at once.
  for (int attempt = 1;; ++attempt) {
    MysqlConnection* connection = reader_session_.get();
    try {
      if (connection != nullptr) {
        read_with(*connection, job);
        return;
      }
    } catch (const MysqlError& error) {
      reader_session_.failed(error);
      if (error.connection_lost() && attempt < 2) continue;
      if (job.ping_done) {
        job.ping_done(false, error.what());
        return;
      }
      EntityLookup lookup;
      if (error.code() == ER_NO_SUCH_TABLE) {
        lookup.status = EntityLookup::Status::kNotFound;  // no event applied yet
      } else {
        lookup.error = error.what();
      }
      job.lookup_done(std::move(lookup));
      return;
    }
    break;
  }
  if (job.ping_done) job.ping_done(false, reader_session_.error());
  if (job.lookup_done) {
    EntityLookup lookup;
    lookup.error = reader_session_.error();
    job.lookup_done(std::move(lookup));
  }
}

void EntityStore::read_with(MysqlConnection& connection, ReadJob& job) {
  if (job.ping_done) {
    connection.query("SELECT 1");
    job.ping_done(true, {});
    return;
  }
  std::string sql =
      "SELECT attributes, TIMESTAMPDIFF(MICROSECOND, '1970-01-01 00:00:00', created_at) DIV "
      "1000, TIMESTAMPDIFF(MICROSECOND, '1970-01-01 00:00:00', updated_at) DIV 1000 FROM "
      "entities WHERE entity_type = ";
  append_quoted(sql, connection, job.entity_type);
  sql += " AND entity_id = ";
  append_quoted(sql, connection, job.entity_id);
  EntityLookup lookup;
  lookup.status = EntityLookup::Status::kNotFound;
  for (auto& row : connection.query(sql)) {
    if (row.size() != 3 || !row[0] || !row[1] || !row[2]) continue;
    lookup.status = EntityLookup::Status::kFound;
    lookup.entity = StoredEntity{job.entity_type, job.entity_id, std::move(*row[0]),
                                 std::stoll(*row[1]), std::stoll(*row[2])};
  }
  job.lookup_done(std::move(lookup));
}

}  // namespace gpsrelay::store
