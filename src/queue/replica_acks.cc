// WAIT after each loop iteration's writes (see replica_acks.h).
#include "queue/replica_acks.h"

#include <hiredis/hiredis.h>

#include "core/callback_guard.h"

namespace gpsrelay::queue {

ReplicaAcks::ReplicaAcks(event_base* base, RedisConnection& connection, unsigned min_replicas,
                         std::chrono::milliseconds timeout)
    : connection_(connection),
      min_replicas_(min_replicas),
      min_replicas_text_(std::to_string(min_replicas)),
      timeout_text_(std::to_string(timeout.count())),
      wait_timer_(base, [this] { send_wait(); }) {}

ReplicaAcks::~ReplicaAcks() { wait_timer_.stop(); }

void ReplicaAcks::note_write() {
  // A zero delay runs after this iteration's other callbacks: every write
  // they send rides on the same WAIT.
  if (enabled() && !wait_timer_.pending()) wait_timer_.start_once(std::chrono::milliseconds(0));
}

void ReplicaAcks::after_replicas(std::function<void(bool acked)> then) {
  if (!enabled()) {
    then(true);
    return;
  }
  // No WAIT owed: the write's WAIT was never sent (the connection was down
  // then), so nothing will ever confirm it.
  if (waits_in_flight_ == 0 && !wait_timer_.pending()) {
    then(false);
    return;
  }
  waiting_.push_back(std::move(then));
}

void ReplicaAcks::send_wait() {
  if (connection_.send(&ReplicaAcks::on_wait_reply, this,
                       {"WAIT", min_replicas_text_, timeout_text_})) {
    ++waits_in_flight_;
  }
}

void ReplicaAcks::on_wait_reply(redisAsyncContext*, void* reply, void* privdata) {
  auto* self = static_cast<ReplicaAcks*>(privdata);
  const auto* r = static_cast<const redisReply*>(reply);
  core::guarded("WAIT reply", [&] {
    --self->waits_in_flight_;
    self->finish(r != nullptr && r->type == REDIS_REPLY_INTEGER ? r->integer : -1);
  });
}

void ReplicaAcks::finish(long long replicas) {
  const bool acked = replicas >= static_cast<long long>(min_replicas_);
  if (!acked) {
    ++failures_;
    failure_log_.log(
        core::LogLevel::kWarning, "too few Redis replicas confirmed writes in time; answering 503",
        {{"WANTED", min_replicas_text_},
         {"CONFIRMED", replicas < 0 ? "none (connection lost)" : std::to_string(replicas)},
         {"TIMEOUT_MS", timeout_text_}});
  }
  std::vector<std::function<void(bool)>> ready;
  ready.swap(waiting_);
  for (auto& then : ready) then(acked);
}

}  // namespace gpsrelay::queue
