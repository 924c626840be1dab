// TopicHandler: the topics endpoints on one HTTP worker thread (CONTRACT.md,
// "Topics"): create, list, describe and delete topics, publish one message
// or a batch, and the consumer groups' join, heartbeat, leave, poll, ack,
// nack and commit. Bodies are checked by topic_requests.h before anything
// goes to Redis; a publish is answered once Redis has every message.
//
// A poll with `wait` that finds nothing is parked here, holding no Redis
// connection: it polls again when the notifier says one of its group's
// topics got messages, once a second for redeliveries (visibility timeouts
// run out without a publish), and is answered empty at its deadline.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "core/config.h"
#include "core/event_loop.h"
#include "http/request_handler.h"
#include "topics/topic_metrics.h"
#include "topics/topic_notifier.h"
#include "topics/topic_store.h"

namespace gpsrelay::topics {

enum TopicRoute : int {
  kCreateTopic,
  kListTopics,
  kGetTopic,
  kDeleteTopic,
  kPublish,
  kPublishBatch,
  kJoin,
  kHeartbeat,
  kLeave,
  kPoll,
  kAck,
  kNack,
  kCommit,
  kCluster,
};

void add_topic_routes(http::RouteTable& routes);

class TopicHandler : public http::RequestHandler {
 public:
  // `instance` names this gpsrelayd (in consumers' sessions, the cluster view).
  TopicHandler(const http::WorkerServices& services, const core::Config& config,
               TopicMetrics& metrics, TopicNotifier& notifier, const std::string& instance);

  void start() override;
  void handle(int route, http::Exchange& exchange) override;
  // Parked polls are answered with what they have (nothing) at once.
  void drain() override;

 private:
  struct Waiter {
    std::shared_ptr<http::HeldRequest> request;
    std::string group;
    PollQuery query;
    std::chrono::steady_clock::time_point deadline;
    std::vector<std::string> topics;  // the group's, from its last poll
    bool polling = false;             // a poll of it is at Redis
    bool again = false;               // notified meanwhile: poll once more
  };

  void create(http::Exchange& exchange);
  void list(http::Exchange& exchange);
  void describe(http::Exchange& exchange);
  void remove(http::Exchange& exchange);
  void publish(http::Exchange& exchange, bool batch);
  void join(http::Exchange& exchange, const std::string& group);
  void heartbeat_or_leave(http::Exchange& exchange, const std::string& group, bool leave);
  void poll(http::Exchange& exchange, const std::string& group);
  void acknowledge(http::Exchange& exchange, const std::string& group, bool nack);
  void commit(http::Exchange& exchange, const std::string& group);
  void cluster(http::Exchange& exchange);

  void poll_waiter(std::uint64_t id);
  void on_polled(std::uint64_t id, Outcome outcome, PollResult result);
  void on_notified(const std::vector<std::string>& topics);
  void on_tick();

  const core::TopicsConfig config_;
  TopicMetrics& metrics_;
  // Before the store: its lost replies (at shutdown) still find them.
  std::unordered_map<std::uint64_t, Waiter> waiters_;
  std::uint64_t next_waiter_ = 1;
  std::uint64_t rotation_ = 0;
  unsigned ticks_ = 0;
  bool draining_ = false;
  TopicStore store_;
  TopicInbox inbox_;
  core::Timer tick_timer_;
};

}  // namespace gpsrelay::topics
