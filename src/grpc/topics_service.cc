// The gRPC topics service (see topics_service.h).
//
// Locking: each stream reactor guards its state with a recursive mutex.
// gRPC may run a reaction inline inside StartRead/StartWrite/Finish when
// they are called outside a reaction (from the bridge's thread), so those
// calls come last in a locked block, with the state already consistent.
#include "grpc/topics_service.h"

#include <openssl/rand.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <chrono>
#include <deque>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "topics/request_fields.h"

namespace gpsrelay::grpc_api {
namespace {

using topics::Outcome;
using topics::TopicStore;

grpc::Status status_of(Outcome outcome, const std::string& subject) {
  switch (outcome) {
    case Outcome::kOk:
      return grpc::Status::OK;
    case Outcome::kNotFound:
      return {grpc::StatusCode::NOT_FOUND, "no such topic" + subject};
    case Outcome::kExists:
      return {grpc::StatusCode::ALREADY_EXISTS, "the topic exists" + subject};
    case Outcome::kPending:
      return {grpc::StatusCode::FAILED_PRECONDITION,
              "a group has pending messages" + subject + ": ack them, or delete with force"};
    case Outcome::kNoConsumer:
      return {grpc::StatusCode::NOT_FOUND,
              "unknown consumer (never joined, left, or its session expired): subscribe again"};
    case Outcome::kUnavailable:
      break;
  }
  return {grpc::StatusCode::UNAVAILABLE, "Redis unavailable"};
}

using Clock = std::chrono::steady_clock;

// Counts one publish's answer from Redis as HTTP's publish does.
void count_publish(topics::TopicMetrics& metrics, Outcome outcome, const std::string& topic,
                   std::uint64_t bytes, Clock::time_point started) {
  if (outcome == Outcome::kNotFound) return metrics.failed(topics::PublishError::kNoTopic);
  if (outcome != Outcome::kOk) return metrics.failed(topics::PublishError::kUnavailable);
  metrics.publish_latency().observe(Clock::now() - started);
  metrics.published(topic, 1, bytes);
}

std::string named(std::string_view name) { return ": '" + std::string(name) + "'"; }

grpc::Status invalid(const topics::RequestError& error) {
  return {grpc::StatusCode::INVALID_ARGUMENT, error.message};
}

const grpc::Status kBadGroup{grpc::StatusCode::INVALID_ARGUMENT,
                             "group must be 1 to 200 characters of A-Z a-z 0-9 . _ -"};
const grpc::Status kBadTopic{grpc::StatusCode::INVALID_ARGUMENT,
                             "topic must be 1 to 200 characters of A-Z a-z 0-9 . _ -"};

// A consumer id nobody guesses: 16 random bytes, hex (as HTTP's join).
std::string new_consumer_id() {
  std::array<unsigned char, 16> bytes{};
  if (RAND_bytes(bytes.data(), static_cast<int>(bytes.size())) != 1) {
    throw std::runtime_error("RAND_bytes failed");
  }
  static constexpr char kHex[] = "0123456789abcdef";
  std::string id = "c-";
  for (const unsigned char byte : bytes) {
    id += kHex[byte >> 4];
    id += kHex[byte & 0xF];
  }
  return id;
}

topics::Parsed<topics::Message> message_of(const v1::PublishRequest& request) {
  std::vector<topics::HeaderField> headers;
  headers.reserve(request.headers().size());
  for (const auto& [name, value] : request.headers()) headers.emplace_back(name, value);
  // A map's order is unspecified; sorted, equal requests store equal text.
  std::sort(headers.begin(), headers.end());
  return topics::message_from_fields(
      {request.key(), request.value(), request.binary(), headers, request.delay_ms()});
}

void fill_delivery(const topics::StoredMessage& message, const std::string& consumer,
                   v1::Delivery& delivery) {
  delivery.set_topic(message.topic);
  delivery.set_partition(message.partition);
  delivery.set_id(message.id);
  delivery.set_key(message.key);
  delivery.set_value(message.value);
  delivery.set_binary(message.binary);
  auto& headers = *delivery.mutable_headers();
  for (auto& [name, value] : topics::headers_from_json(message.headers_json)) {
    headers[name] = std::move(value);
  }
  delivery.set_deliveries(message.deliveries);
  delivery.set_published_at_ms(message.published_at_ms);
  delivery.set_consumer_id(consumer);
}

// ---- Streaming calls ----------------------------------------------------------

// What both streaming calls share: one mutex over the call's state (gRPC
// may run a reaction inline, from inside another, hence recursive); the
// reactor owned by itself until OnDone, and by the store callbacks still
// holding it; one write at a time; and a finish that waits for the write
// under way (one sent meanwhile is dropped, and then OnDone never comes).
// Derived provides begin_locked() (the first read), written_locked() (the
// front response went), after_write_locked() (what may go on now) and
// on_finishing_locked().
template <class Derived, class Request, class Response>
class StreamReactor : public grpc::ServerBidiReactor<Request, Response> {
 public:
  // Makes the reactor; `refused` ends the call at once (a bad token).
  template <class... Args>
  static Derived* start(std::optional<grpc::Status> refused, Args&&... args) {
    // `owner` keeps it alive through this block even if gRPC ran OnDone
    // inline.
    const auto owner = std::make_shared<Derived>(std::forward<Args>(args)...);
    Derived* raw = owner.get();
    const std::lock_guard<std::recursive_mutex> lock(raw->mutex_);
    raw->self_ = owner;
    if (refused) {
      raw->finish_locked(*refused);
    } else {
      raw->begin_locked();
    }
    return raw;
  }

