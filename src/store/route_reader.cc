// RouteReader (see route_reader.h).
#include "store/route_reader.h"

#include <mysqld_error.h>

#include <algorithm>
#include <optional>
#include <stdexcept>
#include <string_view>
#include <variant>

#include "core/log.h"
#include "core/thread.h"
#include "store/history_schema.h"
#include "store/mysql_connection.h"

namespace gpsrelay::store {
namespace {

using std::chrono::milliseconds;
using Clock = std::chrono::steady_clock;

constexpr milliseconds kMinReconnectDelay{250};
constexpr milliseconds kMaxReconnectDelay{5000};

// `time` comes back as Unix milliseconds computed by the server: exact, and
// unlike UNIX_TIMESTAMP() not limited to 2038. The WHERE clause compares the
// bare column with constants, which is what partition pruning and the
// primary-key range need.
constexpr std::string_view kSelect =
    "SELECT driver_id, TIMESTAMPDIFF(MICROSECOND, '1970-01-01 00:00:00', `time`) DIV 1000, "
    "order_id, latitude, longitude, speed, heading, accuracy, altitude "
    "FROM driver_locations WHERE driver_id = ? AND `time` BETWEEN ? AND ? "
    "ORDER BY `time` LIMIT ?";
constexpr std::size_t kColumns = 9;

// A column in an unexpected shape: the table is not what we made.
class UnexpectedColumn : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

const std::string& text_at(const std::vector<SqlValue>& row, std::size_t i) {
  const auto* text = std::get_if<std::string>(&row[i]);
  if (text == nullptr) throw UnexpectedColumn("driver_locations column " + std::to_string(i + 1));
  return *text;
}

double double_at(const std::vector<SqlValue>& row, std::size_t i) {
  const auto* number = std::get_if<double>(&row[i]);
  if (number == nullptr) {
    throw UnexpectedColumn("driver_locations column " + std::to_string(i + 1) + " not DOUBLE");
  }
  return *number;
}

std::optional<double> optional_double_at(const std::vector<SqlValue>& row, std::size_t i) {
  if (std::holds_alternative<std::monostate>(row[i])) return std::nullopt;
  return double_at(row, i);
}

locations::LocationRecord record_of(const std::vector<SqlValue>& row) {
  if (row.size() != kColumns) throw UnexpectedColumn("driver_locations: wrong column count");
  locations::LocationRecord record;
  record.driver_id = text_at(row, 0);
  const auto* time_ms = std::get_if<std::int64_t>(&row[1]);
  if (time_ms == nullptr) throw UnexpectedColumn("driver_locations: time not a number");
  record.timestamp_ms = *time_ms;
  if (!std::holds_alternative<std::monostate>(row[2])) record.order_id = text_at(row, 2);
  record.latitude = double_at(row, 3);
  record.longitude = double_at(row, 4);
  record.speed_kmh = optional_double_at(row, 5);
  record.heading_deg = optional_double_at(row, 6);
  record.accuracy_m = optional_double_at(row, 7);
  record.altitude_m = optional_double_at(row, 8);
  return record;
}

RouteResult failure(std::string error) {
  RouteResult result;
  result.error = std::move(error);
  return result;
}

}  // namespace

class RouteReader::Session {
 public:
  explicit Session(const core::MysqlConfig& config) : connection(config) {}

