// ValueStore and ValueReader (see value_store.h).
#include "store/value_store.h"

#include <mysqld_error.h>

#include <algorithm>
#include <charconv>
#include <string_view>
#include <unordered_map>
#include <utility>

#include "core/log.h"
#include "core/thread.h"

namespace gpsrelay::store {
namespace {

using Clock = std::chrono::steady_clock;

constexpr std::chrono::milliseconds kRetryDelay{250};
// One INSERT stays far below max_allowed_packet (16 MiB by default) even
// with a 64 KiB value escaped to twice its size; a larger batch is split
// into several statements of the same transaction.
constexpr std::size_t kMaxStatementBytes = 1024 * 1024;

constexpr std::string_view kCreateUserValues = R"sql(
CREATE TABLE IF NOT EXISTS user_values (
  user_id VARCHAR(255) NOT NULL,
  `value` JSON NOT NULL,
  ts BIGINT NOT NULL,
  updated_at DATETIME(3) NOT NULL,
  PRIMARY KEY (user_id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin
)sql";

constexpr std::string_view kInsertHead =
    "INSERT INTO user_values (user_id, `value`, ts, updated_at) VALUES ";
// Assignments run left to right and see the columns as already updated:
// ts goes last so that the others still compare with the stored one. An
// equal ts takes the newer entry (later in the stream).
constexpr std::string_view kInsertTail =
    " ON DUPLICATE KEY UPDATE"
    " `value` = IF(VALUES(ts) >= ts, VALUES(`value`), `value`),"
    " updated_at = IF(VALUES(ts) >= ts, VALUES(updated_at), updated_at),"
    " ts = GREATEST(ts, VALUES(ts))";

void append_row(std::string& sql, MysqlConnection& connection, const events::ValueRecord& r) {
  sql += "('";
  sql += connection.escape(r.user_id);
  sql += "', '";
  sql += connection.escape(r.value_json);
  sql += "', ";
  sql += std::to_string(r.ts_ms);
  sql += ", UTC_TIMESTAMP(3))";
}

// The entries of `batch` that decide a row: per user the one with the
// newest ts, the later one on a tie (as MySQL would keep it).
std::vector<const ValueEntry*> newest_per_user(const std::vector<ValueEntry>& batch) {
  std::unordered_map<std::string_view, std::size_t> index;
  std::vector<const ValueEntry*> rows;
  for (const ValueEntry& entry : batch) {
    const auto [it, inserted] = index.try_emplace(entry.record.user_id, rows.size());
    if (inserted) {
      rows.push_back(&entry);
    } else if (entry.record.ts_ms >= rows[it->second]->record.ts_ms) {
      rows[it->second] = &entry;
    }
  }
  return rows;
}

}  // namespace

void ensure_value_schema(MysqlConnection& connection) { connection.execute(kCreateUserValues); }

ValueStore::ValueStore(core::MysqlConfig config, Options options, ValueStoreMetrics& metrics,
                       CommittedCallback on_committed)
    : options_(options),
      metrics_(metrics),
      on_committed_(std::move(on_committed)),
      session_(std::move(config), "write-behind values", ensure_value_schema) {}

ValueStore::~ValueStore() {
  request_stop();
  join();
}

void ValueStore::start() {
  thread_ = core::start_loop_thread("values-write", [this] { run(); });
}

bool ValueStore::submit(ValueEntry entry) {
  {
    const std::lock_guard<std::mutex> lock(mutex_);
    if (stopping_ || backlog_.size() + in_flight_ >= options_.max_backlog) return false;
    backlog_.push_back(Queued{std::move(entry), Clock::now()});
    metrics_.backlog.store(backlog_.size() + in_flight_, std::memory_order_relaxed);
  }
  wake_.notify_one();
  return true;
}

std::size_t ValueStore::room() const {
  const std::lock_guard<std::mutex> lock(mutex_);
  const std::size_t used = backlog_.size() + in_flight_;
  return used >= options_.max_backlog ? 0 : options_.max_backlog - used;
}

void ValueStore::request_stop() {
  {
    const std::lock_guard<std::mutex> lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_one();
}

void ValueStore::join() {
  if (thread_.joinable()) thread_.join();
}

bool ValueStore::batch_ready(Clock::time_point now) const {
  if (backlog_.empty()) return false;
  return backlog_.size() >= options_.batch_size ||
         now >= backlog_.front().queued_at + options_.batch_interval;
}

std::vector<ValueEntry> ValueStore::take_batch() {
  const std::size_t count = std::min(backlog_.size(), options_.batch_size);
  std::vector<ValueEntry> batch;
  batch.reserve(count);
  for (std::size_t i = 0; i < count; ++i) {
    batch.push_back(std::move(backlog_.front().entry));
    backlog_.pop_front();
  }
  in_flight_ = count;
  return batch;
}

void ValueStore::put_back(std::vector<ValueEntry>& batch) {
  // Back to the front in order, due at once: retried whole when MySQL is back.
  const std::lock_guard<std::mutex> lock(mutex_);
  for (auto it = batch.rbegin(); it != batch.rend(); ++it) {
    backlog_.push_front(Queued{std::move(*it), Clock::time_point{}});
  }
  in_flight_ = 0;
  batch.clear();
}

void ValueStore::run() {
  // Connect at start, so the table exists and /health knows at once.
  metrics_.up.store(session_.get() != nullptr, std::memory_order_relaxed);
  for (;;) {
    std::vector<ValueEntry> batch;
    {
      std::unique_lock<std::mutex> lock(mutex_);
      for (;;) {
        const auto now = Clock::now();
        if (stopping_ || batch_ready(now)) break;
        if (backlog_.empty()) {
          wake_.wait(lock);
        } else {
          wake_.wait_until(lock, backlog_.front().queued_at + options_.batch_interval);
        }
      }
      if (stopping_) break;
      batch = take_batch();
    }
    MysqlConnection* connection = session_.get();
    metrics_.up.store(connection != nullptr, std::memory_order_relaxed);
    try {
      if (connection == nullptr) throw MysqlError(session_.error(), 0);
      write(*connection, batch);
    } catch (const MysqlError& error) {
      session_.failed(error);
      session_.reset();  // a transaction in an unknown state
      metrics_.up.store(false, std::memory_order_relaxed);
      core::log_debug("values wait for MySQL, unacknowledged in Redis",
                      {{"ERROR", error.what()}, {"ENTRIES", std::to_string(batch.size())}});
      put_back(batch);
      std::unique_lock<std::mutex> lock(mutex_);
      wake_.wait_for(lock, kRetryDelay, [&] { return stopping_; });
    }
  }
  metrics_.up.store(false, std::memory_order_relaxed);
}

void ValueStore::write(MysqlConnection& connection, std::vector<ValueEntry>& batch) {
  std::vector<const ValueEntry*> rows = newest_per_user(batch);
  std::vector<std::string> statements;
  std::string sql;
  for (const ValueEntry* entry : rows) {
    if (sql.size() >= kMaxStatementBytes) {
      statements.push_back(std::move(sql) + std::string(kInsertTail));
      sql.clear();
    }
    sql += sql.empty() ? kInsertHead : std::string_view(",");
    append_row(sql, connection, entry->record);
  }
  if (!sql.empty()) statements.push_back(std::move(sql) + std::string(kInsertTail));

  const auto started = Clock::now();
  try {
    connection.execute("START TRANSACTION");
    for (const std::string& statement : statements) connection.execute(statement);
    connection.execute("COMMIT");
    count_flush(rows.size(), Clock::now() - started);
  } catch (const MysqlError& error) {
    if (error.transient()) throw;  // kept and retried whole
    // The server refused something in the batch (a value it will not
    // take as JSON, say): roll back and find the row, one at a time.
    core::log_warning("MySQL refused a batch of values; writing its rows one by one",
                      {{"ERROR", error.what()}, {"ROWS", std::to_string(rows.size())}});
    connection.execute("ROLLBACK");
    rows = write_rows_alone(connection, rows);
  }

  std::vector<events::ValueRecord> written;
  written.reserve(rows.size());
  for (const ValueEntry* entry : rows) written.push_back(entry->record);
  std::vector<std::string> ids;
  ids.reserve(batch.size());
  for (ValueEntry& entry : batch) ids.push_back(std::move(entry.entry_id));
  batch.clear();
  {
    const std::lock_guard<std::mutex> lock(mutex_);
    in_flight_ = 0;
    metrics_.backlog.store(backlog_.size(), std::memory_order_relaxed);
  }
  metrics_.entries_committed.fetch_add(ids.size(), std::memory_order_relaxed);
  on_committed_(std::move(ids), std::move(written));
}

std::vector<const ValueEntry*> ValueStore::write_rows_alone(
    MysqlConnection& connection, const std::vector<const ValueEntry*>& rows) {
  std::vector<const ValueEntry*> taken;
  for (const ValueEntry* entry : rows) {
    std::string sql(kInsertHead);
    append_row(sql, connection, entry->record);
    sql += kInsertTail;
    const auto started = Clock::now();
    try {
      connection.execute(sql);  // autocommit: one row, one transaction
      count_flush(1, Clock::now() - started);
      taken.push_back(entry);
    } catch (const MysqlError& error) {
      if (error.transient()) throw;  // kept and retried whole
      metrics_.rows_refused.fetch_add(1, std::memory_order_relaxed);
      core::log_error("MySQL refused a value; it is dropped", {{"MESSAGE_ID", entry->entry_id},
                                                               {"USER_ID", entry->record.user_id},
                                                               {"ERROR", error.what()}});
    }
  }
  return taken;
}

void ValueStore::count_flush(std::size_t rows, Clock::duration took) {
  metrics_.flush_duration.observe(took);
  metrics_.flushes.fetch_add(1, std::memory_order_relaxed);
  metrics_.rows_written.fetch_add(rows, std::memory_order_relaxed);
  metrics_.batch_rows_sum.fetch_add(rows, std::memory_order_relaxed);
  std::size_t bucket = 0;
  while (bucket + 1 < kValueBatchBuckets && rows > (std::size_t{1} << bucket)) ++bucket;
  metrics_.batch_rows[bucket].fetch_add(1, std::memory_order_relaxed);
}

ValueReader::ValueReader(core::MysqlConfig config, std::size_t max_queued)
    : session_(std::move(config), "value reads", ensure_value_schema),
      worker_(
          "values-read", 1, max_queued, 64,
          [this](std::size_t /*thread*/, std::vector<Job>& jobs) {
            for (Job& job : jobs) read(job);
          },
          [](std::vector<Job>& jobs) {
            for (Job& job : jobs) {
              ValueLookup lookup;
              lookup.error = "shutting down";
              job.done(std::move(lookup));
            }
          }) {}

bool ValueReader::lookup(std::string user_id, LookupDone done) {
  return worker_.submit(Job{std::move(user_id), std::move(done)});
}

void ValueReader::read(Job& job) {
  ValueLookup lookup;
  // A lost connection is tried once more at once: one failed statement
  // says little about whether the server is reachable.
  for (int attempt = 1; attempt <= 2; ++attempt) {
    MysqlConnection* connection = session_.get();
    if (connection == nullptr) {
      lookup.error = session_.error();
      break;
    }
    try {
      std::string sql = "SELECT `value`, ts FROM user_values WHERE user_id = '";
      sql += connection->escape(job.user_id);
      sql += "'";
      lookup.status = ValueLookup::Status::kNotFound;
      for (auto& row : connection->query(sql)) {
        std::int64_t ts = 0;
        if (row.size() != 2 || !row[0] || !row[1] ||
            std::from_chars(row[1]->data(), row[1]->data() + row[1]->size(), ts).ec !=
                std::errc()) {
          continue;
        }
        lookup.status = ValueLookup::Status::kFound;
        lookup.record = events::ValueRecord{job.user_id, std::move(*row[0]), ts};
      }
      break;
    } catch (const MysqlError& error) {
      session_.failed(error);
      lookup.status = ValueLookup::Status::kUnavailable;
      lookup.error = error.what();
      if (!error.connection_lost()) break;
    }
  }
  job.done(std::move(lookup));
}

}  // namespace gpsrelay::store