  void OnWriteDone(bool ok) override {
    const std::lock_guard<std::recursive_mutex> lock(mutex_);
    writing_ = false;
    derived().written_locked();
    // A finish asked for while this write was out is sent now (a failed
    // write, after a cancel, included): without it OnDone never comes.
    if (!ok) finish_locked(grpc::Status::CANCELLED);
    if (finish_status_) return send_finish_locked();
    derived().after_write_locked();
  }

  void OnCancel() override {
    const std::lock_guard<std::recursive_mutex> lock(mutex_);
    finish_locked(grpc::Status::CANCELLED);
  }

  void OnDone() override {
    // Store callbacks may still hold it; the last owner deletes it (after
    // the lock below is released).
    std::shared_ptr<Derived> last;
    const std::lock_guard<std::recursive_mutex> lock(mutex_);
    last = std::move(self_);
  }

 protected:
  void finish_locked(const grpc::Status& status) {
    if (finishing_) return;
    finishing_ = true;
    derived().on_finishing_locked();
    finish_status_ = status;
    if (!writing_) send_finish_locked();
  }

  void start_write_locked(const Response* response) {
    writing_ = true;
    this->StartWrite(response);
  }

  std::recursive_mutex mutex_;
  std::shared_ptr<Derived> self_;  // until OnDone
  bool writing_ = false;
  bool finishing_ = false;

 private:
  Derived& derived() { return static_cast<Derived&>(*this); }

  void send_finish_locked() {
    if (finish_sent_) return;
    finish_sent_ = true;
    this->Finish(*finish_status_);
  }

