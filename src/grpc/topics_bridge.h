// TopicsBridge: how the gRPC topics service reaches Redis without blocking
// gRPC's threads or sharing an HTTP worker's connection. One event-loop
// thread ("grpc-topics") owns a topics::TopicStore (its own Redis
// connection, built on that thread); RPC handlers post tasks from gRPC's
// threads, each task calls the store, and the store's answer comes back on
// this thread, where the handler finishes its RPC (the callback API's
// Finish and StartWrite may be called from any thread).
//
// It also waits for messages on behalf of Subscribe calls as HTTP's
// long-poll does: an empty poll parks until the topics notifier names one
// of the group's topics, or the once-a-second recheck, or the deadline; so
// a waiting subscriber holds no Redis connection and does not spin.
//
// It knows nothing of gRPC or protobuf types; the service does.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "core/config.h"
#include "core/event_loop.h"
#include "core/mailbox.h"
#include "topics/topic_notifier.h"
#include "topics/topic_store.h"

namespace gpsrelay::grpc_api {

class TopicsBridge {
 public:
  using Task = std::function<void(topics::TopicStore&)>;
  using PollDone = std::function<void(topics::Outcome, topics::PollResult)>;

  // Attaches its inbox to `notifier` as worker `inbox_index` (the notifier
  // must have room for it and be started after this).
  TopicsBridge(const core::Config& config, std::string instance, topics::TopicNotifier& notifier,
               std::size_t inbox_index);
  ~TopicsBridge();
  TopicsBridge(const TopicsBridge&) = delete;
  TopicsBridge& operator=(const TopicsBridge&) = delete;

  void start();
  // From any thread: `task` runs on the bridge's thread, in posting order.
  // REQUIRES: posted before request_stop(); a task left then is dropped.
  void post(Task task);
  // On the bridge's thread (from a task): polls `group`; when nothing is
  // there, polls again on a notification or recheck until `wait` has
  // passed, then answers with no messages. Answers exactly once (at once,
  // without polling again, when *cancelled turns true). A poll renews the
  // consumer's session.
  void poll_waiting(std::string group, topics::PollQuery query, std::chrono::milliseconds wait,
                    std::shared_ptr<const std::atomic<bool>> cancelled, PollDone done);

  // From any thread, at shutdown: waiting polls answer kUnavailable now,
  // and so does every poll after, so open Subscribe calls end at once
  // instead of holding the server's shutdown grace. Other calls go on.
  void drain();
  bool draining() const { return draining_.load(std::memory_order_relaxed); }

  // From any thread.
  void request_stop();
  void join();
  std::chrono::steady_clock::time_point last_heartbeat() const;

 private:
  struct Waiter {
    std::string group;
    topics::PollQuery query;
    std::chrono::steady_clock::time_point deadline;
    std::shared_ptr<const std::atomic<bool>> cancelled;
    PollDone done;
    std::vector<std::string> topics;  // the group's, known after its first poll
    bool polling = false;
    bool again = false;  // a notification came while polling
  };

  void run_tasks(const std::vector<Task>& tasks);
  void poll_waiter(std::uint64_t id);
  void on_polled(std::uint64_t id, topics::Outcome outcome, topics::PollResult result);
  void on_notified(const std::vector<std::string>& topics);
  void on_tick();

  const core::Config config_;
  const std::string instance_;
  core::EventBasePtr base_;
  // Built and destroyed on the bridge's thread.
  std::optional<topics::TopicStore> store_;
  core::Mailbox<Task> tasks_;
  topics::TopicInbox inbox_;
  core::Timer tick_timer_;
  core::CrossThreadTrigger stop_trigger_;
  std::map<std::uint64_t, Waiter> waiters_;
  std::uint64_t next_waiter_ = 0;
  std::uint64_t rotation_ = 0;
  std::atomic<bool> draining_{false};
  std::atomic<std::int64_t> heartbeat_ns_{0};
  std::thread thread_;
};

}  // namespace gpsrelay::grpc_api
