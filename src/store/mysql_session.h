// MysqlSession: a MySQL connection that comes back. It connects on first
// use, and after a failure waits with doubling backoff (250 ms to 5 s)
// before the next attempt, so that a thread serving requests while MySQL is
// down answers them at once with the last error instead of each waiting
// for a connect timeout. Used by exactly one thread.
#pragma once

#include <atomic>
#include <chrono>
#include <functional>
#include <optional>
#include <string>

#include "core/config.h"
#include "store/mysql_connection.h"

namespace gpsrelay::store {

class MysqlSession {
 public:
  // Runs on every new connection before it is used (create tables, set
  // the session up); a MysqlError from it counts as a failed connect.
  using OnConnect = std::function<void(MysqlConnection&)>;

  MysqlSession(core::MysqlConfig config, std::string purpose, OnConnect on_connect = {});

  // The connection, connecting first if there is none and the backoff
  // allows; nullptr while MySQL is unreachable (error() says why).
  MysqlConnection* get();
  // The caller saw `error` on the connection: drop it when it is lost (the
  // next get() reconnects at once, since one failed statement says little
  // about whether the server is reachable). Server errors keep it.
  void failed(const MysqlError& error);
  // Drops the connection unconditionally (a transaction in an unknown state).
  void reset();

  // Whether the last attempt to reach MySQL worked; any thread.
  bool up() const { return up_.load(std::memory_order_relaxed); }
  // Why the last connect failed, for answers and logs.
  const std::string& error() const { return error_; }

 private:
  const core::MysqlConfig config_;
  const std::string purpose_;  // "entity events", for the log
  const OnConnect on_connect_;
  std::optional<MysqlConnection> connection_;
  std::chrono::milliseconds delay_{0};
  std::chrono::steady_clock::time_point next_attempt_{};
  std::string error_;
  std::atomic<bool> up_{false};
};

}  // namespace gpsrelay::store