  bool finish_sent_ = false;
  std::optional<grpc::Status> finish_status_;
};

// ---- PublishStream ----------------------------------------------------------

class PublishStreamReactor final
    : public StreamReactor<PublishStreamReactor, v1::PublishRequest, v1::PublishResponse> {
 public:
  static PublishStreamReactor* start(TopicsBridge& bridge, topics::TopicMetrics& metrics,
                                     std::optional<grpc::Status> refused) {
    return StreamReactor::start(std::move(refused), bridge, metrics);
  }

  // Use start().
  PublishStreamReactor(TopicsBridge& bridge, topics::TopicMetrics& metrics)
      : bridge_(bridge), metrics_(metrics) {}

 private:
  friend class StreamReactor;

  // One message's answer, in request order; stays put in the deque (only
  // the front is ever removed) while a store callback fills it.
  struct Slot {
    v1::PublishResponse response;
    bool ready = false;
  };

  void OnReadDone(bool ok) override {
    const std::lock_guard<std::recursive_mutex> lock(mutex_);
    reading_ = false;
    if (!ok) {
      read_ended_ = true;
      return finish_when_answered_locked();
    }
    if (finishing_) return;
    Slot& slot = slots_.emplace_back();
    topics::Parsed<topics::Message> parsed = message_of(request_);
    if (!topics::is_valid_name(request_.topic())) {
      metrics_.failed(topics::PublishError::kInvalid);
      answer_error(slot, kBadTopic);
    } else if (const topics::RequestError* error = topics::error_of(parsed)) {
      metrics_.failed(topics::PublishError::kInvalid);
      answer_error(slot, invalid(*error));
    } else {
      bridge_.post([self = self_, at = &slot, topic = request_.topic(),
                    message = std::get<topics::Message>(std::move(parsed)),
                    started = Clock::now()](TopicStore& store) {
        store.publish(topic, std::span(&message, 1),
                      [self, at, topic, bytes = message.value.size(), started](
                          Outcome outcome, const std::vector<topics::Published>& placed) {
                        count_publish(self->metrics_, outcome, topic, bytes, started);
                        self->on_published(*at, outcome, topic, placed);
                      });
      });
    }
    write_next_locked();
    read_next_locked();
  }

  void on_published(Slot& slot, Outcome outcome, const std::string& topic,
                    const std::vector<topics::Published>& placed) {
    const std::lock_guard<std::recursive_mutex> lock(mutex_);
    if (outcome == Outcome::kOk && placed.size() == 1) {
      slot.response.set_partition(placed[0].partition);
      slot.response.set_id(placed[0].id);
      slot.ready = true;
    } else {
      answer_error(
          slot, status_of(outcome == Outcome::kOk ? Outcome::kUnavailable : outcome, named(topic)));
    }
    write_next_locked();
  }

  static void answer_error(Slot& slot, const grpc::Status& status) {
    slot.response.set_code(status.error_code());
    slot.response.set_error(status.error_message());
    slot.ready = true;
  }

  void begin_locked() {
    reading_ = true;
    StartRead(&request_);
  }

  void written_locked() { slots_.pop_front(); }

  void after_write_locked() {
    write_next_locked();
    read_next_locked();
    finish_when_answered_locked();
  }

  void on_finishing_locked() {}

  void write_next_locked() {
    if (writing_ || finishing_ || slots_.empty() || !slots_.front().ready) return;
    start_write_locked(&slots_.front().response);
  }

  // The flow control: the next message is read only while fewer than
  // kPublishInFlight wait for Redis or for their turn to be written.
  void read_next_locked() {
    if (reading_ || read_ended_ || finishing_ || slots_.size() >= kPublishInFlight) return;
    reading_ = true;
    StartRead(&request_);
  }

  void finish_when_answered_locked() {
    if (read_ended_ && slots_.empty() && !writing_) finish_locked(grpc::Status::OK);
  }

  TopicsBridge& bridge_;
  topics::TopicMetrics& metrics_;
  v1::PublishRequest request_;
  std::deque<Slot> slots_;
  bool reading_ = false;
  bool read_ended_ = false;
};

// ---- Subscribe --------------------------------------------------------------

class SubscribeReactor final
    : public StreamReactor<SubscribeReactor, v1::SubscribeRequest, v1::Delivery> {
 public:
  static SubscribeReactor* start(TopicsBridge& bridge, topics::TopicMetrics& metrics,
                                 unsigned max_poll_records, std::optional<grpc::Status> refused) {
    return StreamReactor::start(std::move(refused), bridge, metrics, max_poll_records);
  }

  // Use start().
  SubscribeReactor(TopicsBridge& bridge, topics::TopicMetrics& metrics, unsigned max_poll_records)
      : bridge_(bridge), metrics_(metrics), max_poll_records_(std::max(1U, max_poll_records)) {}

 private:
  friend class StreamReactor;

  void begin_locked() { StartRead(&request_); }

  void OnReadDone(bool ok) override {
    const std::lock_guard<std::recursive_mutex> lock(mutex_);
    // The client's half-close ends the subscription as a cancel does.
    if (!ok) return finish_locked(grpc::Status::OK);
    if (finishing_) return;
    credit_ += request_.credit();
    if (group_.empty()) {
      if (!begin_join_locked()) return;
    } else {
      maybe_poll_locked();
    }
    StartRead(&request_);
  }

  // The first request: join its group. False when refused (finished).
  bool begin_join_locked() {
    if (!topics::is_valid_name(request_.group())) {
      finish_locked(kBadGroup);
      return false;
    }
    const std::vector<std::string_view> names(request_.topics().begin(), request_.topics().end());
    topics::Parsed<topics::Join> join = topics::join_from_fields(names);
    if (const topics::RequestError* error = topics::error_of(join)) {
      finish_locked(invalid(*error));
      return false;
    }
    group_ = request_.group();
    consumer_ = new_consumer_id();
    bridge_.post([self = self_, group = group_, consumer = consumer_,
                  join = std::get<topics::Join>(std::move(join))](TopicStore& store) {
      store.join(group, consumer, join, [self](Outcome outcome, const std::string& detail) {
        self->on_joined(outcome, detail);
      });
    });
    return true;
  }

  void on_joined(Outcome outcome, const std::string& detail) {
    const std::lock_guard<std::recursive_mutex> lock(mutex_);
    if (outcome == Outcome::kOk) joined_ = true;
    if (finishing_) return leave_locked();
    if (outcome != Outcome::kOk) {
      return finish_locked(status_of(outcome, detail.empty() ? "" : named(detail)));
    }
    maybe_poll_locked();
  }

  // Polls only with credit left and nothing waiting to be written: the
  // client's credit bounds what leaves Redis for this consumer.
  void maybe_poll_locked() {
    if (!joined_ || polling_ || finishing_ || credit_ == 0 || !ready_.empty()) return;
    polling_ = true;
    topics::PollQuery query;
    query.consumer_id = consumer_;
    query.max = static_cast<unsigned>(std::min<std::uint64_t>(credit_, max_poll_records_));
    bridge_.post([self = self_, group = group_, query, cancelled = cancelled_](TopicStore&) {
      self->bridge_.poll_waiting(group, query, kSubscribeWait, cancelled,
                                 [self](Outcome outcome, const topics::PollResult& result) {
                                   self->on_polled(outcome, result);
                                 });
    });
  }

  void on_polled(Outcome outcome, const topics::PollResult& result) {
    const std::lock_guard<std::recursive_mutex> lock(mutex_);
    polling_ = false;
    if (outcome == Outcome::kOk) {
      metrics_.dead_lettered(static_cast<std::uint64_t>(result.dead_lettered));
      metrics_.redelivered(static_cast<std::uint64_t>(result.redelivered));
    }
    // Messages polled for a call that ended go again after the visibility
    // timeout: at least once, never lost.
    if (finishing_) return;
    if (outcome != Outcome::kOk) {
      return finish_locked(bridge_.draining()
                               ? grpc::Status(grpc::StatusCode::UNAVAILABLE,
                                              "gpsrelayd is shutting down: subscribe again")
                               : status_of(outcome, ""));
    }
    for (const topics::StoredMessage& message : result.messages) {
      metrics_.consumed(message.topic, group_, 1);
      fill_delivery(message, consumer_, ready_.emplace_back());
      if (credit_ > 0) --credit_;
    }
    write_next_locked();
    maybe_poll_locked();
  }

  void write_next_locked() {
    if (writing_ || finishing_ || ready_.empty()) return;
    start_write_locked(&ready_.front());
  }

  void written_locked() { ready_.pop_front(); }

  void after_write_locked() {
    write_next_locked();
    maybe_poll_locked();
  }

  void on_finishing_locked() {
    // A parked poll answers at its next check instead of at its deadline.
    cancelled_->store(true);
    leave_locked();
  }

  // Leaves the group once joined: its pending messages go to the others
  // after the visibility timeout, without waiting for the session to expire.
  void leave_locked() {
    if (!joined_ || left_) return;
    left_ = true;
    bridge_.post([group = group_, consumer = consumer_](TopicStore& store) {
      store.leave(group, consumer, [](Outcome) {});
    });
  }

  TopicsBridge& bridge_;
  topics::TopicMetrics& metrics_;
  const unsigned max_poll_records_;
  const std::shared_ptr<std::atomic<bool>> cancelled_ = std::make_shared<std::atomic<bool>>(false);
  v1::SubscribeRequest request_;
  std::string group_;
  std::string consumer_;
  std::uint64_t credit_ = 0;  // Deliveries the client granted and did not get yet
  std::deque<v1::Delivery> ready_;
  bool joined_ = false;
  bool left_ = false;
  bool polling_ = false;
};

// The service and its bridge, as the GrpcModule drives them.
class TopicsGrpcService final : public GrpcService {
 public:
  TopicsGrpcService(const core::Config& config, std::string instance,
                    topics::TopicNotifier& notifier, std::size_t inbox_index,
                    topics::TopicMetrics& metrics, const TokenSlot* write_tokens,
                    const TokenSlot* read_tokens)
      : bridge_(config, std::move(instance), notifier, inbox_index),
        service_(bridge_, config.topics, metrics, write_tokens, read_tokens) {}

