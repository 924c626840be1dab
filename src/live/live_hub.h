// LiveHub: the daemon's one Redis Pub/Sub subscription for live location
// updates, on a thread of its own ("live"). HTTP workers say which
// channels their clients follow (follow/unfollow, counted per worker); the
// hub subscribes to a channel while any worker follows it, and after a
// reconnect subscribes again to all of them. Each message becomes one
// immutable LiveUpdate, serialised once, handed to the mailbox of every
// worker that follows its channel; the worker writes it to its own
// clients on its own loop.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <unordered_map>
#include <vector>

#include "core/config.h"
#include "core/event_loop.h"
#include "core/mailbox.h"
#include "live/live_metrics.h"
#include "queue/redis_connection.h"

struct redisReply;

namespace gpsrelay::live {

// Subscribed for as long as the connection lasts (see on_connection).
inline constexpr std::string_view kAnchorChannel = "gpsrelay:live:anchor";

struct LiveUpdate {
  std::string channel;
  std::string sse_frame;  // "id: <stream id>\ndata: <record>\n\n"
  std::string ws_frame;   // the record's JSON in a WebSocket text frame
  std::int64_t added_ms;  // when the report was XADDed
};
using UpdatePtr = std::shared_ptr<const LiveUpdate>;

// A worker's inbox: posted to from the hub's thread, drained on the
// worker's loop.
using Mailbox = core::Mailbox<UpdatePtr>;

class LiveHub {
 public:
  LiveHub(const core::RedisConfig& redis, std::size_t workers, LiveMetrics& metrics);
  ~LiveHub();
  LiveHub(const LiveHub&) = delete;
  LiveHub& operator=(const LiveHub&) = delete;

  // Before start(), once per worker.
  void attach(std::size_t worker, Mailbox& mailbox);
  void start();
  void request_stop();
  void join();
  std::chrono::steady_clock::time_point last_heartbeat() const;

  // From worker `worker`'s thread: one more / one less client of `channel`.
  void follow(std::size_t worker, const std::string& channel);
  void unfollow(std::size_t worker, const std::string& channel);

 private:
  struct Change {
    std::size_t worker;
    std::string channel;
    int delta;
  };

  void apply_changes();
  void on_connection(bool up);
  void subscribe(const std::vector<std::string>& channels, const char* command);
  static void on_message(redisAsyncContext*, void* reply, void* self);
  void handle_message(const redisReply* reply);

  LiveMetrics& metrics_;
  std::vector<Mailbox*> mailboxes_;
  // Hub thread only: clients per worker, by channel.
  std::unordered_map<std::string, std::vector<int>> followers_;

  core::EventBasePtr base_;
  queue::RedisConnection connection_;
  std::mutex changes_mutex_;
  std::vector<Change> changes_;
  core::CrossThreadTrigger changes_trigger_;
  core::CrossThreadTrigger stop_trigger_;
  core::Timer heartbeat_timer_;
  std::atomic<std::int64_t> heartbeat_ns_{0};
  std::thread thread_;
};

}  // namespace gpsrelay::live
