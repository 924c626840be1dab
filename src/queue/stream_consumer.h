// StreamConsumer: the delivery side of the Redis stream for one consumer
// loop (the forwarder's, or another group's). It reads entries for this
// instance through its consumer group (first its own pending entries, left
// over from a previous run, then new ones), reclaims entries that a dead
// instance left pending longer than claim_idle (XAUTOCLAIM), and
// acknowledges an entry only when its listener says it is done with it. It
// never reads more than the listener has room for, so the number in flight
// stays bounded.
//
// An entry the listener holds for long (a delivery in its retry schedule,
// a batch waiting for MySQL) is renewed every claim_idle / 3: its idle time
// restarts (XCLAIM JUSTID, only while the entry is still ours), so another
// instance of a fleet never reclaims an entry that is still being worked on
// here — that would be a second delivery, not a rescue.
//
// Several consumer groups read the same stream, so an entry may leave it
// only when every enabled group has acknowledged it. One Lua script does
// both steps atomically: XACK in our group, then XDEL of the ids that every
// other enabled group has acknowledged too. Whichever group acknowledges an
// entry last deletes it, and no interleaving of instances can delete an
// entry early or leave one behind that all groups are done with.
//
// It uses two connections: a blocking XREADGROUP holds its connection
// until entries arrive, and acknowledgements must not wait behind it.
//
// It does not know about HTTP, targets or retries (forward/ does).
#pragma once

#include <chrono>
#include <cstdint>
#include <deque>
#include <string>
#include <string_view>
#include <unordered_set>
#include <vector>

#include "core/event_loop.h"
#include "core/log_throttle.h"
#include "queue/redis_connection.h"

struct redisReply;

namespace gpsrelay::queue {

struct StreamEntry {
  std::string id;
  std::string payload;
  std::string request_id;
  std::string source;  // empty for raw reports
  std::int64_t received_at_ms = 0;
};

class StreamConsumerListener {
 public:
  virtual ~StreamConsumerListener() = default;
  // A new, reclaimed or left-over entry to deliver. The consumer does not
  // hand out the same id again while it is in flight here. If on_entry
  // throws, the exception is logged and the entry counts as not handed
  // out: it stays pending in Redis and a later reclaim brings it back.
  virtual void on_entry(StreamEntry entry) = 0;
  // The number of entries the listener can take now.
  virtual std::size_t free_slots() const = 0;
};

class StreamConsumer {
 public:
  struct Options {
    RedisConnection::Options connection;
    std::string stream;
    std::string group;
    // Every enabled consumer group of the stream, `group` included (see
    // queue::enabled_groups): an entry is deleted only once each of these
    // that exists in Redis has acknowledged it. Groups not listed (say, an
    // operator's inspection group) never hold entries back. Empty means
    // `group` alone.
    std::vector<std::string> all_groups;
    std::string consumer;  // stable per instance, so its pending entries come back
    std::chrono::milliseconds block{1000};
    std::chrono::milliseconds claim_idle{60000};
    std::size_t max_batch = 128;
  };

  StreamConsumer(event_base* base, Options options, StreamConsumerListener& listener);
  ~StreamConsumer();
  StreamConsumer(const StreamConsumer&) = delete;
  StreamConsumer& operator=(const StreamConsumer&) = delete;

  void start();
  // The listener has room again: read more if no read is under way.
  void wake();
  // Done with an entry (delivered, or stored as failed): acknowledged in our
  // group, and deleted from the stream if every other enabled group has
  // acknowledged it too (else the last of them deletes it). Batched with the
  // others finished in the same loop iteration: one script call per up to
  // 1000 ids. Returns false when Redis is down; the entry then stays pending
  // and comes back after a restart or a reclaim.
  bool finish(const std::string& id);
  // Stops tracking an entry without acknowledging it: it stays pending and
  // is handed out again by a later reclaim (after claim_idle) or restart.
  void release(const std::string& id) { in_flight_.erase(id); }

  bool up() const { return reader_.up() && writer_.up(); }
  std::uint64_t entries_read() const { return entries_read_; }
  std::uint64_t entries_reclaimed() const { return entries_reclaimed_; }
  // Entries this consumer acknowledged (newly, as XACK counts them), and
  // entries it deleted from the stream because every enabled group was done.
  std::uint64_t entries_acknowledged() const { return entries_acknowledged_; }
  std::uint64_t entries_deleted() const { return entries_deleted_; }
  // The group as Redis last reported it (XINFO GROUPS, sampled every
  // second): entries read by any consumer and not yet acknowledged, and
  // entries not yet read by the group at all; -1 until known.
  std::int64_t group_pending() const { return group_pending_; }
  std::int64_t group_lag() const { return group_lag_; }

 private:
  enum class Phase { kOwnPending, kNew };

  static void on_read_reply(redisAsyncContext*, void* reply, void* self);
  static void on_claim_reply(redisAsyncContext*, void* reply, void* self);
  static void on_group_reply(redisAsyncContext*, void* reply, void* self);
  static void on_group_info_reply(redisAsyncContext*, void* reply, void* self);
  static void on_finish_reply(redisAsyncContext*, void* reply, void* self);
  static void on_script_reply(redisAsyncContext*, void* reply, void* self);
  static void on_renew_reply(redisAsyncContext*, void* reply, void* self);
  void handle_read_reply(const redisReply* reply);
  void handle_claim_reply(const redisReply* reply);
  void handle_group_info_reply(const redisReply* reply);
  void handle_finish_reply(const redisReply* reply);

  void on_reader_state(bool up);
  void on_writer_state(bool up);
  void read();
  void claim();
  void renew();
  void sample_group();
  void flush_finished();
  // Sends one script call for `ids`; false when the connection refused it.
  bool send_finish(std::vector<std::string> ids);
  void load_script();
  // Hands the entries of an XREADGROUP/XAUTOCLAIM reply to the listener;
  // returns how many entries the reply held.
  std::size_t deliver(const redisReply* entries, bool reclaimed);
  void retry_later();

  Options options_;
  StreamConsumerListener& listener_;
  RedisConnection reader_;
  RedisConnection writer_;
  Phase phase_ = Phase::kOwnPending;
  std::string pending_cursor_ = "0";
  std::string claim_cursor_ = "0-0";
  bool read_in_flight_ = false;
  bool claim_in_flight_ = false;
  int renewals_in_flight_ = 0;
  std::unordered_set<std::string> in_flight_;  // handed out, not finished
  std::vector<std::string> finished_;          // to acknowledge at the end of this iteration
  // all_groups without our own: the groups that must also be done with an id.
  std::vector<std::string> other_groups_;
  std::string other_group_count_;
  // The ids of each script call awaiting its reply, oldest first (replies
  // come back in command order), so a NOSCRIPT answer can send them again.
  std::deque<std::vector<std::string>> finishing_;
  std::string script_sha_;  // empty until SCRIPT LOAD answered: EVAL instead
  std::uint64_t entries_acknowledged_ = 0;
  std::uint64_t entries_deleted_ = 0;
  std::uint64_t entries_read_ = 0;
  std::uint64_t entries_reclaimed_ = 0;
  std::int64_t group_pending_ = -1;
  std::int64_t group_lag_ = -1;
  core::ThrottledLog rejected_log_;
  core::ThrottledLog taken_log_;
  core::Timer retry_timer_;
  core::Timer claim_timer_;
  core::Timer renew_timer_;
  core::Timer stats_timer_;
  core::CrossThreadTrigger flush_trigger_;
};

}  // namespace gpsrelay::queue
