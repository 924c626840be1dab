// ReportQueue: the ingest side of the Redis stream for one event-loop
// thread. It appends reports (XADD with the fields payload, received_at and
// request_id; with an Idempotency-Key, one script that adds the entry only
// if the key is new and remembers the key with the entry's id), makes sure
// every enabled consumer group exists before it accepts a report (a group
// created later would start at 0 but could miss entries the others already
// deleted), watches the backlog (XLEN) for the max_queue_length limit, declares the connection
// broken when a reply is redis.command_timeout late, and keeps track of writes Redis refuses (OOM,
// READONLY, MISCONF) so /health can say so. With min_replicas_acked it
// answers a report only once a WAIT confirms that enough replicas have it.
//
// Replies on one connection come back in command order, so outstanding
// appends form a FIFO: the listener is told about each append exactly once,
// in the order append() was called. No per-request allocation or lookup.
#pragma once

#include <chrono>
#include <cstdint>
#include <deque>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/event_loop.h"
#include "core/log_throttle.h"
#include "queue/redis_connection.h"
#include "queue/replica_acks.h"
#include "queue/write_error.h"

namespace gpsrelay::queue {

struct Report {
  std::string_view payload;
  std::int64_t received_at_ms;
  std::string_view request_id;
  std::string_view idempotency_key;  // empty = none
  std::string_view source;           // the device format of a location report; empty = raw
};

enum class AppendStatus {
  kSent,         // the listener hears about it later
  kUnavailable,  // Redis is down; nothing was sent
  kQueueFull,    // the backlog is at max_queue_length; nothing was sent
};

class ReportQueueListener {
 public:
  virtual ~ReportQueueListener() = default;
  // The report is durable in the stream under message_id. `replayed`: its
  // idempotency key was seen before, message_id is the first report's and
  // nothing was added.
  virtual void on_report_stored(std::string_view message_id, bool replayed) = 0;
  // The report may or may not be in the stream (the connection was lost
  // before the reply); the client must be told to retry.
  virtual void on_report_failed(std::string_view reason) = 0;
  // Ready means: connected, and every enabled consumer group exists.
  virtual void on_queue_ready_changed(bool ready) = 0;
};

class ReportQueue {
 public:
  struct Options {
    RedisConnection::Options connection;
    std::string stream;
    // Every enabled consumer group of the stream (queue::enabled_groups),
    // all created at connect. REQUIRES: not empty.
    std::vector<std::string> groups;
    // The contract's limit counts undelivered entries, and with several
    // groups that is the most-behind group's backlog. XLEN measures it:
    // an entry leaves the stream once every enabled group has acknowledged
    // it (stream_consumer.h), so XLEN counts the entries some enabled group
    // still needs. That is >= the most-behind group's backlog (an entry
    // another group finished out of order stays until the slow group is done
    // with it too, as does one whose last acknowledgement came from outside
    // gpsrelayd), and equal to it while the groups finish entries in stream
    // order, which is the normal case. Erring high only refuses early,
    // never lets the backlog pass the limit. The exact figure, max over the
    // groups of lag + pending from XINFO GROUPS, is not available: Redis 7.0
    // reports lag as nil once an entry in the middle of the stream was
    // deleted, which the script does whenever entries finish out of order.
    std::uint64_t max_queue_length = 0;  // 0 = unlimited
    // A connection whose oldest reply is this late is considered dead.
    std::chrono::milliseconds command_timeout{1000};
    std::chrono::milliseconds idempotency_ttl{24LL * 60 * 60 * 1000};
    std::chrono::milliseconds length_poll_interval{100};
    // > 0: a report counts as stored only once this many replicas have it.
    // One WAIT follows each loop iteration's appends (pipelined behind
    // them, so a batch costs one replication round trip, not one each).
    unsigned min_replicas_acked = 0;
    std::chrono::milliseconds replica_ack_timeout{100};
  };

  ReportQueue(event_base* base, Options options, ReportQueueListener& listener);
  ~ReportQueue();
  ReportQueue(const ReportQueue&) = delete;
  ReportQueue& operator=(const ReportQueue&) = delete;

  void start();
  AppendStatus append(const Report& report);

  bool ready() const { return ready_; }
  std::size_t in_flight() const { return sent_at_.size() + acks_.waiting(); }
  // Backlog estimate: last XLEN plus appends since; -1 before the first XLEN.
  std::int64_t queue_length() const { return queue_length_; }
  std::uint64_t reconnects() const { return connection_.reconnects(); }
  // Appends Redis refused, by kind.
  const WriteErrorCounts& write_errors() const { return write_errors_; }
  // The latest refusal, when no append has succeeded since it.
  struct Refusal {
    WriteError kind;
    std::chrono::steady_clock::time_point at;
  };
  const std::optional<Refusal>& last_refusal() const { return last_refusal_; }
  // WAITs that came back with fewer replicas than min_replicas_acked (or
  // none at all); each turned its batch of appends into 503s.
  std::uint64_t replica_ack_failures() const { return acks_.failures(); }

 private:
  static void on_append_reply(redisAsyncContext*, void* reply, void* self);
  static void on_length_reply(redisAsyncContext*, void* reply, void* self);
  static void on_group_reply(redisAsyncContext*, void* reply, void* self);
  static void on_script_reply(redisAsyncContext*, void* reply, void* self);

  void handle_append_reply(const redisReply* reply);
  void report_stored(std::string_view message_id, bool replayed);
  void report_failed(std::string_view reason);

  void handle_refusal(std::string_view error);
  void load_script();
  void setup_step_done();
  void on_connection_state(bool up);
  void poll();
  void set_ready(bool ready);

  Options options_;
  ReportQueueListener& listener_;
  // Before the connection: closing it (destructor) calls back into both.
  ReplicaAcks acks_;
  RedisConnection connection_;
  std::deque<std::chrono::steady_clock::time_point> sent_at_;
  std::int64_t queue_length_ = -1;
  bool length_query_in_flight_ = false;
  bool ready_ = false;
  int setup_replies_pending_ = 0;  // consumer groups and script, after a connect
  std::string script_sha_;         // of the idempotent append; empty until loaded
  std::string idempotency_ttl_ms_;
  std::string key_scratch_;
  WriteErrorCounts write_errors_{};
  std::optional<Refusal> last_refusal_;
  core::ThrottledLog refusal_log_;
  bool reset_wanted_ = false;  // a READONLY reply: this is no primary any more
  core::Timer poll_timer_;
};

}  // namespace gpsrelay::queue
