// Topics in Redis (see topic_store.h).
#include "topics/topic_store.h"

#include <hiredis/hiredis.h>

#include <algorithm>
#include <charconv>
#include <memory>

#include "core/callback_guard.h"

namespace gpsrelay::topics {
namespace {

// An instance not seen for this long leaves the cluster view (and Redis).
constexpr std::chrono::hours kForgetInstanceAfter{1};

std::int64_t unix_ms_now() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

std::string_view text(const redisReply* r) {
  return r != nullptr && (r->type == REDIS_REPLY_STRING || r->type == REDIS_REPLY_STATUS ||
                          r->type == REDIS_REPLY_ERROR)
             ? std::string_view(r->str, r->len)
             : std::string_view();
}

bool parse_int(std::string_view text, std::int64_t& out) {
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), out);
  return ec == std::errc() && end == text.data() + text.size();
}

std::int64_t integer(const redisReply* r) {
  if (r == nullptr) return 0;
  if (r->type == REDIS_REPLY_INTEGER) return r->integer;
  std::int64_t value = 0;
  return parse_int(text(r), value) ? value : 0;
}

// What a reply means when it is not the data: Redis down, an error.
bool failed(const redisReply* r) { return r == nullptr || r->type == REDIS_REPLY_ERROR; }

bool no_consumer(const redisReply* r) {
  return r != nullptr && r->type == REDIS_REPLY_ERROR && text(r).starts_with("NOCONSUMER");
}

std::string ms(std::chrono::milliseconds duration) { return std::to_string(duration.count()); }

// One polled message: {topic, partition, id, deliveries, {field, value…}}.
bool parse_polled(const redisReply* r, StoredMessage& message) {
  if (r->type != REDIS_REPLY_ARRAY || r->elements != 5 ||
      r->element[4]->type != REDIS_REPLY_ARRAY) {
    return false;
  }
  message.topic = text(r->element[0]);
  message.partition = static_cast<unsigned>(integer(r->element[1]));
  message.id = text(r->element[2]);
  message.deliveries = integer(r->element[3]);
  const redisReply* fields = r->element[4];
  for (std::size_t i = 0; i + 1 < fields->elements; i += 2) {
    const std::string_view name = text(fields->element[i]);
    const redisReply* value = fields->element[i + 1];
    if (name == "k") {
      message.key = text(value);
    } else if (name == "v") {
      message.value = text(value);
    } else if (name == "b") {
      message.binary = text(value) == "1";
    } else if (name == "h") {
      message.headers_json = text(value);
    } else if (name == "t") {
      message.published_at_ms = integer(value);
    }
  }
  return true;
}

}  // namespace

TopicStore::TopicStore(event_base* base, const core::RedisConfig& redis,
                       const core::TopicsConfig& topics, std::string instance)
    : keys_(topics.prefix),
      default_retention_(topics.retention),
      config_(topics),
      instance_(std::move(instance)),
      acks_(base, connection_, redis.min_replicas_acked, redis.replica_ack_timeout),
      connection_(base, queue::RedisConnection::Options::from(redis), [this](bool up) {
        if (up) load_scripts();
      }) {}

void TopicStore::load_scripts() {
  // First on a new connection: every EVALSHA sent after it on this
  // connection finds its script. Nothing to do with the answers.
  for (const std::string* script : kAllScripts) {
    const std::string_view args[] = {"SCRIPT", "LOAD", *script};
    connection_.send(nullptr, nullptr, args);
  }
}

void TopicStore::send(std::span<const std::string_view> args, ReplyFn done) {
  // A script goes by its SHA-1 (EVALSHA): 40 bytes where EVAL would send
  // the whole text with every publish and poll.
  std::vector<std::string_view> by_sha;
  if (!args.empty() && args[0] == "EVAL") {
    by_sha.assign(args.begin(), args.end());
    by_sha[0] = "EVALSHA";
    by_sha[1] = script_sha1(args[1]);
    args = by_sha;
  }
  auto pending = std::make_unique<Pending>(Pending{std::move(done), this});
  // hiredis calls back exactly once for a sent command: the callback takes
  // the request back from there.
  if (connection_.send(&TopicStore::on_reply, pending.get(), args)) {
    static_cast<void>(pending.release());
    return;
  }
  pending->done(nullptr);
}

void TopicStore::send_write(std::span<const std::string_view> args, ReplyFn done) {
  send(args, std::move(done));
  acks_.note_write();
}

