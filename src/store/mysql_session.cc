// MysqlSession (see mysql_session.h).
#include "store/mysql_session.h"

#include <algorithm>
#include <utility>

#include "core/log.h"

namespace gpsrelay::store {
namespace {

using std::chrono::milliseconds;

constexpr milliseconds kMinDelay{250};
constexpr milliseconds kMaxDelay{5000};

}  // namespace

MysqlSession::MysqlSession(core::MysqlConfig config, std::string purpose, OnConnect on_connect)
    : config_(std::move(config)),
      purpose_(std::move(purpose)),
      on_connect_(std::move(on_connect)) {}

MysqlConnection* MysqlSession::get() {
  if (connection_) return &*connection_;
  const auto now = std::chrono::steady_clock::now();
  if (now < next_attempt_) return nullptr;
  try {
    connection_.emplace(config_);
    if (on_connect_) on_connect_(*connection_);
  } catch (const MysqlError& error) {
    connection_.reset();
    const bool was_up = up_.exchange(false, std::memory_order_relaxed);
    error_ = error.what();
    delay_ = std::clamp(delay_ * 2, kMinDelay, kMaxDelay);
    next_attempt_ = now + delay_;
    // Once per outage at warning level; the retries only at debug.
    if (was_up || delay_ == kMinDelay) {
      core::log_warning("MySQL unreachable for " + purpose_, {{"ERROR", error_}});
    } else {
      core::log_debug("MySQL still unreachable for " + purpose_, {{"ERROR", error_}});
    }
    return nullptr;
  }
  if (!up_.exchange(true, std::memory_order_relaxed) && delay_ > milliseconds(0)) {
    core::log_info("MySQL reachable again for " + purpose_, {{"MYSQL", connection_->describe()}});
  }
  delay_ = milliseconds(0);
  error_.clear();
  return &*connection_;
}

void MysqlSession::failed(const MysqlError& error) {
  if (!error.connection_lost()) return;
  error_ = error.what();
  reset();
}

void MysqlSession::reset() { connection_.reset(); }

}  // namespace gpsrelay::store
