// ReplicaAcks: "answer only once N replicas have the write" for the
// commands of one RedisConnection (redis.min_replicas_acked).
//
// A write is followed by one WAIT per loop iteration, pipelined behind
// every write of that iteration (note_write() schedules it), so a burst of
// writes costs one replication round trip, never one each, and the loop
// never blocks. When a write's reply arrives its caller registers what to
// do next with after_replicas(): replies come back in command order, so the
// next WAIT reply to arrive belongs to a WAIT sent after that write, and it
// decides. A WAIT that finds too few replicas in time, or a connection lost
// before it answers, runs the continuations with acked = false: the write
// may exist, but it was not confirmed, so the client must be told to retry.
//
// With min_replicas = 0 it does nothing: after_replicas() runs at once.
#pragma once

#include <hiredis/async.h>

#include <chrono>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "core/event_loop.h"
#include "core/log_throttle.h"
#include "queue/redis_connection.h"

namespace gpsrelay::queue {

class ReplicaAcks {
 public:
  ReplicaAcks(event_base* base, RedisConnection& connection, unsigned min_replicas,
              std::chrono::milliseconds timeout);
  ~ReplicaAcks();
  ReplicaAcks(const ReplicaAcks&) = delete;
  ReplicaAcks& operator=(const ReplicaAcks&) = delete;

  bool enabled() const { return min_replicas_ > 0; }
  // After sending a write on the connection.
  void note_write();
  // From the write's reply callback, when it succeeded.
  void after_replicas(std::function<void(bool acked)> then);
  // Continuations waiting for a WAIT reply.
  std::size_t waiting() const { return waiting_.size(); }
  // WAITs that came back with too few replicas, or none.
  std::uint64_t failures() const { return failures_; }

 private:
  static void on_wait_reply(redisAsyncContext*, void* reply, void* self);
  void send_wait();
  void finish(long long replicas);

  RedisConnection& connection_;
  unsigned min_replicas_;
  std::string min_replicas_text_;
  std::string timeout_text_;
  std::vector<std::function<void(bool)>> waiting_;
  int waits_in_flight_ = 0;
  std::uint64_t failures_ = 0;
  core::ThrottledLog failure_log_;
  core::Timer wait_timer_;
};

}  // namespace gpsrelay::queue