void TopicStore::on_reply(redisAsyncContext*, void* reply, void* privdata) {
  const std::unique_ptr<Pending> pending(static_cast<Pending*>(privdata));
  const auto* r = static_cast<const redisReply*>(reply);
  // Redis lost its script cache (SCRIPT FLUSH) while connected: load them
  // again; this request fails (503) and the client's retry works.
  if (r != nullptr && r->type == REDIS_REPLY_ERROR && text(r).starts_with("NOSCRIPT")) {
    pending->store->load_scripts();
  }
  core::guarded("topics reply", [&] { pending->done(r); });
}

void TopicStore::create(const CreateTopic& topic, std::function<void(Outcome)> done) {
  const std::string meta = keys_.meta();
  const std::string partitions = std::to_string(topic.partitions);
  const std::string retention =
      std::to_string(topic.retention.value_or(default_retention_).count());
  const std::string now = std::to_string(unix_ms_now());
  const std::string_view args[] = {"EVAL",     kCreateScript, "1",       meta,
                                   topic.name, partitions,    retention, now};
  send_write(args, [this, done = std::move(done)](const redisReply* r) {
    if (failed(r)) return done(Outcome::kUnavailable);
    if (integer(r) != 1) return done(Outcome::kExists);
    acks_.after_replicas(
        [done](bool acked) { done(acked ? Outcome::kOk : Outcome::kUnavailable); });
  });
}

void TopicStore::list(std::function<void(Outcome, std::vector<TopicInfo>)> done) {
  const std::string meta = keys_.meta();
  const std::string_view args[] = {"HGETALL", meta};
  send(args, [done = std::move(done)](const redisReply* r) {
    std::vector<TopicInfo> topics;
    if (failed(r) || r->type != REDIS_REPLY_ARRAY) return done(Outcome::kUnavailable, topics);
    for (std::size_t i = 0; i + 1 < r->elements; i += 2) {
      TopicInfo info;
      info.name = text(r->element[i]);
      if (parse_topic_meta(text(r->element[i + 1]), info)) topics.push_back(std::move(info));
    }
    std::sort(topics.begin(), topics.end(),
              [](const TopicInfo& a, const TopicInfo& b) { return a.name < b.name; });
    done(Outcome::kOk, std::move(topics));
  });
}

void TopicStore::describe(std::string_view name, std::function<void(Outcome, TopicDetail)> done) {
  const std::string meta = keys_.meta();
  const std::string_view args[] = {"EVAL", kDescribeScript, "1", meta, keys_.prefix(), name};
  send(args, [done = std::move(done), name = std::string(name)](const redisReply* r) {
    TopicDetail detail;
    if (failed(r)) return done(Outcome::kUnavailable, detail);
    if (r->type == REDIS_REPLY_NIL) return done(Outcome::kNotFound, detail);
    detail.info.name = name;
    if (r->type != REDIS_REPLY_ARRAY || r->elements != 3 ||
        !parse_topic_meta(text(r->element[0]), detail.info)) {
      return done(Outcome::kUnavailable, detail);
    }
    detail.length = integer(r->element[1]);
    const redisReply* groups = r->element[2];
    for (std::size_t i = 0; groups->type == REDIS_REPLY_ARRAY && i + 2 < groups->elements; i += 3) {
      detail.groups.push_back({std::string(text(groups->element[i])),
                               integer(groups->element[i + 1]), integer(groups->element[i + 2])});
    }
    done(Outcome::kOk, std::move(detail));
  });
}

void TopicStore::remove(std::string_view name, bool force, std::function<void(Outcome)> done) {
  const std::string meta = keys_.meta();
  const std::string_view args[] = {"EVAL", kDeleteScript,    "1", meta, keys_.prefix(),
                                   name,   force ? "1" : "0"};
  send(args, [done = std::move(done)](const redisReply* r) {
    if (failed(r)) return done(Outcome::kUnavailable);
    switch (integer(r)) {
      case 1:
        return done(Outcome::kOk);
      case -1:
        return done(Outcome::kNotFound);
      case -2:
        return done(Outcome::kPending);
      default:
        return done(Outcome::kUnavailable);
    }
  });
}

