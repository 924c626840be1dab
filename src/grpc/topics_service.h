// TopicsService: the gRPC topics service (proto/gpsrelay/topics/v1/
// topics.proto) on the callback API. It checks tokens and requests (with
// topics/request_fields.h, the HTTP API's rules), posts the store call to
// the TopicsBridge's thread and finishes the RPC from the store's answer;
// it never blocks a gRPC thread on Redis.
//
// Streams: PublishStream keeps at most kPublishInFlight messages between
// read and answered (it reads the next only below that bound), answering in
// request order. Subscribe joins the group when the first request comes,
// polls only while the client has credit left (at most that many messages,
// and max_poll_records), writes one Delivery at a time, and leaves the
// group when the call ends. Their reactors own their state; a reactor
// lives until OnDone and until the last bridge callback holding it
// returned, whichever is later.
#pragma once

#include <cstddef>
#include <memory>
#include <string>

#include "core/config.h"
#include "gpsrelay/topics/v1/topics.grpc.pb.h"
#include "grpc/call_auth.h"
#include "grpc/grpc_service.h"
#include "grpc/topics_bridge.h"
#include "topics/topic_metrics.h"

namespace gpsrelay::grpc_api {

namespace v1 = ::gpsrelay::topics::v1;

// Messages of one PublishStream read but not yet answered.
inline constexpr std::size_t kPublishInFlight = 64;
// How long one Subscribe poll waits for messages before it polls again
// (each poll renews the consumer's session).
inline constexpr std::chrono::milliseconds kSubscribeWait{5000};

class TopicsService final : public v1::Topics::CallbackService {
 public:
  // `write_tokens`/`read_tokens`: nullptr when no such tokens are
  // configured (then those calls need none).
  // `metrics`: where published, consumed and settled messages count
  // (the topics module's counters, shared with HTTP).
  TopicsService(TopicsBridge& bridge, const core::TopicsConfig& config,
                topics::TopicMetrics& metrics, const TokenSlot* write_tokens,
                const TokenSlot* read_tokens);

  grpc::ServerUnaryReactor* CreateTopic(grpc::CallbackServerContext* context,
                                        const v1::CreateTopicRequest* request,
                                        v1::CreateTopicResponse* response) override;
  grpc::ServerUnaryReactor* DeleteTopic(grpc::CallbackServerContext* context,
                                        const v1::DeleteTopicRequest* request,
                                        v1::DeleteTopicResponse* response) override;
  grpc::ServerUnaryReactor* ListTopics(grpc::CallbackServerContext* context,
                                       const v1::ListTopicsRequest* request,
                                       v1::ListTopicsResponse* response) override;
  grpc::ServerUnaryReactor* Publish(grpc::CallbackServerContext* context,
                                    const v1::PublishRequest* request,
                                    v1::PublishResponse* response) override;
  grpc::ServerBidiReactor<v1::PublishRequest, v1::PublishResponse>* PublishStream(
      grpc::CallbackServerContext* context) override;
  grpc::ServerBidiReactor<v1::SubscribeRequest, v1::Delivery>* Subscribe(
      grpc::CallbackServerContext* context) override;
  grpc::ServerUnaryReactor* Ack(grpc::CallbackServerContext* context, const v1::AckRequest* request,
                                v1::AckResponse* response) override;
  grpc::ServerUnaryReactor* Commit(grpc::CallbackServerContext* context,
                                   const v1::CommitRequest* request,
                                   v1::AckResponse* response) override;

 private:
  TopicsBridge& bridge_;
  topics::TopicMetrics& metrics_;
  const unsigned max_poll_records_;
  const TokenSlot* const write_tokens_;
  const TokenSlot* const read_tokens_;
};

// The topics service with the bridge thread ("grpc-topics") that serves it
// from Redis, for the GrpcModule. `notifier`: the topics module's, with
// room for an inbox at `inbox_index`; it must be joined before this is
// destroyed. `metrics`: the topics module's counters (gRPC calls count as
// HTTP's do). On drain() open Subscribe calls end with UNAVAILABLE; the
// bridge keeps answering until stop(), after the server ended every call.
std::unique_ptr<GrpcService> make_topics_service(const core::Config& config, std::string instance,
                                                 topics::TopicNotifier& notifier,
                                                 std::size_t inbox_index,
                                                 topics::TopicMetrics& metrics,
                                                 const TokenSlot* write_tokens,
                                                 const TokenSlot* read_tokens);

}  // namespace gpsrelay::grpc_api
