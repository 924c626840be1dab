// RedisConnection: one hiredis async connection on one event loop, kept
// alive. It connects, authenticates, selects the database, and after any
// loss reconnects with exponential backoff; it says when it is up or down.
//
// With Redis Sentinel (Options::primary set) the address is the primary's
// as the sentinel watcher last heard it: each connect reads it, the
// handshake checks with ROLE that the server really is the primary, and a
// failover (the primary's generation changing) drops the connection and
// reconnects to the new one at once, without waiting out a backoff.
//
// It does not know about streams or reports (report_queue.h does). Commands
// sent on it are pipelined by hiredis: all issued in one loop iteration go out
// in one write, and replies come back in the order the commands were sent.
//
// Ownership rule of hiredis: a redisAsyncContext frees itself after a failed
// connect and after a disconnect. We therefore never free it from the
// disconnect path; we only drop our pointer there (on_disconnect), and free
// it ourselves only in reset()/close(), where hiredis is not about to.
#pragma once

#include <hiredis/async.h>

#include <chrono>
#include <functional>
#include <initializer_list>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/config.h"
#include "core/event_loop.h"
#include "core/redis_primary.h"

namespace gpsrelay::queue {

class RedisConnection {
 public:
  struct Options {
    core::Endpoint address;  // unused while `primary` is set
    std::shared_ptr<core::RedisPrimary> primary;
    std::string password;
    std::optional<int> db = 0;  // nullopt: no SELECT (a sentinel has no databases)
    std::chrono::milliseconds connect_timeout{2000};
    std::chrono::milliseconds min_backoff{100};
    std::chrono::milliseconds max_backoff{2000};
    // How often a connection that follows a primary looks for a failover.
    std::chrono::milliseconds primary_poll{100};

    // Where and how to connect, as [redis] says; timings keep their defaults.
    static Options from(const core::RedisConfig& redis) {
      Options options;
      options.address = redis.address;
      options.primary = redis.primary;
      options.password = redis.password;
      options.db = redis.db;
      return options;
    }
  };
  // Called on the loop thread whenever the connection becomes usable (true)
  // or stops being usable (false).
  using StateCallback = std::function<void(bool up)>;

  RedisConnection(event_base* base, Options options, StateCallback on_state);
  ~RedisConnection();
  RedisConnection(const RedisConnection&) = delete;
  RedisConnection& operator=(const RedisConnection&) = delete;

  // Starts the first connection attempt.
  void start();
  // Drops the connection for good: pending commands get a null reply, no
  // reconnect follows.
  void close();
  // Drops the connection (e.g. a reply is overdue) and reconnects after the
  // backoff. Pending commands get a null reply first.
  void reset(const char* reason);

  bool up() const { return up_; }
  std::uint64_t reconnects() const { return reconnects_; }

  // Sends a command. Returns false, and the callback is never called, when
  // the connection is not up. A true return means the callback is called
  // exactly once: with the reply, or with nullptr if the connection is lost.
  // Each argument goes out with its own length (binary-safe), so no length
  // is ever counted by hand.
  bool send(redisCallbackFn* callback, void* privdata, std::span<const std::string_view> args);
  bool send(redisCallbackFn* callback, void* privdata,
            std::initializer_list<std::string_view> args) {
    return send(callback, privdata, std::span<const std::string_view>(args.begin(), args.size()));
  }

 private:
  static void on_connect(const redisAsyncContext* context, int status);
  static void on_disconnect(const redisAsyncContext* context, int status);
  static void on_handshake_reply(redisAsyncContext* context, void* reply, void* privdata);

  void handle_connect(const redisAsyncContext* context, int status);
  void handle_handshake_reply(const redisAsyncContext* context, const redisReply* reply);
  void handshake_done();
  void connect();
  void send_handshake(std::initializer_list<std::string_view> args);
  bool send_raw(redisCallbackFn* callback, void* privdata, std::span<const std::string_view> args);
  void handle_lost(const std::string& reason);
  void free_context();
  void check_primary();
  void schedule_reconnect();
  void set_up(bool up);

  event_base* base_;
  Options options_;
  StateCallback on_state_;
  redisAsyncContext* context_ = nullptr;  // owned by hiredis once connecting; see header note
  bool up_ = false;
  bool closed_ = false;
  bool was_up_before_ = false;
  std::uint64_t reconnects_ = 0;
  int handshake_replies_pending_ = 0;
  std::uint64_t primary_generation_ = 0;  // of the address last connected to
  std::chrono::milliseconds backoff_;
  std::string last_error_;
  // Scratch space for send(), reused so a command costs no allocation.
  std::vector<const char*> argv_;
  std::vector<size_t> argv_lengths_;
  core::Timer reconnect_timer_;
  core::Timer connect_timer_;
  core::Timer primary_timer_;
};

}  // namespace gpsrelay::queue
