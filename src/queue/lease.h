// Leases: jobs that a fleet of gpsrelayd instances sharing one Redis should
// run on one instance at a time (the retention purges, the delayed-message
// mover), rather than on every instance at once.
//
// One LeaseKeeper per process, on the daemon's main loop with its own
// connection (which follows the primary like any other). Every second it
// claims each lease it knows: a key <stream>:lease:<job> holding this
// instance's name, set if absent with a time to live (SET NX PX) or
// extended if it holds our name, in one script so the two cannot
// interleave with another instance's claim. A Lease answers held() from any
// thread (the MySQL threads ask too) without a lock.
//
// held() is cautious: a claim counts from the moment it was sent, not
// answered, and only for two thirds of the time to live, so an instance
// that stops renewing (Redis unreachable, a stalled process, kill -9)
// stops acting before its key expires and another can take over. The jobs
// stay correct if two instances ever run them at once (a lease key lost in
// a Redis failover): they are idempotent; the lease saves the repeated work.
#pragma once

#include <hiredis/async.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <string_view>

#include "core/config.h"
#include "core/event_loop.h"
#include "queue/redis_connection.h"

namespace gpsrelay::queue {

class LeaseKeeper;

class Lease {
 public:
  const std::string& job() const { return job_; }
  // Whether this instance may run the job now. Thread-safe.
  bool held() const;

 private:
  friend class LeaseKeeper;
  Lease(LeaseKeeper& keeper, std::string job, std::string key)
      : keeper_(keeper), job_(std::move(job)), key_(std::move(key)) {}

  LeaseKeeper& keeper_;
  const std::string job_;
  const std::string key_;
  std::atomic<std::int64_t> valid_until_ns_{0};  // steady clock
  bool claim_in_flight_ = false;
  std::chrono::steady_clock::time_point claim_sent_at_{};
};

class LeaseKeeper {
 public:
  // `owner` names this instance (its consumer name).
  LeaseKeeper(event_base* base, const core::RedisConfig& redis, std::string owner,
              std::chrono::milliseconds ttl = std::chrono::seconds(6),
              std::chrono::milliseconds renew_interval = std::chrono::seconds(1));
  ~LeaseKeeper();
  LeaseKeeper(const LeaseKeeper&) = delete;
  LeaseKeeper& operator=(const LeaseKeeper&) = delete;

  // The lease of `job`, the same object for the same name. Before start().
  const Lease& lease(std::string_view job);
  void start();
  // gpsrelay_lease_held{job="..."}: 1 while this instance holds it.
  void render_metrics(std::string& out) const;

 private:
  static void on_claim_reply(redisAsyncContext*, void* reply, void* lease);
  void claim_all();

  const std::string stream_;
  const std::string owner_;
  const std::chrono::milliseconds ttl_;
  const std::string ttl_text_;
  const std::chrono::milliseconds renew_interval_;
  std::map<std::string, std::unique_ptr<Lease>, std::less<>> leases_;
  RedisConnection connection_;
  core::Timer renew_timer_;
};

}  // namespace gpsrelay::queue
