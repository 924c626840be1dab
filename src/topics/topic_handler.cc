// The topics endpoints of one worker (see topic_handler.h).
#include "topics/topic_handler.h"

#include <openssl/rand.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <memory>
#include <stdexcept>
#include <variant>

#include "core/hex.h"
#include "core/json_handle.h"
#include "core/units.h"
#include "locations/location_record.h"

namespace gpsrelay::topics {
namespace {

// std::function wants a copyable callback; a held request is not.
std::shared_ptr<http::HeldRequest> held(http::Exchange& exchange) {
  return std::make_shared<http::HeldRequest>(exchange.hold());
}

// The {topic} of the path; nullopt (after answering 400) if it is no name.
std::optional<std::string> topic_param(http::Exchange& exchange) {
  const std::string_view name = exchange.route().param("topic").value_or("");
  if (!is_valid_name(name)) {
    exchange.reply_error(400, "topic must be 1 to 200 characters of A-Z a-z 0-9 . _ -");
    return std::nullopt;
  }
  return std::string(name);
}

// ?force=true (or 1) among the query's parameters.
bool forced(std::string_view query) {
  while (!query.empty()) {
    const std::size_t amp = query.find('&');
    const std::string_view pair = query.substr(0, amp);
    if (pair == "force=true" || pair == "force=1") return true;
    query = amp == std::string_view::npos ? std::string_view() : query.substr(amp + 1);
  }
  return false;
}

// Parked polls: deadlines checked this often; a poll again every
// kRecheckTicks for redeliveries nobody publishes about.
constexpr std::chrono::milliseconds kTickInterval{100};
constexpr unsigned kRecheckTicks = 10;

void answer_unavailable(http::HeldRequest& request) {
  request.reply_error(503, "Redis unavailable");
}

void answer_no_consumer(http::HeldRequest& request) {
  request.reply_error(404,
                      "unknown consumer (never joined, left, or its session expired): join again");
}

// A consumer id nobody guesses: 16 random bytes, hex.
std::string new_consumer_id() {
  std::array<unsigned char, 16> bytes{};
  if (RAND_bytes(bytes.data(), static_cast<int>(bytes.size())) != 1) {
    throw std::runtime_error("RAND_bytes failed");
  }
  return "c-" + core::hex(bytes);
}

std::string topic_json(const TopicInfo& info) {
  return "{\"name\":" + core::json_quote(info.name) +
         ",\"partitions\":" + std::to_string(info.partitions) +
         ",\"retention\":" + core::json_quote(core::format_duration(info.retention));
}

}  // namespace

void add_topic_routes(http::RouteTable& routes) {
  using http::Method;
  using http::RouteKind;
  // Writes take the device (producer) tokens and stop while draining, as
  // report ingest does; reads take the read tokens.
  routes.add(Method::kPost, "/v1/topics", kCreateTopic, RouteKind::kIngest);
  routes.add(Method::kGet, "/v1/topics", kListTopics, RouteKind::kRead);
  routes.add(Method::kGet, "/v1/topics/{topic}", kGetTopic, RouteKind::kRead);
  routes.add(Method::kDelete, "/v1/topics/{topic}", kDeleteTopic, RouteKind::kIngest);
  routes.add(Method::kPost, "/v1/topics/{topic}/publish", kPublish, RouteKind::kIngest);
  routes.add(Method::kPost, "/v1/topics/{topic}/batch", kPublishBatch, RouteKind::kIngest);
  // Consuming is reading (read tokens); it goes on while draining, so
  // workers can ack what they hold.
  routes.add(Method::kPost, "/v1/groups/{group}/join", kJoin, RouteKind::kRead);
  routes.add(Method::kPost, "/v1/groups/{group}/heartbeat", kHeartbeat, RouteKind::kRead);
  routes.add(Method::kPost, "/v1/groups/{group}/leave", kLeave, RouteKind::kRead);
  routes.add(Method::kGet, "/v1/groups/{group}/poll", kPoll, RouteKind::kRead);
  routes.add(Method::kPost, "/v1/groups/{group}/ack", kAck, RouteKind::kRead);
  routes.add(Method::kPost, "/v1/groups/{group}/nack", kNack, RouteKind::kRead);
  routes.add(Method::kPost, "/v1/groups/{group}/commit", kCommit, RouteKind::kRead);
  // Names consumers (whose ids let one ack for them): a read, with tokens.
  routes.add(Method::kGet, "/v1/admin/cluster", kCluster, RouteKind::kRead);
}

TopicHandler::TopicHandler(const http::WorkerServices& services, const core::Config& config,
                           TopicMetrics& metrics, TopicNotifier& notifier,
                           const std::string& instance)
    : config_(config.topics),
      metrics_(metrics),
      store_(services.base, config.redis, config.topics, instance),
      inbox_(services.base,
             [this](const std::vector<std::string>& topics) { on_notified(topics); }),
      tick_timer_(services.base, [this] { on_tick(); }) {
  notifier.attach(services.index, inbox_);
}

void TopicHandler::start() {
  store_.start();
  tick_timer_.start_periodic(kTickInterval);
}

void TopicHandler::handle(int route, http::Exchange& exchange) {
  if (route == kCluster) return cluster(exchange);
  if (route >= kJoin) {
    const std::string_view group = exchange.route().param("group").value_or("");
    if (!is_valid_name(group)) {
      return exchange.reply_error(400, "group must be 1 to 200 characters of A-Z a-z 0-9 . _ -");
    }
    const std::string name(group);
    switch (static_cast<TopicRoute>(route)) {
      case kJoin:
        return join(exchange, name);
      case kHeartbeat:
        return heartbeat_or_leave(exchange, name, false);
      case kLeave:
        return heartbeat_or_leave(exchange, name, true);
      case kPoll:
        return poll(exchange, name);
      case kAck:
        return acknowledge(exchange, name, false);
      case kNack:
        return acknowledge(exchange, name, true);
      case kCommit:
        return commit(exchange, name);
      default:
        break;
    }
  }
  switch (static_cast<TopicRoute>(route)) {
    case kCreateTopic:
      return create(exchange);
    case kListTopics:
      return list(exchange);
    case kGetTopic:
      return describe(exchange);
    case kDeleteTopic:
      return remove(exchange);
    case kPublish:
      return publish(exchange, false);
    case kPublishBatch:
      return publish(exchange, true);
    default:
      return;
  }
}

void TopicHandler::create(http::Exchange& exchange) {
  auto parsed = parse_create_topic(exchange.body());
  if (const auto* error = std::get_if<RequestError>(&parsed)) {
    return exchange.reply_error(error->status, error->message);
  }
  const CreateTopic topic = std::get<CreateTopic>(std::move(parsed));
  store_.create(topic, [request = held(exchange), topic](Outcome outcome) {
    switch (outcome) {
      case Outcome::kOk:
        return request->reply(201, "{\"name\":" + core::json_quote(topic.name) +
                                       ",\"partitions\":" + std::to_string(topic.partitions) + "}");
      case Outcome::kExists:
        return request->reply_error(409, "topic " + topic.name + " exists");
      default:
        return answer_unavailable(*request);
    }
  });
}

void TopicHandler::list(http::Exchange& exchange) {
  store_.list([request = held(exchange)](Outcome outcome, std::vector<TopicInfo> topics) {
    if (outcome != Outcome::kOk) return answer_unavailable(*request);
    std::string body = "{\"topics\":[";
    for (std::size_t i = 0; i < topics.size(); ++i) {
      if (i > 0) body += ',';
      body += topic_json(topics[i]) + "}";
    }
    body += "]}";
    request->reply(200, body);
  });
}

void TopicHandler::describe(http::Exchange& exchange) {
  const std::optional<std::string> name = topic_param(exchange);
  if (!name) return;
  store_.describe(*name, [request = held(exchange)](Outcome outcome, TopicDetail detail) {
    if (outcome == Outcome::kNotFound) return request->reply_error(404, "no such topic");
    if (outcome != Outcome::kOk) return answer_unavailable(*request);
    std::string body =
        topic_json(detail.info) + ",\"length\":" + std::to_string(detail.length) + ",\"groups\":[";
    for (std::size_t i = 0; i < detail.groups.size(); ++i) {
      const GroupInfo& group = detail.groups[i];
      if (i > 0) body += ',';
      body += "{\"name\":" + core::json_quote(group.name) +
              ",\"lag\":" + std::to_string(group.lag) +
              ",\"pending\":" + std::to_string(group.pending) + "}";
    }
    body += "]}";
    request->reply(200, body);
  });
}

void TopicHandler::remove(http::Exchange& exchange) {
  const std::optional<std::string> name = topic_param(exchange);
  if (!name) return;
  const bool force = forced(exchange.query());
  store_.remove(*name, force, [request = held(exchange)](Outcome outcome) {
    switch (outcome) {
      case Outcome::kOk:
        return request->reply(204, {});
      case Outcome::kNotFound:
        return request->reply_error(404, "no such topic");
      case Outcome::kPending:
        return request->reply_error(
            409, "a consumer group has pending messages; delete with ?force=true to drop them");
      default:
        return answer_unavailable(*request);
    }
  });
}

void TopicHandler::publish(http::Exchange& exchange, bool batch) {
  const std::optional<std::string> name = topic_param(exchange);
  if (!name) return;
  std::vector<Message> messages;
  auto refuse = [&](const RequestError& error) {
    metrics_.failed(error.status == 413 ? PublishError::kTooLarge : PublishError::kInvalid);
    exchange.reply_error(error.status, error.message);
  };
  if (batch) {
    auto parsed = parse_batch(exchange.body());
    if (const auto* error = std::get_if<RequestError>(&parsed)) return refuse(*error);
    messages = std::get<std::vector<Message>>(std::move(parsed));
  } else {
    auto parsed = parse_message(exchange.body());
    if (const auto* error = std::get_if<RequestError>(&parsed)) return refuse(*error);
    messages.push_back(std::get<Message>(std::move(parsed)));
  }
  std::uint64_t bytes = 0;
  for (const Message& message : messages) bytes += message.value.size();
  const auto started = std::chrono::steady_clock::now();
  store_.publish(*name, messages,
                 [this, request = held(exchange), topic = *name, batch, bytes, started](
                     Outcome outcome, std::vector<Published> published) {
                   if (outcome == Outcome::kNotFound) {
                     metrics_.failed(PublishError::kNoTopic);
                     return request->reply_error(404, "no such topic");
                   }
                   if (outcome != Outcome::kOk) {
                     metrics_.failed(PublishError::kUnavailable);
                     return answer_unavailable(*request);
                   }
                   metrics_.publish_latency().observe(std::chrono::steady_clock::now() - started);
                   metrics_.published(topic, published.size(), bytes);
                   if (!batch && published.size() == 1) {
                     return request->reply(201,
                                           published_json(published[0].partition, published[0].id));
                   }
                   std::vector<std::pair<unsigned, std::string>> results;
                   results.reserve(published.size());
                   for (Published& p : published)
                     results.emplace_back(p.partition, std::move(p.id));
                   request->reply(201, batch_published_json(results));
                 });
}

void TopicHandler::join(http::Exchange& exchange, const std::string& group) {
  auto parsed = parse_join(exchange.body());
  if (const auto* error = error_of(parsed))
    return exchange.reply_error(error->status, error->message);
  const std::string consumer = new_consumer_id();
  store_.join(group, consumer, std::get<Join>(parsed),
              [request = held(exchange), consumer](Outcome outcome, const std::string& missing) {
                if (outcome == Outcome::kNotFound) {
                  return request->reply_error(404, "no such topic: " + missing);
                }
                if (outcome != Outcome::kOk) return answer_unavailable(*request);
                request->reply(200, "{\"consumer_id\":" + core::json_quote(consumer) + "}");
              });
}

void TopicHandler::heartbeat_or_leave(http::Exchange& exchange, const std::string& group,
                                      bool leave) {
  auto parsed = parse_consumer_ref(exchange.body());
  if (const auto* error = error_of(parsed))
    return exchange.reply_error(error->status, error->message);
  auto answer = [request = held(exchange)](Outcome outcome) {
    if (outcome == Outcome::kNoConsumer) return answer_no_consumer(*request);
    if (outcome != Outcome::kOk) return answer_unavailable(*request);
    request->reply(204, {});
  };
  const std::string& consumer = std::get<ConsumerRef>(parsed).consumer_id;
  if (leave) {
    store_.leave(group, consumer, std::move(answer));
  } else {
    store_.heartbeat(group, consumer, std::move(answer));
  }
}

void TopicHandler::poll(http::Exchange& exchange, const std::string& group) {
  auto parsed = parse_poll_query(exchange.query(), config_.max_poll_records);
  if (const auto* error = error_of(parsed))
    return exchange.reply_error(error->status, error->message);
  const PollQuery query = std::get<PollQuery>(std::move(parsed));
  const std::uint64_t id = next_waiter_++;
  Waiter& waiter = waiters_[id];
  waiter.request = held(exchange);
  waiter.group = group;
  waiter.query = query;
  waiter.deadline = std::chrono::steady_clock::now() + query.wait;
  poll_waiter(id);
}

void TopicHandler::poll_waiter(std::uint64_t id) {
  Waiter& waiter = waiters_.at(id);
  waiter.polling = true;
  waiter.again = false;
  store_.poll(waiter.group, waiter.query, rotation_++,
              [this, id](Outcome outcome, PollResult result) {
                on_polled(id, outcome, std::move(result));
              });
}

void TopicHandler::on_polled(std::uint64_t id, Outcome outcome, PollResult result) {
  const auto found = waiters_.find(id);
  if (found == waiters_.end()) return;
  Waiter& waiter = found->second;
  waiter.polling = false;
  metrics_.dead_lettered(static_cast<std::uint64_t>(result.dead_lettered));
  if (outcome != Outcome::kOk) {
    if (outcome == Outcome::kNoConsumer) {
      answer_no_consumer(*waiter.request);
    } else {
      answer_unavailable(*waiter.request);
    }
    waiters_.erase(found);
    return;
  }
  const bool due = std::chrono::steady_clock::now() >= waiter.deadline;
  if (result.messages.empty() && !due && !draining_) {
    // Nothing yet: wait for a notification of one of these topics.
    waiter.topics = std::move(result.topics);
    if (waiter.again) poll_waiter(id);
    return;
  }
  for (const StoredMessage& message : result.messages) {
    metrics_.consumed(message.topic, waiter.group, 1);
  }
  metrics_.redelivered(static_cast<std::uint64_t>(result.redelivered));
  waiter.request->reply(200, polled_json(result.messages));
  waiters_.erase(found);
}

void TopicHandler::on_notified(const std::vector<std::string>& topics) {
  const auto follows = [&topics](const Waiter& waiter) {
    // Before its first poll answered, a waiter's topics are unknown: wake it.
    return waiter.topics.empty() ||
           std::any_of(topics.begin(), topics.end(), [&waiter](const std::string& topic) {
             return std::find(waiter.topics.begin(), waiter.topics.end(), topic) !=
                    waiter.topics.end();
           });
  };
  std::vector<std::uint64_t> wake;
  for (auto& entry : waiters_) {
    Waiter& waiter = entry.second;
    if (!follows(waiter)) continue;
    if (waiter.polling) {
      waiter.again = true;  // its poll may have missed this: once more after it
    } else {
      wake.push_back(entry.first);
    }
  }
  for (const std::uint64_t id : wake) poll_waiter(id);
}

void TopicHandler::on_tick() {
  const bool recheck = ++ticks_ % kRecheckTicks == 0;
  const auto now = std::chrono::steady_clock::now();
  std::vector<std::uint64_t> expired;
  std::vector<std::uint64_t> recheck_ids;
  for (const auto& [id, waiter] : waiters_) {
    if (waiter.polling) continue;
    if (now >= waiter.deadline) {
      expired.push_back(id);
    } else if (recheck) {
      recheck_ids.push_back(id);
    }
  }
  for (const std::uint64_t id : expired) {
    waiters_.at(id).request->reply(200, polled_json({}));
    waiters_.erase(id);
  }
  for (const std::uint64_t id : recheck_ids) poll_waiter(id);
}

void TopicHandler::drain() {
  draining_ = true;
  std::vector<std::uint64_t> parked;
  for (const auto& [id, waiter] : waiters_) {
    if (!waiter.polling) parked.push_back(id);
  }
  for (const std::uint64_t id : parked) {
    waiters_.at(id).request->reply(200, polled_json({}));
    waiters_.erase(id);
  }
}

void TopicHandler::acknowledge(http::Exchange& exchange, const std::string& group, bool nack) {
  auto parsed = parse_ack(exchange.body(), nack);
  if (const auto* error = error_of(parsed))
    return exchange.reply_error(error->status, error->message);
  const AckRequest request = std::get<AckRequest>(std::move(parsed));
  // A nack's delay is the message's time left before it is due again: the
  // delivery state in Redis (the group's pending list) bounds it by the
  // visibility timeout, and keeps it across restarts without a copy.
  if (request.delay > config_.visibility_timeout) {
    return exchange.reply_error(400, "delay must not exceed topics.visibility_timeout (" +
                                         core::format_duration(config_.visibility_timeout) + ")");
  }
  store_.acknowledge(
      group, request, nack,
      [this, held_request = held(exchange), nack](Outcome outcome, std::int64_t count) {
        if (outcome == Outcome::kNoConsumer) return answer_no_consumer(*held_request);
        if (outcome != Outcome::kOk) return answer_unavailable(*held_request);
        metrics_.settled(nack, static_cast<std::uint64_t>(count));
        held_request->reply(
            200, std::string(nack ? "{\"nacked\":" : "{\"acked\":") + std::to_string(count) + "}");
      });
}

void TopicHandler::commit(http::Exchange& exchange, const std::string& group) {
  auto parsed = parse_commit(exchange.body());
  if (const auto* error = error_of(parsed))
    return exchange.reply_error(error->status, error->message);
  store_.commit(group, std::get<CommitRequest>(parsed),
                [this, request = held(exchange)](Outcome outcome, std::int64_t count) {
                  if (outcome == Outcome::kNoConsumer) return answer_no_consumer(*request);
                  if (outcome != Outcome::kOk) return answer_unavailable(*request);
                  metrics_.settled(false, static_cast<std::uint64_t>(count));
                  request->reply(200, "{\"acked\":" + std::to_string(count) + "}");
                });
}

void TopicHandler::cluster(http::Exchange& exchange) {
  store_.cluster([request = held(exchange)](Outcome outcome, const ClusterView& view) {
    if (outcome != Outcome::kOk) return answer_unavailable(*request);
    const std::int64_t now = std::chrono::duration_cast<std::chrono::milliseconds>(
                                 std::chrono::system_clock::now().time_since_epoch())
                                 .count();
    std::string body = "{\"instances\":[";
    for (std::size_t i = 0; i < view.instances.size(); ++i) {
      const ClusterView::Instance& instance = view.instances[i];
      if (i > 0) body += ',';
      // Registered every 2 s: one quiet for 10 s is gone or cut off.
      const bool alive = now - instance.seen_ms < 10000;
      body += "{\"name\":" + core::json_quote(instance.name) + ",\"started_at\":\"" +
              locations::format_iso8601_utc(instance.started_ms) + "\",\"last_seen\":\"" +
              locations::format_iso8601_utc(instance.seen_ms) +
              "\",\"alive\":" + (alive ? "true" : "false") + "}";
    }
    body += "],\"groups\":[";
    for (std::size_t i = 0; i < view.groups.size(); ++i) {
      const ClusterView::Group& group = view.groups[i];
      if (i > 0) body += ',';
      body += "{\"name\":" + core::json_quote(group.name) + ",\"topics\":[";
      for (std::size_t t = 0; t < group.topics.size(); ++t) {
        body += (t > 0 ? "," : "") + core::json_quote(group.topics[t]);
      }
      body += "],\"consumers\":[";
      for (std::size_t c = 0; c < group.consumers.size(); ++c) {
        const ClusterView::Consumer& consumer = group.consumers[c];
        body += std::string(c > 0 ? "," : "") + "{\"id\":" + core::json_quote(consumer.id) +
                ",\"instance\":" + core::json_quote(consumer.instance) +
                ",\"session_expires_at\":\"" + locations::format_iso8601_utc(consumer.expires_ms) +
                "\"}";
      }
      body += "]}";
    }
    body += "]}";
    request->reply(200, body);
  });
}

}  // namespace gpsrelay::topics
