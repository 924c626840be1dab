// TopicStore: the topics' Redis side for one HTTP worker thread, on a
// connection of its own (see topic_scripts.h for the keys and scripts).
// Every call answers exactly once on the worker's loop, with an Outcome
// and, when it is kOk, the data.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/config.h"
#include "queue/redis_connection.h"
#include "queue/replica_acks.h"
#include "topics/topic_meta.h"
#include "topics/topic_requests.h"
#include "topics/topic_scripts.h"

struct redisReply;

namespace gpsrelay::topics {

enum class Outcome {
  kOk,
  kNotFound,     // no such topic
  kExists,       // create: the name is taken
  kPending,      // delete: a group has pending messages
  kNoConsumer,   // the consumer id is unknown to the group, or its session expired
  kUnavailable,  // Redis down, or it refused the command
};

struct GroupInfo {
  std::string name;
  std::int64_t pending = 0;  // delivered, not acknowledged (all partitions)
  std::int64_t lag = 0;      // not yet delivered (all partitions)
};

struct TopicDetail {
  TopicInfo info;
  std::int64_t length = 0;  // entries over all partitions
  std::vector<GroupInfo> groups;
};

struct Published {
  unsigned partition;
  std::string id;
};

struct PollResult {
  std::vector<StoredMessage> messages;
  std::int64_t dead_lettered = 0;   // moved to <topic>.dlq by this poll
  std::int64_t redelivered = 0;     // of `messages`, delivered before
  std::vector<std::string> topics;  // the group's topics (what may wake it)
};

struct ClusterView {
  struct Instance {
    std::string name;
    std::int64_t started_ms = 0;
    std::int64_t seen_ms = 0;
  };
  struct Consumer {
    std::string id;
    std::string instance;  // the one it last came through
    std::int64_t expires_ms = 0;
  };
  struct Group {
    std::string name;
    std::vector<std::string> topics;
    std::vector<Consumer> consumers;
  };
  std::vector<Instance> instances;
  std::vector<Group> groups;
};

class TopicStore {
 public:
  // `instance` names this gpsrelayd in the consumers' sessions.
  TopicStore(event_base* base, const core::RedisConfig& redis, const core::TopicsConfig& topics,
             std::string instance);
  void start() { connection_.start(); }

  void create(const CreateTopic& topic, std::function<void(Outcome)> done);
  void list(std::function<void(Outcome, std::vector<TopicInfo>)> done);
  void describe(std::string_view name, std::function<void(Outcome, TopicDetail)> done);
  void remove(std::string_view name, bool force, std::function<void(Outcome)> done);
  // Appends `messages` in one round trip; answers once Redis has them all
  // (and with redis.min_replicas_acked, once that many replicas have them).
  void publish(std::string_view name, std::span<const Message> messages,
               std::function<void(Outcome, std::vector<Published>)> done);

  // Consumer groups. `detail` of join names a missing topic.
  void join(std::string_view group, std::string_view consumer, const Join& join,
            std::function<void(Outcome, std::string detail)> done);
  void heartbeat(std::string_view group, std::string_view consumer,
                 std::function<void(Outcome)> done);
  void leave(std::string_view group, std::string_view consumer, std::function<void(Outcome)> done);
  // `seed` rotates which partition is read first.
  void poll(std::string_view group, const PollQuery& query, std::uint64_t seed,
            std::function<void(Outcome, PollResult)> done);
  // ack, or nack (due again after request.delay) when `nack`; the count.
  void acknowledge(std::string_view group, const AckRequest& request, bool nack,
                   std::function<void(Outcome, std::int64_t)> done);
  void commit(std::string_view group, const CommitRequest& request,
              std::function<void(Outcome, std::int64_t)> done);
  // The instances serving this Redis and the groups' consumers.
  void cluster(std::function<void(Outcome, ClusterView)> done);

 private:
  // nullptr when Redis is unavailable.
  using ReplyFn = std::function<void(const redisReply*)>;
  struct Pending {
    ReplyFn done;
    TopicStore* store;
  };
  void load_scripts();
  // Sends `args`; an EVAL goes as EVALSHA of its script.
  void send(std::span<const std::string_view> args, ReplyFn done);
  // The same for a write whose answer promises durability: a WAIT follows
  // it when min_replicas_acked is set (see queue/replica_acks.h).
  void send_write(std::span<const std::string_view> args, ReplyFn done);
  static void on_reply(redisAsyncContext*, void* reply, void* pending);

  const TopicKeys keys_;
  const std::chrono::milliseconds default_retention_;
  const core::TopicsConfig config_;
  const std::string instance_;
  std::uint64_t round_robin_ = 0;
  // Before the connection: closing it calls back into both.
  queue::ReplicaAcks acks_;
  queue::RedisConnection connection_;
};

}  // namespace gpsrelay::topics
