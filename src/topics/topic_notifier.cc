// The topics module's thread (see topic_notifier.h).
#include "topics/topic_notifier.h"

#include <hiredis/hiredis.h>

#include "core/callback_guard.h"
#include "core/thread.h"

namespace gpsrelay::topics {
namespace {

// How many due messages one release script moves at most.
constexpr std::string_view kReleaseBatch = "500";

std::int64_t steady_ns_now() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

std::int64_t unix_ms_now() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

}  // namespace

TopicNotifier::TopicNotifier(const core::RedisConfig& redis, const core::TopicsConfig& topics,
                             std::size_t workers, std::string instance,
                             const queue::Lease* release_lease)
    : keys_(topics.prefix),
      channel_(topics.prefix + "notify"),
      instance_(std::move(instance)),
      release_lease_(release_lease),
      started_ms_(std::to_string(unix_ms_now())),
      inboxes_(workers, nullptr),
      base_(core::make_event_base()),
      subscriber_(base_.get(), queue::RedisConnection::Options::from(redis),
                  [this](bool up) { on_subscriber(up); }),
      commands_(base_.get(), queue::RedisConnection::Options::from(redis), [](bool) {}),
      stop_trigger_(base_.get(), [this] { event_base_loopexit(base_.get(), nullptr); }),
      release_timer_(base_.get(), [this] { on_tick(); }) {}

TopicNotifier::~TopicNotifier() {
  request_stop();
  join();
}

void TopicNotifier::attach(std::size_t worker, TopicInbox& inbox) { inboxes_.at(worker) = &inbox; }

void TopicNotifier::start() {
  heartbeat_ns_.store(steady_ns_now());
  thread_ = core::start_loop_thread("topics", [this] {
    subscriber_.start();
    commands_.start();
    release_timer_.start_periodic(kReleaseInterval);
    event_base_dispatch(base_.get());
    // Pending callbacks get their null replies while we still exist.
    subscriber_.close();
    commands_.close();
  });
}

void TopicNotifier::request_stop() { stop_trigger_.trigger(); }

void TopicNotifier::join() {
  if (thread_.joinable()) thread_.join();
}

std::chrono::steady_clock::time_point TopicNotifier::last_heartbeat() const {
  return std::chrono::steady_clock::time_point(std::chrono::nanoseconds(heartbeat_ns_.load()));
}

void TopicNotifier::on_subscriber(bool up) {
  subscribed_.store(up, std::memory_order_relaxed);
  if (!up) return;
  // A new connection has no subscription: take the channel again. hiredis
  // calls on_message for every message on it from now on.
  const std::string_view args[] = {"SUBSCRIBE", channel_};
  subscriber_.send(&TopicNotifier::on_message, this, args);
}

void TopicNotifier::on_message(redisAsyncContext*, void* reply, void* self) {
  core::guarded("topics notification", [&] {
    const auto* r = static_cast<const redisReply*>(reply);
    // ["message", channel, topic]; also the ["subscribe", …] confirmation.
    if (r == nullptr || r->type != REDIS_REPLY_ARRAY || r->elements != 3 ||
        r->element[0]->type != REDIS_REPLY_STRING ||
        std::string_view(r->element[0]->str, r->element[0]->len) != "message" ||
        r->element[2]->type != REDIS_REPLY_STRING) {
      return;
    }
    const std::string topic(r->element[2]->str, r->element[2]->len);
    for (TopicInbox* inbox : static_cast<TopicNotifier*>(self)->inboxes_) {
      if (inbox != nullptr) inbox->post(topic);
    }
  });
}

void TopicNotifier::on_tick() {
  heartbeat_ns_.store(steady_ns_now());
  release_due();
  ++ticks_;
  if (ticks_ % kRegisterTicks == 1) register_instance();
  if (ticks_ % kLagTicks == 1) read_lag();
}

void TopicNotifier::register_instance() {
  if (!commands_.up()) return;
  const std::string key = keys_.prefix() + "instances";
  const std::string value = started_ms_ + " " + std::to_string(unix_ms_now());
  const std::string_view args[] = {"HSET", key, instance_, value};
  // Nothing to do with the answer: the next tick registers again.
  commands_.send(nullptr, nullptr, args);
}

void TopicNotifier::read_lag() {
  if (reading_lag_ || !commands_.up()) return;
  const std::string_view args[] = {"EVAL", kLagScript, "0", keys_.prefix()};
  reading_lag_ = commands_.send(&TopicNotifier::on_lag, this, args);
}

void TopicNotifier::on_lag(redisAsyncContext*, void* reply, void* self) {
  auto& notifier = *static_cast<TopicNotifier*>(self);
  notifier.reading_lag_ = false;
  const auto* r = static_cast<const redisReply*>(reply);
  if (r == nullptr || r->type != REDIS_REPLY_ARRAY) return;
  std::vector<LagSample> samples;
  samples.reserve(r->elements);
  for (std::size_t i = 0; i < r->elements; ++i) {
    const redisReply* e = r->element[i];
    if (e->type != REDIS_REPLY_ARRAY || e->elements != 5) continue;
    const auto str = [](const redisReply* x) {
      return x->type == REDIS_REPLY_STRING ? std::string(x->str, x->len) : std::string();
    };
    samples.push_back({str(e->element[0]), static_cast<unsigned>(e->element[1]->integer),
                       str(e->element[2]), e->element[3]->integer, e->element[4]->integer});
  }
  const std::lock_guard<std::mutex> lock(notifier.lag_mutex_);
  notifier.lag_ = std::move(samples);
}

std::vector<LagSample> TopicNotifier::lag() const {
  const std::lock_guard<std::mutex> lock(lag_mutex_);
  return lag_;
}

void TopicNotifier::release_due() {
  if (releasing_ || !commands_.up()) return;
  if (release_lease_ != nullptr && !release_lease_->held()) return;
  const std::string now = std::to_string(unix_ms_now());
  const std::string_view args[] = {"EVAL", kReleaseDelayedScript, "0", keys_.prefix(),
                                   now,    kReleaseBatch};
  releasing_ = commands_.send(&TopicNotifier::on_released, this, args);
}

void TopicNotifier::on_released(redisAsyncContext*, void* reply, void* self) {
  auto& notifier = *static_cast<TopicNotifier*>(self);
  notifier.releasing_ = false;
  const auto* r = static_cast<const redisReply*>(reply);
  if (r != nullptr && r->type == REDIS_REPLY_INTEGER && r->integer > 0) {
    notifier.released_.fetch_add(static_cast<std::uint64_t>(r->integer), std::memory_order_relaxed);
    // A full batch: more may be due; go on at once rather than next tick.
    if (r->integer >= 500) notifier.release_due();
  }
}

}  // namespace gpsrelay::topics