  std::string_view name() const override { return "topics"; }
  grpc::Service& service() override { return service_; }
  void start() override { bridge_.start(); }
  // Open Subscribe calls end now (their clients reconnect elsewhere); the
  // bridge keeps answering while the server winds down: every call in
  // flight needs its store callback to finish.
  void drain() override { bridge_.drain(); }
  void stop() override {
    bridge_.request_stop();
    bridge_.join();
  }
  bool alive(std::chrono::steady_clock::time_point now,
             std::chrono::steady_clock::duration limit) const override {
    return now - bridge_.last_heartbeat() < limit;
  }

 private:
  TopicsBridge bridge_;
  TopicsService service_;
};

}  // namespace

std::unique_ptr<GrpcService> make_topics_service(const core::Config& config, std::string instance,
                                                 topics::TopicNotifier& notifier,
                                                 std::size_t inbox_index,
                                                 topics::TopicMetrics& metrics,
                                                 const TokenSlot* write_tokens,
                                                 const TokenSlot* read_tokens) {
  return std::make_unique<TopicsGrpcService>(config, std::move(instance), notifier, inbox_index,
                                             metrics, write_tokens, read_tokens);
}

TopicsService::TopicsService(TopicsBridge& bridge, const core::TopicsConfig& config,
                             topics::TopicMetrics& metrics, const TokenSlot* write_tokens,
                             const TokenSlot* read_tokens)
    : bridge_(bridge),
      metrics_(metrics),
      max_poll_records_(config.max_poll_records),
      write_tokens_(write_tokens),
      read_tokens_(read_tokens) {}

grpc::ServerUnaryReactor* TopicsService::CreateTopic(grpc::CallbackServerContext* context,
                                                     const v1::CreateTopicRequest* request,
                                                     v1::CreateTopicResponse* response) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  if (refused(*context, write_tokens_, reactor)) return reactor;
  topics::Parsed<topics::CreateTopic> parsed =
      topics::create_from_fields(request->name(), request->partitions(), request->retention_ms());
  if (const topics::RequestError* error = topics::error_of(parsed)) {
    reactor->Finish(invalid(*error));
    return reactor;
  }
  bridge_.post([reactor, response,
                topic = std::get<topics::CreateTopic>(std::move(parsed))](TopicStore& store) {
    store.create(topic, [reactor, response, topic](Outcome outcome) {
      if (outcome == Outcome::kOk) {
        response->set_name(topic.name);
        response->set_partitions(topic.partitions);
      }
      reactor->Finish(status_of(outcome, named(topic.name)));
    });
  });
  return reactor;
}

