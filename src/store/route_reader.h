// RouteReader: answers route queries (a driver's history between two
// times) from MySQL table driver_locations for the HTTP threads, which must
// never block on MySQL. Queries are queued to a thread of its own
// ("history-read") with its own connection and one prepared statement;
// each answer is handed to the query's callback on that thread, and the
// caller carries it back to its event loop.
//
// The query is a primary-key range scan that reads only the partitions of
// the days asked for (history_schema.h). It does not write history
// (history_store.h) and knows nothing of HTTP or JSON.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "core/config.h"
#include "locations/location_record.h"

namespace gpsrelay::store {

struct RouteQuery {
  std::string driver_id;
  std::int64_t start_ms = 0;  // Unix milliseconds, inclusive
  std::int64_t end_ms = 0;    // Unix milliseconds, inclusive
  unsigned limit = 0;         // at most this many points, the earliest
};

struct RouteResult {
  bool ok = false;
  std::string error;  // when !ok: what failed, for the log (names the MySQL server)
  std::vector<locations::LocationRecord> points;  // in time order; battery is not stored
};

class RouteReader {
 public:
  struct Options {
    std::size_t max_queued = 1000;  // queries waiting; more are refused
  };
  // Called on the reader's thread, exactly once per accepted query (with
  // ok = false when the reader stops first). It must not throw.
  using RouteDone = std::function<void(RouteResult)>;

  RouteReader(core::MysqlConfig config, Options options);
  ~RouteReader();
  RouteReader(const RouteReader&) = delete;
  RouteReader& operator=(const RouteReader&) = delete;

  void start();
  // Queues a query; false when max_queued queries wait already or the
  // reader is stopping (the caller answers 503; `done` is not called).
  bool submit(RouteQuery query, RouteDone done);
  // Ends the thread after the query under way; queries still queued are
  // answered with ok = false.
  void request_stop();
  void join();

  // Whether the last attempt to reach MySQL worked.
  bool up() const { return up_.load(std::memory_order_relaxed); }

 private:
  class Session;
  struct Pending {
    RouteQuery query;
    RouteDone done;
  };

  void run();
  RouteResult answer(const RouteQuery& query);
  RouteResult read(const RouteQuery& query);
  void fail_all(std::deque<Pending> pending, const std::string& why);

  const core::MysqlConfig config_;
  const Options options_;

  std::mutex mutex_;
  std::condition_variable wake_;
  std::deque<Pending> queue_;
  bool stopping_ = false;

  std::atomic<bool> up_{false};

  // Reader thread only.
  std::unique_ptr<Session> session_;
  std::chrono::milliseconds reconnect_delay_{0};
  std::chrono::steady_clock::time_point next_connect_{};
  std::string connect_error_;  // of the last failed connect, for queries until the next try
  std::thread thread_;
};

}  // namespace gpsrelay::store
