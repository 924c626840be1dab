// The gRPC topics service's Redis thread (see topics_bridge.h).
#include "grpc/topics_bridge.h"

#include <algorithm>
#include <exception>
#include <utility>

#include "core/log.h"
#include "core/thread.h"

namespace gpsrelay::grpc_api {
namespace {

// As HTTP's long-poll: a notification wakes a waiter at once; the tick
// catches delayed messages coming due and visibility timeouts expiring,
// which publish no notification.
constexpr std::chrono::milliseconds kTickInterval{1000};

std::int64_t steady_ns_now() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

}  // namespace

TopicsBridge::TopicsBridge(const core::Config& config, std::string instance,
                           topics::TopicNotifier& notifier, std::size_t inbox_index)
    : config_(config),
      instance_(std::move(instance)),
      base_(core::make_event_base()),
      tasks_(base_.get(), [this](const std::vector<Task>& tasks) { run_tasks(tasks); }),
      inbox_(base_.get(), [this](const std::vector<std::string>& topics) { on_notified(topics); }),
      tick_timer_(base_.get(), [this] { on_tick(); }),
      stop_trigger_(base_.get(), [this] { event_base_loopexit(base_.get(), nullptr); }) {
  notifier.attach(inbox_index, inbox_);
}

TopicsBridge::~TopicsBridge() {
  request_stop();
  join();
}

void TopicsBridge::start() {
  heartbeat_ns_.store(steady_ns_now());
  thread_ = core::start_loop_thread("grpc-topics", [this] {
    store_.emplace(base_.get(), config_.redis, config_.topics, instance_);
    store_->start();
    tick_timer_.start_periodic(kTickInterval);
    event_base_dispatch(base_.get());
    tick_timer_.stop();
    // Waiters left answer now; the store's pending calls get their
    // kUnavailable answers as it closes, still on this thread.
    std::map<std::uint64_t, Waiter> left;
    left.swap(waiters_);
    for (auto& [id, waiter] : left) {
      if (!waiter.polling) waiter.done(topics::Outcome::kOk, {});
    }
    store_.reset();
  });
}

void TopicsBridge::post(Task task) { tasks_.post(std::move(task)); }

void TopicsBridge::drain() {
  draining_.store(true, std::memory_order_relaxed);
  post([this](topics::TopicStore&) {
    std::vector<std::uint64_t> idle;
    for (const auto& [id, waiter] : waiters_) {
      if (!waiter.polling) idle.push_back(id);
    }
    for (const std::uint64_t id : idle) {
      const PollDone done = std::move(waiters_.at(id).done);
      waiters_.erase(id);
      done(topics::Outcome::kUnavailable, {});
    }
  });
}

void TopicsBridge::request_stop() { stop_trigger_.trigger(); }

void TopicsBridge::join() {
  if (thread_.joinable()) thread_.join();
}

std::chrono::steady_clock::time_point TopicsBridge::last_heartbeat() const {
  return std::chrono::steady_clock::time_point(std::chrono::nanoseconds(heartbeat_ns_.load()));
}

void TopicsBridge::run_tasks(const std::vector<Task>& tasks) {
  for (const Task& task : tasks) {
    // One failing task must not drop the others of its batch: each of them
    // owes an RPC its answer.
    try {
      task(*store_);
    } catch (const std::exception& e) {
      core::log_error("gRPC topics task failed", {{"ERROR", e.what()}});
    }
  }
}

void TopicsBridge::poll_waiting(std::string group, topics::PollQuery query,
                                std::chrono::milliseconds wait,
                                std::shared_ptr<const std::atomic<bool>> cancelled, PollDone done) {
  if (draining()) return done(topics::Outcome::kUnavailable, {});
  const std::uint64_t id = next_waiter_++;
  Waiter& waiter = waiters_[id];
  waiter.group = std::move(group);
  waiter.query = std::move(query);
  waiter.deadline = std::chrono::steady_clock::now() + wait;
  waiter.cancelled = std::move(cancelled);
  waiter.done = std::move(done);
  poll_waiter(id);
}

void TopicsBridge::poll_waiter(std::uint64_t id) {
  Waiter& waiter = waiters_.at(id);
  waiter.polling = true;
  waiter.again = false;
  store_->poll(waiter.group, waiter.query, rotation_++,
               [this, id](topics::Outcome outcome, topics::PollResult result) {
                 on_polled(id, outcome, std::move(result));
               });
}

void TopicsBridge::on_polled(std::uint64_t id, topics::Outcome outcome, topics::PollResult result) {
  const auto found = waiters_.find(id);
  if (found == waiters_.end()) return;
  Waiter& waiter = found->second;
  waiter.polling = false;
  const bool idle = outcome == topics::Outcome::kOk && result.messages.empty();
  if (idle && draining()) outcome = topics::Outcome::kUnavailable;
  if (idle && outcome == topics::Outcome::kOk &&
      std::chrono::steady_clock::now() < waiter.deadline && !*waiter.cancelled) {
    waiter.topics = std::move(result.topics);
    if (waiter.again) poll_waiter(id);
    return;
  }
  const PollDone done = std::move(waiter.done);
  waiters_.erase(found);
  done(outcome, std::move(result));
}

void TopicsBridge::on_notified(const std::vector<std::string>& topics) {
  std::vector<std::uint64_t> wake;
  for (auto& entry : waiters_) {
    Waiter& waiter = entry.second;
    const bool follows =
        waiter.topics.empty() ||
        std::any_of(topics.begin(), topics.end(), [&waiter](const std::string& topic) {
          return std::find(waiter.topics.begin(), waiter.topics.end(), topic) !=
                 waiter.topics.end();
        });
    if (!follows) continue;
    if (waiter.polling) {
      waiter.again = true;  // its poll may have missed this one
    } else {
      wake.push_back(entry.first);
    }
  }
  for (const std::uint64_t id : wake) poll_waiter(id);
}

void TopicsBridge::on_tick() {
  heartbeat_ns_.store(steady_ns_now());
  const auto now = std::chrono::steady_clock::now();
  std::vector<std::uint64_t> recheck;
  std::vector<std::uint64_t> expired;
  for (const auto& [id, waiter] : waiters_) {
    if (waiter.polling) continue;
    if (now >= waiter.deadline || *waiter.cancelled) {
      expired.push_back(id);
    } else {
      recheck.push_back(id);
    }
  }
  for (const std::uint64_t id : expired) {
    const PollDone done = std::move(waiters_.at(id).done);
    waiters_.erase(id);
    done(topics::Outcome::kOk, {});
  }
  for (const std::uint64_t id : recheck) poll_waiter(id);
}

}  // namespace gpsrelay::grpc_api