grpc::ServerUnaryReactor* TopicsService::DeleteTopic(grpc::CallbackServerContext* context,
                                                     const v1::DeleteTopicRequest* request,
                                                     v1::DeleteTopicResponse* /*response*/) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  if (refused(*context, write_tokens_, reactor)) return reactor;
  if (!topics::is_valid_name(request->name())) {
    reactor->Finish(kBadTopic);
    return reactor;
  }
  bridge_.post([reactor, name = request->name(), force = request->force()](TopicStore& store) {
    store.remove(name, force, [reactor, name](Outcome outcome) {
      reactor->Finish(status_of(outcome, named(name)));
    });
  });
  return reactor;
}

grpc::ServerUnaryReactor* TopicsService::ListTopics(grpc::CallbackServerContext* context,
                                                    const v1::ListTopicsRequest* /*request*/,
                                                    v1::ListTopicsResponse* response) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  if (refused(*context, read_tokens_, reactor)) return reactor;
  bridge_.post([reactor, response](TopicStore& store) {
    store.list([reactor, response](Outcome outcome, const std::vector<topics::TopicInfo>& found) {
      for (const topics::TopicInfo& info : found) {
        v1::TopicInfo& topic = *response->add_topics();
        topic.set_name(info.name);
        topic.set_partitions(info.partitions);
        topic.set_retention_ms(static_cast<std::uint64_t>(info.retention.count()));
        topic.set_created_at_ms(info.created_ms);
      }
      reactor->Finish(status_of(outcome, ""));
    });
  });
  return reactor;
}

