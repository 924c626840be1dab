// TopicsModule: the pull-consumer queue API as a module of gpsrelayd
// ([topics] enabled = true): its routes under /v1/, a TopicHandler (with
// its own Redis connection) per HTTP worker, the notifier thread (publish
// notifications, delayed messages), its counters. Topics, groups and
// delivery state live in Redis; the module keeps none of its own.
#pragma once

#include <memory>

#include "core/config.h"
#include "daemon/module.h"
#include "topics/topic_metrics.h"
#include "topics/topic_notifier.h"

namespace gpsrelay::topics {

class TopicsModule : public daemon::Module {
 public:
  // `instance` names this gpsrelayd to the others (the consumer name).
  // `extra_inboxes`: notification inboxes beyond the HTTP workers' (the
  // gRPC service's), attached at indexes http.threads and up.
  TopicsModule(const core::Config& config, std::string instance, queue::LeaseKeeper& leases,
               std::size_t extra_inboxes = 0);

  // For the other front ends of the topics (gRPC) to attach their inboxes.
  TopicNotifier& notifier() { return notifier_; }
  // For them to count into the same families of /metrics.
  TopicMetrics& metrics() { return metrics_; }

  std::string_view name() const override { return "topics"; }
  void add_routes(http::RouteTable& routes) const override;
  std::unique_ptr<http::RequestHandler> make_handler(const http::WorkerServices& services) override;

  void start() override { notifier_.start(); }
  void request_stop() override { notifier_.request_stop(); }
  void join() override { notifier_.join(); }
  bool alive(std::chrono::steady_clock::time_point now,
             std::chrono::steady_clock::duration limit) const override {
    return now - notifier_.last_heartbeat() < limit;
  }
  void add_health(http::HealthSnapshot& snapshot) const override;
  void render_metrics(std::string& out) const override;

 private:
  const core::Config config_;
  const std::string instance_;
  TopicMetrics metrics_;
  TopicNotifier notifier_;
};

}  // namespace gpsrelay::topics
