// FailureStore (see failure_store.h).
#include "store/failure_store.h"

#include <algorithm>
#include <map>

#include "core/log.h"
#include "core/thread.h"
#include "queue/lease.h"
#include "store/mysql_connection.h"
#include "store/schema.h"

namespace gpsrelay::store {
namespace {

using std::chrono::milliseconds;

constexpr milliseconds kMinReconnectDelay{250};
constexpr milliseconds kMaxReconnectDelay{5000};

// A replayed or re-stored packet keeps one row: the newest failure wins.
constexpr std::string_view kInsert =
    "INSERT INTO failed_packets (message_id, payload, request_id, received_at, retry_count, "
    "last_error, target_server) VALUES (?, ?, ?, FROM_UNIXTIME(? / 1000), ?, ?, ?) "
    "ON DUPLICATE KEY UPDATE retry_count = VALUES(retry_count), "
    "last_error = VALUES(last_error), target_server = VALUES(target_server)";
constexpr std::string_view kPurge =
    "DELETE FROM failed_packets WHERE created_at < NOW(3) - INTERVAL ? SECOND "
    "ORDER BY created_at LIMIT ?";

MysqlConnection& migrated(MysqlConnection& connection) {
  ensure_schema(connection);
  return connection;
}

// Often enough that rows do not outlive the retention by much, rarely
// enough that an idle table costs nothing.
milliseconds purge_interval(milliseconds retention) {
  return std::clamp(retention / 10, milliseconds(1000), milliseconds(60000));
}

std::string truncated(const std::string& text, std::size_t max) {
  return text.size() <= max ? text : text.substr(0, max);
}

}  // namespace

class FailureStore::Session {
 public:
  explicit Session(const core::MysqlConfig& config)
      : connection(config), insert(migrated(connection), kInsert), purge(connection, kPurge) {}

  MysqlConnection connection;
  PreparedStatement insert;
  PreparedStatement purge;
};

FailureStore::FailureStore(core::MysqlConfig config, Options options, core::StoreMetrics& metrics,
                           StoredCallback on_stored)
    : config_(std::move(config)),
      options_(options),
      metrics_(metrics),
      on_stored_(std::move(on_stored)) {}

FailureStore::~FailureStore() {
  request_stop();
  join();
}

void FailureStore::start() {
  // MySQL errors are handled inside run(); anything else escaping it ends
  // the process through start_loop_thread's boundary (see core/thread.h).
  thread_ = core::start_loop_thread("mysql", [this] { run(); });
}

bool FailureStore::submit(FailedPacket packet) {
  {
    const std::lock_guard<std::mutex> lock(mutex_);
    if (stopping_ || backlog_.size() >= options_.max_backlog) return false;
    backlog_.push_back(std::move(packet));
    metrics_.backlog.store(backlog_.size(), std::memory_order_relaxed);
  }
  wake_.notify_one();
  return true;
}

void FailureStore::request_stop() {
  {
    const std::lock_guard<std::mutex> lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_one();
}

void FailureStore::join() {
  if (thread_.joinable()) thread_.join();
}

void FailureStore::run() {
  const milliseconds interval = purge_interval(config_.retention);
  for (;;) {
    std::vector<FailedPacket> batch;
    {
      std::unique_lock<std::mutex> lock(mutex_);
      // Wait for work; while disconnected, also for the next reconnect.
      const auto deadline =
          std::chrono::steady_clock::now() + (session_ ? interval : reconnect_delay_);
      wake_.wait_until(lock, std::min(deadline, session_ ? next_purge_ : deadline), [&] {
        return stopping_ || (!backlog_.empty() && (session_ || reconnect_delay_.count() == 0));
      });
      if (stopping_) break;
      if (session_) {
        const std::size_t n = std::min(backlog_.size(), options_.max_batch);
        batch.assign(std::make_move_iterator(backlog_.begin()),
                     std::make_move_iterator(backlog_.begin() + static_cast<long>(n)));
        backlog_.erase(backlog_.begin(), backlog_.begin() + static_cast<long>(n));
      }
    }
    try {
      if (!session_) {
        connect();
        continue;
      }
      if (!batch.empty()) store(batch);
      if (std::chrono::steady_clock::now() >= next_purge_) {
        if (options_.purge_lease == nullptr || options_.purge_lease->held()) purge_expired();
        next_purge_ = std::chrono::steady_clock::now() + interval;
      }
    } catch (const MysqlError& error) {
      if (session_) {
        core::log_error("MySQL failed; failed packets wait, unacknowledged, until it is back",
                        {{"ERROR", error.what()}});
      } else {
        core::log_debug("MySQL connect failed", {{"ERROR", error.what()}});
      }
      session_.reset();
      metrics_.up.store(false, std::memory_order_relaxed);
      reconnect_delay_ = std::clamp(reconnect_delay_ * 2, kMinReconnectDelay, kMaxReconnectDelay);
      // What was taken out goes back to the front, in order.
      const std::lock_guard<std::mutex> lock(mutex_);
      backlog_.insert(backlog_.begin(), std::make_move_iterator(batch.begin()),
                      std::make_move_iterator(batch.end()));
    }
  }
  metrics_.up.store(false, std::memory_order_relaxed);
}

void FailureStore::connect() {
  const bool first = metrics_.connects.load(std::memory_order_relaxed) == 0;
  session_ = std::make_unique<Session>(config_);
  metrics_.connects.fetch_add(1, std::memory_order_relaxed);
  metrics_.up.store(true, std::memory_order_relaxed);
  reconnect_delay_ = milliseconds(0);
  next_purge_ = std::chrono::steady_clock::now();
  core::log_info(first ? "connected to MySQL; failed_packets is ready"
                       : "reconnected to MySQL; storing failed packets again",
                 {{"MYSQL", session_->connection.describe()}});
}

void FailureStore::store(std::vector<FailedPacket>& batch) {
  // One transaction per batch: a burst of failures costs one commit (one
  // fsync) instead of one per row.
  session_->connection.execute("START TRANSACTION");
  for (const FailedPacket& p : batch) {
    const std::string last_error = truncated(p.last_error, 1024);
    session_->insert.execute({p.message_id, p.payload, p.request_id, p.received_at_ms,
                              static_cast<std::int64_t>(p.retry_count), last_error,
                              p.target_server});
  }
  session_->connection.execute("COMMIT");
  std::map<std::uint32_t, std::vector<std::string>> ids;
  for (FailedPacket& p : batch) ids[p.origin].push_back(std::move(p.message_id));
  metrics_.stored.fetch_add(batch.size(), std::memory_order_relaxed);
  batch.clear();
  {
    const std::lock_guard<std::mutex> lock(mutex_);
    metrics_.backlog.store(backlog_.size(), std::memory_order_relaxed);
  }
  for (auto& [origin, committed] : ids) on_stored_(origin, std::move(committed));
}

void FailureStore::purge_expired() {
  const auto retention_s = std::max<std::int64_t>(
      1, std::chrono::duration_cast<std::chrono::seconds>(config_.retention).count());
  const auto batch = static_cast<std::int64_t>(options_.purge_batch);
  for (;;) {
    const std::uint64_t deleted = session_->purge.execute({retention_s, batch});
    metrics_.expired.fetch_add(deleted, std::memory_order_relaxed);
    if (deleted < options_.purge_batch) return;
    // Packets waiting to be stored go before the rest of the clean-up.
    const std::lock_guard<std::mutex> lock(mutex_);
    if (stopping_ || !backlog_.empty()) return;
  }
}

}  // namespace gpsrelay::store