  MysqlConnection connection;
  // Prepared on first use: preparing fails while the table does not exist
  // yet (the history writer creates it on its own connect).
  std::optional<PreparedStatement> select;
};

RouteReader::RouteReader(core::MysqlConfig config, Options options)
    : config_(std::move(config)), options_(options) {}

RouteReader::~RouteReader() {
  request_stop();
  join();
  // Never started: nobody else will answer what was queued.
  fail_all(std::move(queue_), "route reader stopped");
}

void RouteReader::start() {
  thread_ = core::start_loop_thread("history-read", [this] { run(); });
}

bool RouteReader::submit(RouteQuery query, RouteDone done) {
  {
    const std::lock_guard<std::mutex> lock(mutex_);
    if (stopping_ || queue_.size() >= options_.max_queued) return false;
    queue_.push_back(Pending{std::move(query), std::move(done)});
  }
  wake_.notify_one();
  return true;
}

void RouteReader::request_stop() {
  {
    const std::lock_guard<std::mutex> lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_one();
}

void RouteReader::join() {
  if (thread_.joinable()) thread_.join();
}

void RouteReader::fail_all(std::deque<Pending> pending, const std::string& why) {
  // Each callback goes as soon as it has run.
  while (!pending.empty()) {
    const Pending p = std::move(pending.front());
    pending.pop_front();
    p.done(failure(why));
  }
}

void RouteReader::run() {
  for (;;) {
    Pending next;
    {
      std::unique_lock<std::mutex> lock(mutex_);
      wake_.wait(lock, [&] { return stopping_ || !queue_.empty(); });
      if (stopping_) break;
      next = std::move(queue_.front());
      queue_.pop_front();
    }
    next.done(answer(next.query));
  }
  std::deque<Pending> left;
  {
    const std::lock_guard<std::mutex> lock(mutex_);
    left.swap(queue_);
  }
  fail_all(std::move(left), "route reader stopped");
  up_.store(false, std::memory_order_relaxed);
}

RouteResult RouteReader::answer(const RouteQuery& query) {
  if (!session_) {
    // While MySQL is unreachable, queries are answered at once with the
    // last connect error instead of each waiting for a connect timeout.
    if (Clock::now() < next_connect_) return failure(connect_error_);
    try {
      session_ = std::make_unique<Session>(config_);
      reconnect_delay_ = milliseconds(0);
      up_.store(true, std::memory_order_relaxed);
    } catch (const MysqlError& error) {
      core::log_debug("MySQL connect for route queries failed", {{"ERROR", error.what()}});
      up_.store(false, std::memory_order_relaxed);
      reconnect_delay_ = std::clamp(reconnect_delay_ * 2, kMinReconnectDelay, kMaxReconnectDelay);
      next_connect_ = Clock::now() + reconnect_delay_;
      connect_error_ = error.what();
      return failure(connect_error_);
    }
  }
  try {
    return read(query);
  } catch (const UnexpectedColumn& error) {
    // The connection is fine; the table is not ours.
    core::log_error("route query: driver_locations has an unexpected shape",
                    {{"ERROR", error.what()}});
    return failure(error.what());
  } catch (const MysqlError& error) {
    if (error.code() == ER_NO_SUCH_TABLE) {
      // Dropped since it was prepared: no history yet, nothing to show.
      session_->select.reset();
      RouteResult empty;
      empty.ok = true;
      return empty;
    }
    core::log_warning("route query failed; reconnecting for the next one",
                      {{"ERROR", error.what()}});
    // The next query reconnects at once: one failed statement says little
    // about whether the server is reachable.
    session_.reset();
    up_.store(false, std::memory_order_relaxed);
    return failure(error.what());
  }
}

RouteResult RouteReader::read(const RouteQuery& query) {
  RouteResult result;
  result.ok = true;
  // DATETIME(3) holds nothing outside its range; clamping keeps the
  // parameters valid dates for any int64 the caller parsed.
  const std::int64_t start_ms = std::max(query.start_ms, kMinHistoryTimeMs);
  const std::int64_t end_ms = std::min(query.end_ms, kMaxHistoryTimeMs);
  if (query.limit == 0 || start_ms > end_ms) return result;

  if (!session_->select) {
    try {
      session_->select.emplace(session_->connection, kSelect);
    } catch (const MysqlError& error) {
      if (error.code() == ER_NO_SUCH_TABLE) return result;
      throw;
    }
  }
  const std::string from = format_history_time(start_ms);
  const std::string to = format_history_time(end_ms);
  const auto rows =
      session_->select->query({query.driver_id, from, to, static_cast<std::int64_t>(query.limit)});
  result.points.reserve(rows.size());
  for (const auto& row : rows) result.points.push_back(record_of(row));
  return result;
}

}  // namespace gpsrelay::store