void TopicStore::publish(std::string_view name, std::span<const Message> messages,
                         std::function<void(Outcome, std::vector<Published>)> done) {
  const std::string meta = keys_.meta();
  const std::string now = std::to_string(unix_ms_now());
  // Keyless messages spread over the partitions from where the last
  // publish of this worker left off.
  const std::string seed = std::to_string(round_robin_ % kKeyHashSpace);
  round_robin_ += messages.size();
  const std::string count = std::to_string(messages.size());
  // Numbers as text, kept here until the command is sent.
  std::vector<std::string> numbers;
  numbers.reserve(messages.size() * 2);
  for (const Message& message : messages) {
    const std::optional<unsigned> hash = partition_for_key(message.key, kKeyHashSpace);
    numbers.push_back(hash ? std::to_string(*hash) : "-1");
    numbers.push_back(std::to_string(message.delay.count()));
  }
  std::vector<std::string_view> args = {"EVAL", kPublishScript, "1",  meta, keys_.prefix(), name,
                                        now,    seed,           count};
  args.reserve(args.size() + messages.size() * 6);
  for (std::size_t i = 0; i < messages.size(); ++i) {
    const Message& message = messages[i];
    args.insert(args.end(), {numbers[2 * i], message.key, message.value, message.binary ? "1" : "0",
                             message.headers_json, numbers[2 * i + 1]});
  }
  send_write(args, [this, done = std::move(done)](const redisReply* r) {
    std::vector<Published> published;
    if (r != nullptr && r->type == REDIS_REPLY_ERROR && text(r).starts_with("NOTOPIC")) {
      return done(Outcome::kNotFound, published);
    }
    if (failed(r) || r->type != REDIS_REPLY_ARRAY) return done(Outcome::kUnavailable, published);
    for (std::size_t i = 0; i + 1 < r->elements; i += 2) {
      published.push_back(
          {static_cast<unsigned>(integer(r->element[i])), std::string(text(r->element[i + 1]))});
    }
    if (!acks_.enabled()) return done(Outcome::kOk, std::move(published));
    acks_.after_replicas([done, published = std::move(published)](bool acked) mutable {
      if (!acked) return done(Outcome::kUnavailable, {});
      done(Outcome::kOk, std::move(published));
    });
  });
}

void TopicStore::join(std::string_view group, std::string_view consumer, const Join& join,
                      std::function<void(Outcome, std::string)> done) {
  const std::string meta = keys_.meta();
  const std::string now = std::to_string(unix_ms_now());
  const std::string session = ms(config_.session_timeout);
  std::vector<std::string_view> args = {"EVAL", kJoinScript, "1", meta,    keys_.prefix(),
                                        group,  consumer,    now, session, instance_};
  args.insert(args.end(), join.topics.begin(), join.topics.end());
  send(args, [done = std::move(done)](const redisReply* r) {
    if (r != nullptr && r->type == REDIS_REPLY_ERROR && text(r).starts_with("NOTOPIC ")) {
      return done(Outcome::kNotFound, std::string(text(r).substr(8)));
    }
    done(failed(r) ? Outcome::kUnavailable : Outcome::kOk, {});
  });
}

void TopicStore::heartbeat(std::string_view group, std::string_view consumer,
                           std::function<void(Outcome)> done) {
  const std::string now = std::to_string(unix_ms_now());
  const std::string session = ms(config_.session_timeout);
  const std::string_view args[] = {
      "EVAL", kHeartbeatScript, "0", keys_.prefix(), group, consumer, now, session, instance_};
  send(args, [done = std::move(done)](const redisReply* r) {
    if (failed(r)) return done(Outcome::kUnavailable);
    done(integer(r) == 1 ? Outcome::kOk : Outcome::kNoConsumer);
  });
}

void TopicStore::leave(std::string_view group, std::string_view consumer,
                       std::function<void(Outcome)> done) {
  const std::string visibility = ms(config_.visibility_timeout);
  const std::string_view args[] = {"EVAL", kLeaveScript, "0",       keys_.prefix(),
                                   group,  consumer,     visibility};
  send(args, [done = std::move(done)](const redisReply* r) {
    if (failed(r)) return done(Outcome::kUnavailable);
    done(integer(r) == 1 ? Outcome::kOk : Outcome::kNoConsumer);
  });
}

void TopicStore::poll(std::string_view group, const PollQuery& query, std::uint64_t seed,
                      std::function<void(Outcome, PollResult)> done) {
  const std::string meta = keys_.meta();
  const std::string now = std::to_string(unix_ms_now());
  const std::string session = ms(config_.session_timeout);
  const std::string visibility = ms(config_.visibility_timeout);
  const std::string retries = std::to_string(config_.max_retries);
  const std::string max = std::to_string(query.max);
  const std::string rotation = std::to_string(seed % kKeyHashSpace);
  const std::string_view args[] = {
      "EVAL",  kPollScript, "1",     meta, keys_.prefix(), group,    query.consumer_id, now,
      session, visibility,  retries, max,  rotation,       instance_};
  send(args, [done = std::move(done)](const redisReply* r) {
    PollResult result;
    if (no_consumer(r)) return done(Outcome::kNoConsumer, std::move(result));
    if (failed(r) || r->type != REDIS_REPLY_ARRAY || r->elements != 3 ||
        r->element[0]->type != REDIS_REPLY_ARRAY) {
      return done(Outcome::kUnavailable, std::move(result));
    }
    const redisReply* messages = r->element[0];
    for (std::size_t i = 0; i < messages->elements; ++i) {
      StoredMessage message;
      if (!parse_polled(messages->element[i], message)) continue;
      if (message.deliveries > 1) ++result.redelivered;
      result.messages.push_back(std::move(message));
    }
    result.dead_lettered = integer(r->element[1]);
    const redisReply* topics = r->element[2];
    for (std::size_t i = 0; topics->type == REDIS_REPLY_ARRAY && i < topics->elements; ++i) {
      result.topics.emplace_back(text(topics->element[i]));
    }
    done(Outcome::kOk, std::move(result));
  });
}

