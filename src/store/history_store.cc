// HistoryStore (see history_store.h).
#include "store/history_store.h"

#include <algorithm>
#include <charconv>
#include <stdexcept>
#include <string_view>
#include <system_error>

#include "core/log.h"
#include "core/thread.h"
#include "queue/lease.h"
#include "store/history_schema.h"
#include "store/mysql_connection.h"

namespace gpsrelay::store {
namespace {

using std::chrono::milliseconds;
using Clock = std::chrono::steady_clock;

constexpr milliseconds kMinReconnectDelay{250};
constexpr milliseconds kMaxReconnectDelay{5000};
// Partitions are kept kHistoryDaysAhead days ahead, so an hourly check
// leaves plenty of room; after a failed check (a lock held by an operator,
// a missing ALTER privilege) it is tried again sooner.
constexpr milliseconds kMaintenanceInterval{60LL * 60 * 1000};
constexpr milliseconds kMaintenanceRetry{5LL * 60 * 1000};

constexpr std::string_view kInsertHead =
    "INSERT INTO driver_locations "
    "(driver_id, `time`, order_id, latitude, longitude, speed, heading, accuracy, altitude) "
    "VALUES ";
// A row already there is the same report delivered again: keep it as it is.
constexpr std::string_view kInsertTail = " ON DUPLICATE KEY UPDATE driver_id = driver_id";

// The shortest text that reads back as the same double. The exponent makes
// it an approximate-value (DOUBLE) literal: without one, 52.52 would be an
// exact DECIMAL literal that the server converts to DOUBLE in a second step.
void append_double(std::string& sql, double value) {
  char text[64];
  const auto [end, error] = std::to_chars(text, text + sizeof text, value);
  if (error != std::errc()) throw std::logic_error("to_chars: buffer too small for a double");
  const std::string_view number(text, static_cast<std::size_t>(end - text));
  sql += number;
  if (number.find('e') == std::string_view::npos) sql += "e0";
}

void append_optional(std::string& sql, const std::optional<double>& value) {
  if (value) {
    append_double(sql, *value);
  } else {
    sql += "NULL";
  }
}

void append_row(std::string& sql, MysqlConnection& connection, const locations::LocationRecord& r) {
  sql += "('";
  sql += connection.escape(r.driver_id);
  sql += "', '";
  sql += format_history_time(r.timestamp_ms);
  sql += "', ";
  if (r.order_id) {
    sql += "'";
    sql += connection.escape(*r.order_id);
    sql += "'";
  } else {
    sql += "NULL";
  }
  sql += ", ";
  append_double(sql, r.latitude);
  sql += ", ";
  append_double(sql, r.longitude);
  sql += ", ";
  append_optional(sql, r.speed_kmh);
  sql += ", ";
  append_optional(sql, r.heading_deg);
  sql += ", ";
  append_optional(sql, r.accuracy_m);
  sql += ", ";
  append_optional(sql, r.altitude_m);
  sql += ")";
}

}  // namespace

class HistoryStore::Session {
 public:
  Session(const core::MysqlConfig& config, std::chrono::system_clock::time_point now)
      : connection(config) {
    ensure_history_schema(connection, now);
  }