grpc::ServerUnaryReactor* TopicsService::Publish(grpc::CallbackServerContext* context,
                                                 const v1::PublishRequest* request,
                                                 v1::PublishResponse* response) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  if (refused(*context, write_tokens_, reactor)) return reactor;
  if (!topics::is_valid_name(request->topic())) {
    metrics_.failed(topics::PublishError::kInvalid);
    reactor->Finish(kBadTopic);
    return reactor;
  }
  topics::Parsed<topics::Message> parsed = message_of(*request);
  if (const topics::RequestError* error = topics::error_of(parsed)) {
    metrics_.failed(topics::PublishError::kInvalid);
    reactor->Finish(invalid(*error));
    return reactor;
  }
  bridge_.post([this, reactor, response, topic = request->topic(),
                message = std::get<topics::Message>(std::move(parsed)),
                started = Clock::now()](TopicStore& store) {
    store.publish(topic, std::span(&message, 1),
                  [this, reactor, response, topic, bytes = message.value.size(), started](
                      Outcome outcome, const std::vector<topics::Published>& placed) {
                    count_publish(metrics_, outcome, topic, bytes, started);
                    if (outcome == Outcome::kOk && placed.size() == 1) {
                      response->set_partition(placed[0].partition);
                      response->set_id(placed[0].id);
                      return reactor->Finish(grpc::Status::OK);
                    }
                    reactor->Finish(status_of(
                        outcome == Outcome::kOk ? Outcome::kUnavailable : outcome, named(topic)));
                  });
  });
  return reactor;
}

grpc::ServerBidiReactor<v1::PublishRequest, v1::PublishResponse>* TopicsService::PublishStream(
    grpc::CallbackServerContext* context) {
  return PublishStreamReactor::start(bridge_, metrics_, refusal(*context, write_tokens_));
}

grpc::ServerBidiReactor<v1::SubscribeRequest, v1::Delivery>* TopicsService::Subscribe(
    grpc::CallbackServerContext* context) {
  return SubscribeReactor::start(bridge_, metrics_, max_poll_records_,
                                 refusal(*context, read_tokens_));
}

grpc::ServerUnaryReactor* TopicsService::Ack(grpc::CallbackServerContext* context,
                                             const v1::AckRequest* request,
                                             v1::AckResponse* response) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  if (refused(*context, read_tokens_, reactor)) return reactor;
  if (!topics::is_valid_name(request->group())) {
    reactor->Finish(kBadGroup);
    return reactor;
  }
  std::vector<topics::RefFields> refs;
  refs.reserve(static_cast<std::size_t>(request->refs_size()));
  for (const v1::MessageRef& ref : request->refs()) {
    refs.push_back({ref.topic(), ref.partition(), ref.id()});
  }
  topics::Parsed<topics::AckRequest> parsed = topics::ack_from_fields(request->consumer_id(), refs);
  if (const topics::RequestError* error = topics::error_of(parsed)) {
    reactor->Finish(invalid(*error));
    return reactor;
  }
  bridge_.post([this, reactor, response, group = request->group(),
                ack = std::get<topics::AckRequest>(std::move(parsed))](TopicStore& store) {
    store.acknowledge(group, ack, /*nack=*/false,
                      [this, reactor, response](Outcome outcome, std::int64_t acked) {
                        if (outcome == Outcome::kOk) {
                          metrics_.settled(false, static_cast<std::uint64_t>(acked));
                        }
                        response->set_acked(acked);
                        reactor->Finish(status_of(outcome, ""));
                      });
  });
  return reactor;
}

grpc::ServerUnaryReactor* TopicsService::Commit(grpc::CallbackServerContext* context,
                                                const v1::CommitRequest* request,
                                                v1::AckResponse* response) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  if (refused(*context, read_tokens_, reactor)) return reactor;
  if (!topics::is_valid_name(request->group())) {
    reactor->Finish(kBadGroup);
    return reactor;
  }
  topics::Parsed<topics::CommitRequest> parsed = topics::commit_from_fields(
      request->consumer_id(), {request->topic(), request->partition(), request->id()});
  if (const topics::RequestError* error = topics::error_of(parsed)) {
    reactor->Finish(invalid(*error));
    return reactor;
  }
  bridge_.post([this, reactor, response, group = request->group(),
                commit = std::get<topics::CommitRequest>(std::move(parsed))](TopicStore& store) {
    store.commit(group, commit, [this, reactor, response](Outcome outcome, std::int64_t acked) {
      if (outcome == Outcome::kOk) metrics_.settled(false, static_cast<std::uint64_t>(acked));
      response->set_acked(acked);
      reactor->Finish(status_of(outcome, ""));
    });
  });
  return reactor;
}

}  // namespace gpsrelay::grpc_api
