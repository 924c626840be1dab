// Leases for once-per-fleet jobs (see lease.h).
#include "queue/lease.h"

#include <hiredis/hiredis.h>

#include "core/callback_guard.h"
#include "core/log.h"
#include "core/metrics.h"

namespace gpsrelay::queue {
namespace {

// KEYS[1] the lease, ARGV[1] our name, ARGV[2] the time to live (ms).
// Answers 1 when the lease is ours (new or extended), 0 when another
// instance holds it.
constexpr std::string_view kClaimScript = R"lua(
if redis.call('SET', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2]) then return 1 end
if redis.call('GET', KEYS[1]) == ARGV[1] then
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
  return 1
end
return 0
)lua";

std::int64_t steady_ns(std::chrono::steady_clock::time_point at) {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(at.time_since_epoch()).count();
}

}  // namespace

bool Lease::held() const {
  return steady_ns(std::chrono::steady_clock::now()) <
         valid_until_ns_.load(std::memory_order_acquire);
}

LeaseKeeper::LeaseKeeper(event_base* base, const core::RedisConfig& redis, std::string owner,
                         std::chrono::milliseconds ttl, std::chrono::milliseconds renew_interval)
    : stream_(redis.stream),
      owner_(std::move(owner)),
      ttl_(ttl),
      ttl_text_(std::to_string(ttl.count())),
      renew_interval_(renew_interval),
      connection_(base, RedisConnection::Options::from(redis),
                  [this](bool up) {
                    if (up) claim_all();
                  }),
      renew_timer_(base, [this] { claim_all(); }) {}

LeaseKeeper::~LeaseKeeper() {
  renew_timer_.stop();
  // Null replies of outstanding claims still find their leases.
  connection_.close();
}

const Lease& LeaseKeeper::lease(std::string_view job) {
  auto found = leases_.find(job);
  if (found == leases_.end()) {
    std::string key = stream_ + ":lease:" + std::string(job);
    found = leases_
                .emplace(std::string(job),
                         std::unique_ptr<Lease>(new Lease(*this, std::string(job), std::move(key))))
                .first;
  }
  return *found->second;
}

void LeaseKeeper::start() {
  if (leases_.empty()) return;
  connection_.start();
  renew_timer_.start_periodic(renew_interval_);
}

void LeaseKeeper::claim_all() {
  for (auto& [job, lease] : leases_) {
    if (lease->claim_in_flight_) continue;
    lease->claim_sent_at_ = std::chrono::steady_clock::now();
    lease->claim_in_flight_ =
        connection_.send(&LeaseKeeper::on_claim_reply, lease.get(),
                         {"EVAL", kClaimScript, "1", lease->key_, owner_, ttl_text_});
  }
}

void LeaseKeeper::on_claim_reply(redisAsyncContext*, void* reply, void* privdata) {
  auto* lease = static_cast<Lease*>(privdata);
  const auto* r = static_cast<const redisReply*>(reply);
  core::guarded("lease claim reply", [&] {
    lease->claim_in_flight_ = false;
    // A lost connection or an error changes nothing: a grant already given
    // runs out by itself.
    if (r == nullptr || r->type != REDIS_REPLY_INTEGER) return;
    const bool was_held = lease->held();
    if (r->integer != 1) {
      lease->valid_until_ns_.store(0, std::memory_order_release);
    } else {
      const LeaseKeeper& keeper = lease->keeper_;
      lease->valid_until_ns_.store(steady_ns(lease->claim_sent_at_ + keeper.ttl_ * 2 / 3),
                                   std::memory_order_release);
    }
    if (was_held != lease->held()) {
      core::log_info(was_held ? "lease lost: another instance runs this job now"
                              : "lease taken: this instance runs this job",
                     {{"JOB", lease->job_}, {"OWNER", lease->keeper_.owner_}});
    }
  });
}

void LeaseKeeper::render_metrics(std::string& out) const {
  if (leases_.empty()) return;
  core::append_header(out, "gpsrelay_lease_held", "gauge",
                      "1 while this instance holds the lease of a once-per-fleet job.");
  for (const auto& [job, lease] : leases_) {
    core::append_sample(out, "gpsrelay_lease_held{job=\"" + job + "\"}", lease->held() ? 1 : 0);
  }
}

}  // namespace gpsrelay::queue