  MysqlConnection connection;
};

HistoryStore::HistoryStore(core::MysqlConfig config, Options options, core::HistoryMetrics& metrics,
                           CommittedCallback on_committed)
    : config_(std::move(config)),
      options_(options),
      metrics_(metrics),
      on_committed_(std::move(on_committed)) {}

HistoryStore::~HistoryStore() {
  request_stop();
  join();
}

void HistoryStore::start() {
  // MySQL errors are handled inside run(); anything else escaping it ends
  // the process through start_loop_thread's boundary (see core/thread.h).
  thread_ = core::start_loop_thread("history", [this] { run(); });
}

bool HistoryStore::submit(HistoryEntry entry) {
  if (entry.records.empty()) {
    throw std::invalid_argument("history entry " + entry.entry_id + " has no records");
  }
  for (const locations::LocationRecord& record : entry.records) {
    if (const auto problem = locations::check_record(record)) {
      throw std::invalid_argument("history entry " + entry.entry_id + ": " + *problem);
    }
    if (record.timestamp_ms > kMaxHistoryTimeMs) {
      throw std::invalid_argument("history entry " + entry.entry_id +
                                  ": timestamp after year 9999");
    }
  }
  const std::size_t rows = entry.records.size();
  {
    const std::lock_guard<std::mutex> lock(mutex_);
    if (stopping_) return false;
    if (!backlog_.empty() && backlog_rows_ + rows > options_.max_backlog_rows) return false;
    backlog_.push_back(Queued{std::move(entry), Clock::now()});
    backlog_rows_ += rows;
    update_backlog_metric();
  }
  wake_.notify_one();
  return true;
}

void HistoryStore::request_stop() {
  {
    const std::lock_guard<std::mutex> lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_one();
}

void HistoryStore::join() {
  if (thread_.joinable()) thread_.join();
}

void HistoryStore::update_backlog_metric() {
  metrics_.backlog.store(backlog_rows_ + in_flight_rows_, std::memory_order_relaxed);
}

bool HistoryStore::batch_ready(Clock::time_point now) const {
  if (backlog_.empty()) return false;
  return backlog_rows_ >= options_.batch_size ||
         now >= backlog_.front().queued_at + options_.batch_interval;
}

std::vector<HistoryEntry> HistoryStore::take_batch() {
  std::vector<HistoryEntry> batch;
  std::size_t rows = 0;
  while (!backlog_.empty()) {
    const std::size_t next = backlog_.front().entry.records.size();
    // Whole entries only; the first one goes even when it alone is larger.
    if (!batch.empty() && rows + next > options_.batch_size) break;
    batch.push_back(std::move(backlog_.front().entry));
    backlog_.pop_front();
    rows += next;
  }
  backlog_rows_ -= rows;
  in_flight_rows_ = rows;
  return batch;
}

void HistoryStore::run() {
  for (;;) {
    std::vector<HistoryEntry> batch;
    {
      std::unique_lock<std::mutex> lock(mutex_);
      if (session_) {
        // A full batch, the oldest entry's deadline, the hourly upkeep or a
        // stop, whichever comes first.
        for (;;) {
          const auto now = Clock::now();
          if (stopping_ || batch_ready(now) || now >= next_maintenance_) break;
          auto deadline = next_maintenance_;
          if (!backlog_.empty()) {
            deadline = std::min(deadline, backlog_.front().queued_at + options_.batch_interval);
          }
          wake_.wait_until(lock, deadline);
        }
        if (!stopping_ && batch_ready(Clock::now())) batch = take_batch();
      } else {
        wake_.wait_for(lock, reconnect_delay_, [&] { return stopping_; });
      }
      if (stopping_) break;
    }
    try {
      if (!session_) {
        connect();
        continue;
      }
      if (!batch.empty()) write(batch);
      if (Clock::now() >= next_maintenance_) {
        if (options_.upkeep_lease == nullptr || options_.upkeep_lease->held()) {
          maintain();
        } else {
          next_maintenance_ = Clock::now() + kMaintenanceInterval;
        }
      }
    } catch (const MysqlError& error) {
      if (session_) {
        core::log_error("MySQL failed; location history waits, unacknowledged, until it is back",
                        {{"ERROR", error.what()}});
      } else {
        core::log_debug("MySQL connect for location history failed", {{"ERROR", error.what()}});
      }
      session_.reset();
      metrics_.up.store(false, std::memory_order_relaxed);
      reconnect_delay_ = std::clamp(reconnect_delay_ * 2, kMinReconnectDelay, kMaxReconnectDelay);
      // What was taken out goes back to the front, in order, to be retried
      // whole.
      const std::lock_guard<std::mutex> lock(mutex_);
      std::size_t rows = 0;
      for (auto it = batch.rbegin(); it != batch.rend(); ++it) {
        rows += it->records.size();
        backlog_.push_front(Queued{std::move(*it), Clock::time_point{}});
      }
      backlog_rows_ += rows;
      in_flight_rows_ = 0;
      update_backlog_metric();
    }
  }
  metrics_.up.store(false, std::memory_order_relaxed);
}

void HistoryStore::connect() {
  const bool first = metrics_.connects.load(std::memory_order_relaxed) == 0;
  session_ = std::make_unique<Session>(config_, std::chrono::system_clock::now());
  metrics_.connects.fetch_add(1, std::memory_order_relaxed);
  metrics_.up.store(true, std::memory_order_relaxed);
  reconnect_delay_ = milliseconds(0);
  core::log_info(first ? "connected to MySQL; driver_locations is ready"
                       : "reconnected to MySQL; writing location history again",
                 {{"MYSQL", session_->connection.describe()}});
  maintain();
}

void HistoryStore::maintain() {
  try {
    const std::size_t dropped = maintain_history_partitions(
        session_->connection, std::chrono::system_clock::now(), options_.retention);
    metrics_.partitions_dropped.fetch_add(dropped, std::memory_order_relaxed);
    next_maintenance_ = Clock::now() + kMaintenanceInterval;
  } catch (const MysqlError& error) {
    if (error.connection_lost()) throw;
    // The server refused (a lock held too long, no ALTER privilege): rows
    // still go in, into pfuture at worst, so writing goes on.
    core::log_warning("driver_locations partition upkeep failed; trying again later",
                      {{"ERROR", error.what()}});
    next_maintenance_ = Clock::now() + kMaintenanceRetry;
  }
}

void HistoryStore::write(std::vector<HistoryEntry>& batch) {
  MysqlConnection& connection = session_->connection;
  std::string sql(kInsertHead);
  std::size_t rows = 0;
  for (const HistoryEntry& entry : batch) {
    for (const locations::LocationRecord& record : entry.records) {
      if (rows++ != 0) sql += ",";
      append_row(sql, connection, record);
    }
  }
  sql += kInsertTail;

  const auto started = Clock::now();
  connection.execute("START TRANSACTION");
  connection.execute(sql);
  connection.execute("COMMIT");
  metrics_.batch_duration.observe(Clock::now() - started);
  metrics_.rows_written.fetch_add(rows, std::memory_order_relaxed);
  metrics_.batches.fetch_add(1, std::memory_order_relaxed);

  std::vector<std::string> ids;
  ids.reserve(batch.size());
  for (HistoryEntry& entry : batch) ids.push_back(std::move(entry.entry_id));
  batch.clear();
  {
    const std::lock_guard<std::mutex> lock(mutex_);
    in_flight_rows_ = 0;
    update_backlog_metric();
  }
  on_committed_(std::move(ids));
}

}  // namespace gpsrelay::store