void TopicStore::acknowledge(std::string_view group, const AckRequest& request, bool nack,
                             std::function<void(Outcome, std::int64_t)> done) {
  const std::string now = std::to_string(unix_ms_now());
  const std::string visibility = ms(config_.visibility_timeout);
  const std::string delay = ms(request.delay);
  std::vector<std::string> partitions;
  partitions.reserve(request.messages.size());
  for (const MessageRef& message : request.messages) {
    partitions.push_back(std::to_string(message.partition));
  }
  std::vector<std::string_view> args = {
      "EVAL", nack ? kNackScript : kAckScript, "0", keys_.prefix(), group, request.consumer_id,
      now};
  if (nack) args.insert(args.end(), {visibility, delay});
  for (std::size_t i = 0; i < request.messages.size(); ++i) {
    args.insert(args.end(), {request.messages[i].topic, partitions[i], request.messages[i].id});
  }
  send(args, [done = std::move(done)](const redisReply* r) {
    if (no_consumer(r)) return done(Outcome::kNoConsumer, 0);
    if (failed(r)) return done(Outcome::kUnavailable, 0);
    done(Outcome::kOk, integer(r));
  });
}

void TopicStore::commit(std::string_view group, const CommitRequest& request,
                        std::function<void(Outcome, std::int64_t)> done) {
  const std::string now = std::to_string(unix_ms_now());
  const std::string partition = std::to_string(request.upto.partition);
  const std::string_view args[] = {"EVAL",    kCommitScript,       "0", keys_.prefix(),
                                   group,     request.consumer_id, now, request.upto.topic,
                                   partition, request.upto.id};
  send(args, [done = std::move(done)](const redisReply* r) {
    if (no_consumer(r)) return done(Outcome::kNoConsumer, 0);
    if (failed(r)) return done(Outcome::kUnavailable, 0);
    done(Outcome::kOk, integer(r));
  });
}

namespace {

// "<a> <b>": the two numbers, 0 where one is missing.
std::pair<std::int64_t, std::int64_t> two_numbers(std::string_view text) {
  const std::size_t space = text.find(' ');
  std::int64_t first = 0;
  std::int64_t second = 0;
  parse_int(text.substr(0, space), first);
  if (space != std::string_view::npos) parse_int(text.substr(space + 1), second);
  return {first, second};
}

}  // namespace

void TopicStore::cluster(std::function<void(Outcome, ClusterView)> done) {
  const std::string now = std::to_string(unix_ms_now());
  const std::string forget = ms(kForgetInstanceAfter);
  const std::string_view args[] = {"EVAL", kClusterScript, "0", keys_.prefix(), now, forget};
  send(args, [done = std::move(done)](const redisReply* r) {
    ClusterView view;
    if (failed(r) || r->type != REDIS_REPLY_ARRAY || r->elements != 2) {
      return done(Outcome::kUnavailable, std::move(view));
    }
    const redisReply* instances = r->element[0];
    for (std::size_t i = 0; i + 1 < instances->elements; i += 2) {
      const auto [started, seen] = two_numbers(text(instances->element[i + 1]));
      view.instances.push_back({std::string(text(instances->element[i])), started, seen});
    }
    const redisReply* groups = r->element[1];
    for (std::size_t i = 0; i < groups->elements; ++i) {
      const redisReply* g = groups->element[i];
      if (g->type != REDIS_REPLY_ARRAY || g->elements != 3) continue;
      ClusterView::Group group;
      group.name = text(g->element[0]);
      for (std::size_t t = 0; t < g->element[1]->elements; ++t) {
        group.topics.emplace_back(text(g->element[1]->element[t]));
      }
      const redisReply* members = g->element[2];
      for (std::size_t m = 0; m + 1 < members->elements; m += 2) {
        const std::optional<ConsumerSession> session =
            parse_consumer_session(text(members->element[m + 1]));
        if (!session) continue;
        group.consumers.push_back(
            {std::string(text(members->element[m])), session->instance, session->expires_ms});
      }
      view.groups.push_back(std::move(group));
    }
    done(Outcome::kOk, std::move(view));
  });
}

}  // namespace gpsrelay::topics
