// Delivery loop: consumer → balancer → sender → retry or acknowledge
// (see forwarder.h).
#include "forward/forwarder.h"

#include <algorithm>
#include <stdexcept>

#include "core/callback_guard.h"
#include "core/log.h"
#include "core/thread.h"
#include "forward/batch.h"
#include "forward/target_url.h"
#include "queue/stream_groups.h"

namespace gpsrelay::forward {
namespace {

constexpr std::chrono::milliseconds kTickInterval{100};
// How long a packet waits before looking for a target again when none is
// available; the attempt is not counted.
constexpr std::chrono::milliseconds kNoTargetWait{250};

std::int64_t steady_ns(std::chrono::steady_clock::time_point t) {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(t.time_since_epoch()).count();
}

queue::StreamConsumer::Options consumer_options(const core::Config& config, std::string name) {
  queue::StreamConsumer::Options options;
  options.connection = queue::RedisConnection::Options::from(config.redis);
  options.stream = config.redis.stream;
  options.group = config.redis.group;
  options.all_groups = queue::enabled_groups(config);
  options.consumer = std::move(name);
  options.claim_idle = config.forward.claim_idle;
  // One read may then fill a whole batch.
  options.max_batch = std::max<std::size_t>(options.max_batch, config.forward.batch_max);
  return options;
}

// One field of a delivery's entries, comma-separated, for log fields: a
// single report's logs read as they did before batching.
std::string joined(const std::vector<queue::StreamEntry>& entries,
                   std::string queue::StreamEntry::*field) {
  std::string out;
  for (std::size_t i = 0; i < entries.size(); ++i) {
    if (i > 0) out += ',';
    out += entries[i].*field;
  }
  return out;
}

std::string joined_ids(const std::vector<queue::StreamEntry>& entries) {
  return joined(entries, &queue::StreamEntry::id);
}

std::string joined_request_ids(const std::vector<queue::StreamEntry>& entries) {
  return joined(entries, &queue::StreamEntry::request_id);
}

}  // namespace

Forwarder::Forwarder(const core::Config& config, Loop loop, core::ForwardMetrics& metrics,
                     SharedTargets& targets, store::FailureStore& store)
    : targets_(config.forward.targets),
      extra_header_(config.forward.header),
      timeout_(config.forward.timeout),
      ca_file_(config.forward.ca_file),
      http2_(config.forward.http2),
      health_path_(config.forward.health_path),
      health_interval_(config.forward.health_interval),
      index_(loop.index),
      concurrency_(loop.concurrency),
      batch_max_(config.forward.batch_max),
      batch_max_bytes_(config.forward.batch_max_bytes),
      health_checks_(loop.health_checks),
      schedule_(config.forward.retry_delays),
      metrics_(metrics),
      shared_(targets),
      store_(store),
      base_(core::make_event_base()),
      sender_(base_.get(), static_cast<long>(loop.concurrency)),
      consumer_(base_.get(), consumer_options(config, std::move(loop.consumer_name)), *this),
      tick_timer_(base_.get(), [this] { tick(); }),
      collect_timer_(base_.get(), [this] { send_collected(); }),
      health_timer_(base_.get(), [this] { check_health(); }),
      health_check_running_(targets_.size(), false),
      healthy_(targets_.size(), true),
      stop_trigger_(base_.get(),
                    [this] {
                      stopping_ = true;
                      event_base_loopexit(base_.get(), nullptr);
                    }),
      stored_trigger_(base_.get(), [this] { acknowledge_stored(); }) {}

Forwarder::~Forwarder() { join(); }

void Forwarder::start() {
  heartbeat_ns_.store(steady_ns(std::chrono::steady_clock::now()));
  thread_ = core::start_loop_thread("forward-" + std::to_string(index_), [this] {
    consumer_.start();
    tick_timer_.start_periodic(kTickInterval);
    if (health_checks_ && !health_path_.empty()) {
      check_health();
      health_timer_.start_periodic(health_interval_);
    }
    if (event_base_dispatch(base_.get()) < 0) {
      // A loop that cannot run delivers nothing; the thread's boundary
      // turns this into a restart.
      throw std::runtime_error("libevent: event_base_dispatch failed in the forwarder");
    }
    std::size_t entries = collecting_.size();
    for (const auto& [key, delivery] : deliveries_) entries += delivery->entries.size();
    if (entries > 0) {
      core::log_info("stopping with deliveries in flight; they stay pending and are sent again",
                     {{"COUNT", std::to_string(entries)}});
    }
  });
}

void Forwarder::request_stop() { stop_trigger_.trigger(); }

void Forwarder::join() {
  if (thread_.joinable()) thread_.join();
}

void Forwarder::stored(std::vector<std::string> ids) {
  {
    const std::lock_guard<std::mutex> lock(stored_mutex_);
    stored_ids_.insert(stored_ids_.end(), std::make_move_iterator(ids.begin()),
                       std::make_move_iterator(ids.end()));
  }
  stored_trigger_.trigger();
}

std::chrono::steady_clock::time_point Forwarder::last_heartbeat() const {
  return std::chrono::steady_clock::time_point(std::chrono::nanoseconds(heartbeat_ns_.load()));
}

std::size_t Forwarder::free_slots() const {
  if (stopping_ || deliveries_.size() >= concurrency_) return 0;
  // The entries being collected ride in one of the free requests.
  const std::size_t entries = (concurrency_ - deliveries_.size()) * batch_max_;
  return entries > collecting_.size() ? entries - collecting_.size() : 0;
}

void Forwarder::on_entry(queue::StreamEntry entry) {
  if (batch_max_ == 1) {
    std::vector<queue::StreamEntry> entries;
    entries.push_back(std::move(entry));
    start_delivery(std::move(entries));
    return;
  }
  // Each payload adds itself and a comma or the closing bracket to "[".
  const std::uint64_t bytes = entry.payload.size() + 1;
  if (!collecting_.empty() && 1 + collecting_bytes_ + bytes > batch_max_bytes_) send_collected();
  collecting_bytes_ += bytes;
  collecting_.push_back(std::move(entry));
  if (collecting_.size() >= batch_max_) {
    send_collected();
  } else if (!collect_timer_.pending()) {
    // Fires after the consumer's callback returns: the batch holds what this
    // reply brought, and a quiet stream never makes a report wait.
    collect_timer_.start_once(std::chrono::milliseconds(0));
  }
}

void Forwarder::send_collected() {
  collect_timer_.stop();
  if (collecting_.empty()) return;
  std::vector<queue::StreamEntry> entries;
  entries.swap(collecting_);
  collecting_bytes_ = 0;
  start_delivery(std::move(entries));
}

void Forwarder::start_delivery(std::vector<queue::StreamEntry> entries) {
  const std::uint64_t key = next_key_++;
  auto delivery = std::make_unique<Delivery>();
  delivery->entries = std::move(entries);
  deliveries_.emplace(key, std::move(delivery));
  attempt(key);
}

void Forwarder::attempt(std::uint64_t key) {
  if (!core::guarded("delivery attempt", [&] { send_attempt(key); })) abandon(key);
}

void Forwarder::send_attempt(std::uint64_t key) {
  const auto found = deliveries_.find(key);
  if (found == deliveries_.end() || stopping_) return;
  Delivery& delivery = *found->second;
  const auto now = std::chrono::steady_clock::now();
  const std::optional<std::size_t> target =
      delivery.last_target ? shared_.pick_after(*delivery.last_target, now) : shared_.pick(now);
  if (!target) {
    core::bump_shared(metrics_.no_target_waits);
    if (!reported_no_target_) {
      reported_no_target_ = true;
      core::log_error("no target available: every target is down or its breaker is open");
    }
    wait_then_attempt(delivery, key, kNoTargetWait);
    return;
  }
  reported_no_target_ = false;
  ++delivery.attempts;
  delivery.last_target = target;

  SendRequest request;
  request.url = targets_[*target];
  request.timeout = timeout_;
  request.ca_file = ca_file_;
  request.http2 = http2_;
  if (batch_max_ == 1) {
    const queue::StreamEntry& entry = delivery.entries.front();
    request.body = entry.payload;
    request.headers = {"Content-Type: application/json", "X-Request-ID: " + entry.request_id,
                       "X-GPSRelay-Message-ID: " + entry.id,
                       "X-GPSRelay-Attempt: " + std::to_string(delivery.attempts)};
  } else {
    // Rebuilt per attempt rather than kept: the entries hold the payloads
    // anyway, and a batch waiting for its retry should not hold them twice.
    BatchRequestText text;
    for (const queue::StreamEntry& entry : delivery.entries) {
      text.add(entry.id, entry.request_id, entry.payload);
    }
    request.body = text.body();
    request.headers = text.headers(delivery.attempts);
  }
  if (!extra_header_.empty()) request.headers.push_back(extra_header_);
  const std::size_t chosen = *target;
  sender_.send(std::move(request),
               [this, key, chosen](const SendResult& result) { on_result(key, chosen, result); });
}

void Forwarder::on_result(std::uint64_t key, std::size_t target, const SendResult& result) {
  if (!core::guarded("delivery result", [&] { handle_result(key, target, result); })) {
    abandon(key);
  }
}

void Forwarder::handle_result(std::uint64_t key, std::size_t target, const SendResult& result) {
  const auto found = deliveries_.find(key);
  if (found == deliveries_.end()) return;
  Delivery& delivery = *found->second;
  // Counters count reports, whatever the batching: one request's result is
  // every entry's.
  const std::uint64_t reports = delivery.entries.size();
  const auto now = std::chrono::steady_clock::now();
  const AttemptOutcome outcome =
      result.status != 0 ? classify_http_status(result.status) : classify_transport_error();
  core::TargetMetrics& target_metrics = *metrics_.targets[target];
  if (!result.not_sent) {
    shared_.record_outcome(target, outcome, now);
    metrics_.attempt_duration.observe_shared(result.elapsed);
  }
  if (result.status != 0) {
    core::bump_shared(result.http2 ? target_metrics.http2_responses
                                   : target_metrics.http1_responses);
  }
  // A request that never left says nothing about the target: no breaker
  // count, no target metrics, no last_error; the packet is still retried.

  if (outcome == AttemptOutcome::kSuccess) {
    core::bump_shared(target_metrics.delivered, reports);
    complete(key);
    return;
  }
  delivery.last_error = result.status != 0 ? "HTTP " + std::to_string(result.status) : result.error;
  if (!result.not_sent) {
    core::bump_shared(outcome == AttemptOutcome::kPermanent ? target_metrics.rejected
                                                            : target_metrics.failed_attempts,
                      reports);
    target_metrics.set_last_error(delivery.last_error);
  }
  shared_.logs(target).attempt_failed.log(core::LogLevel::kWarning, "delivery attempt failed",
                                          {{"MESSAGE_ID", joined_ids(delivery.entries)},
                                           {"REQUEST_ID", joined_request_ids(delivery.entries)},
                                           {"TARGET", targets_[target]},
                                           {"ATTEMPT", std::to_string(delivery.attempts)},
                                           {"ERROR", delivery.last_error}});
  const std::optional<std::chrono::milliseconds> delay =
      outcome == AttemptOutcome::kRetryable ? schedule_.delay_before_attempt(delivery.attempts + 1)
                                            : std::nullopt;
  if (delay) {
    core::bump_shared(metrics_.retries_scheduled, reports);
    wait_then_attempt(delivery, key, *delay);
    return;
  }
  give_up(key, target);
}

void Forwarder::give_up(std::uint64_t key, std::size_t target) {
  const auto found = deliveries_.find(key);
  Delivery& delivery = *found->second;
  // Read once: GCC 12 otherwise warns, wrongly, that the field may be uninitialised.
  const unsigned attempts = delivery.attempts;
  core::bump_shared(metrics_.packets_failed, delivery.entries.size());
  shared_.logs(target).gave_up.log(core::LogLevel::kError,
                                   "packet not delivered; storing it in failed_packets",
                                   {{"MESSAGE_ID", joined_ids(delivery.entries)},
                                    {"REQUEST_ID", joined_request_ids(delivery.entries)},
                                    {"TARGET", targets_[target]},
                                    {"ATTEMPTS", std::to_string(attempts)},
                                    {"ERROR", delivery.last_error}});
  // Each entry of a batch is a row of its own, committed and acknowledged
  // on its own: a refused one stays pending without holding back the rest.
  std::vector<queue::StreamEntry> refused;
  for (queue::StreamEntry& entry : delivery.entries) {
    store::FailedPacket packet;
    packet.message_id = entry.id;
    packet.payload = std::move(entry.payload);
    packet.request_id = entry.request_id;
    packet.received_at_ms = entry.received_at_ms;
    packet.retry_count = attempts - 1;
    packet.last_error = delivery.last_error;
    packet.target_server = targets_[target];
    packet.origin = index_;
    // A submitted entry stays in flight for the consumer (pending, not
    // handed out again) until the store reports the row committed.
    if (!store_.submit(std::move(packet))) refused.push_back(std::move(entry));
  }
  if (!refused.empty()) {
    store_full_log_.log(
        core::LogLevel::kWarning,
        "too many failed packets wait for MySQL; this one stays pending and is retried later",
        {{"MESSAGE_ID", joined_ids(refused)}});
    for (const queue::StreamEntry& entry : refused) consumer_.release(entry.id);
  }
  // The slot is free now, whatever MySQL does.
  deliveries_.erase(found);
  consumer_.wake();
}

void Forwarder::abandon(std::uint64_t key) {
  const auto found = deliveries_.find(key);
  if (found == deliveries_.end()) return;  // handed on (acknowledged, stored) before the throw
  core::log_error(
      "delivery abandoned after an error; the entry stays pending and is claimed again after "
      "forward.claim_idle",
      {{"MESSAGE_ID", joined_ids(found->second->entries)},
       {"REQUEST_ID", joined_request_ids(found->second->entries)}});
  // Its wait timer may be the very callback running now: it is destroyed
  // at the next tick, not here.
  abandoned_.push_back(std::move(found->second));
  for (const queue::StreamEntry& entry : abandoned_.back()->entries) consumer_.release(entry.id);
  deliveries_.erase(found);
}

void Forwarder::acknowledge_stored() {
  std::vector<std::string> ids;
  {
    const std::lock_guard<std::mutex> lock(stored_mutex_);
    ids.swap(stored_ids_);
  }
  for (const std::string& id : ids) {
    if (!consumer_.finish(id)) {
      core::log_warning(
          "stored in MySQL, but Redis is down: the acknowledgement is lost and the packet "
          "will be handled again",
          {{"MESSAGE_ID", id}});
    }
  }
}

void Forwarder::wait_then_attempt(Delivery& delivery, std::uint64_t key,
                                  std::chrono::milliseconds delay) {
  if (!delivery.wait) {
    delivery.wait = std::make_unique<core::Timer>(base_.get(), [this, key] { attempt(key); });
  }
  delivery.wait->start_once(delay);
}

void Forwarder::complete(std::uint64_t key) {
  const auto found = deliveries_.find(key);
  const std::unique_ptr<Delivery> delivery = std::move(found->second);
  deliveries_.erase(found);
  std::string unacknowledged;
  for (const queue::StreamEntry& entry : delivery->entries) {
    if (consumer_.finish(entry.id)) continue;
    if (!unacknowledged.empty()) unacknowledged += ',';
    unacknowledged += entry.id;
  }
  if (!unacknowledged.empty()) {
    core::log_warning(
        "delivered, but Redis is down: the acknowledgement is lost and the "
        "packet will be sent again",
        {{"MESSAGE_ID", unacknowledged}});
  }
  consumer_.wake();
}

void Forwarder::check_health() {
  for (std::size_t i = 0; i < targets_.size(); ++i) {
    // A target that does not answer within the interval is not checked twice.
    if (health_check_running_[i]) continue;
    SendRequest request;
    request.method = SendRequest::Method::kGet;
    request.url = health_url(targets_[i], health_path_);
    request.timeout = std::min(timeout_, health_interval_);
    request.ca_file = ca_file_;
    request.http2 = http2_;
    if (!extra_header_.empty()) request.headers.push_back(extra_header_);
    sender_.send(std::move(request),
                 [this, i](const SendResult& result) { on_health_result(i, result); });
    // Only now: had send() thrown, the flag would block this target's checks for good.
    health_check_running_[i] = true;
  }
}

void Forwarder::on_health_result(std::size_t target, const SendResult& result) {
  health_check_running_[target] = false;
  const bool healthy = result.status >= 200 && result.status < 300;
  shared_.set_healthy(target, healthy);
  if (healthy == healthy_[target]) return;
  healthy_[target] = healthy;
  if (healthy) {
    core::log_info("target passed its health check; it takes deliveries again",
                   {{"TARGET", targets_[target]}});
  } else {
    core::log_warning(
        "target failed its health check; no deliveries until it passes",
        {{"TARGET", targets_[target]},
         {"ERROR", result.status != 0 ? "HTTP " + std::to_string(result.status) : result.error}});
  }
}

void Forwarder::tick() {
  abandoned_.clear();
  const auto now = std::chrono::steady_clock::now();
  heartbeat_ns_.store(steady_ns(now));
  for (std::size_t i = 0; i < targets_.size(); ++i) {
    metrics_.targets[i]->state.store(shared_.state(i, now), std::memory_order_relaxed);
  }
  // The gauges are the sum over loops: each adds the change since its last tick.
  std::uint64_t in_flight = 0;
  for (const auto& [key, delivery] : deliveries_) in_flight += delivery->entries.size();
  metrics_.in_flight.fetch_add(in_flight - published_in_flight_, std::memory_order_relaxed);
  published_in_flight_ = in_flight;
  metrics_.reclaimed.fetch_add(consumer_.entries_reclaimed() - published_reclaimed_,
                               std::memory_order_relaxed);
  published_reclaimed_ = consumer_.entries_reclaimed();
  metrics_.group_pending.store(consumer_.group_pending(), std::memory_order_relaxed);
  metrics_.group_lag.store(consumer_.group_lag(), std::memory_order_relaxed);
  consumer_.wake();
}

}  // namespace gpsrelay::forward
