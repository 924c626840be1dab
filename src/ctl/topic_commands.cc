// topics list / create / delete / lag and dlq list / replay: the topics the
// daemon's [topics] module keeps in Redis (keys in topics/topic_scripts.h),
// read and changed directly. Create, delete and the replay's publish send
// the daemon's own Lua scripts, so the CLI and the HTTP API cannot differ
// in what a topic is, when a delete is refused or which partition a key
// goes to. This file owns no key layout of its own and never touches a
// consumer group's delivery state (its PEL) other than through them.
#include <algorithm>
#include <charconv>
#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/units.h"
#include "ctl/commands.h"
#include "ctl/json_output.h"
#include "ctl/redis_session.h"
#include "ctl/table.h"
#include "locations/location_record.h"
#include "topics/topic_meta.h"
#include "topics/topic_requests.h"
#include "topics/topic_scripts.h"

namespace gpsrelay::ctl {
namespace {

using topics::ConsumerSession;
using topics::parse_consumer_session;
using topics::TopicInfo;
using topics::TopicKeys;

// Dead letters published back per script call: one round trip each, and
// XDEL follows each call, so an interruption leaves at most this many both
// published and still in the DLQ.
constexpr std::size_t kReplayBatch = 100;

// Table cells cut to these many characters; --json has them whole.
constexpr std::size_t kKeyCell = 24;
constexpr std::size_t kValueCell = 40;
constexpr std::size_t kConsumerCell = topics::kMaxConsumerId;

// The headers the daemon's poll script adds when it moves a message to
// <topic>.dlq; a replay takes them off again.
constexpr const char* kDeadLetterHeaders[] = {"x-original-topic", "x-original-id", "x-deliveries",
                                              "x-reason", "x-last-consumer"};

std::string text_of(const redisReply* reply) {
  if (reply == nullptr) return "";
  if (reply->type == REDIS_REPLY_INTEGER) return std::to_string(reply->integer);
  if (reply->str != nullptr) return std::string(reply->str, reply->len);
  return "";  // nil
}

std::optional<std::int64_t> integer_of(const redisReply* reply) {
  if (reply == nullptr || reply->type == REDIS_REPLY_NIL) return std::nullopt;
  if (reply->type == REDIS_REPLY_INTEGER) return reply->integer;
  const std::string text = text_of(reply);
  std::int64_t value = 0;
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (error != std::errc() || end != text.data() + text.size()) return std::nullopt;
  return value;
}

// Appended to "nothing found" messages when the reason may be the config.
std::string disabled_hint(const core::Config& config) {
  return config.topics.enabled ? "" : " ([topics] is not enabled in this configuration)";
}

std::string plural(std::size_t n, const std::string& word) {
  return std::to_string(n) + " " + word + (n == 1 ? "" : "s");
}

json_t* optional_integer(const std::optional<std::int64_t>& value) {
  return value ? json_integer(*value) : json_null();
}

// Every topic of the meta hash, by name; entries it cannot read (not the
// daemon's format) are left out as the daemon's GET /v1/topics does.
std::vector<TopicInfo> read_topics(RedisSession& redis, const TopicKeys& keys) {
  const ReplyPtr all = redis.command({"HGETALL", keys.meta()});
  std::vector<TopicInfo> out;
  for (std::size_t i = 0; i + 1 < all->elements; i += 2) {
    TopicInfo info;
    info.name = text_of(all->element[i]);
    if (topics::parse_topic_meta(text_of(all->element[i + 1]), info)) {
      out.push_back(std::move(info));
    }
  }
  std::sort(out.begin(), out.end(),
            [](const TopicInfo& a, const TopicInfo& b) { return a.name < b.name; });
  return out;
}

// The replies of `commands`, all of them, or Unavailable.
std::vector<ReplyPtr> pipelined(RedisSession& redis,
                                const std::vector<std::vector<std::string>>& commands) {
  RedisSession::PipelineResult result = redis.pipeline(commands);
  if (!result.error.empty()) throw Unavailable(result.error);
  return std::move(result.replies);
}

bool is_error(const redisReply* reply) { return reply->type == REDIS_REPLY_ERROR; }

std::string unix_ms_text(std::int64_t ms) { return std::to_string(ms); }

// ---- topics list -------------------------------------------------------------

struct GroupSummary {
  std::string name;
  std::int64_t pending = 0;
  std::int64_t lag = 0;
};

struct TopicSummary {
  TopicInfo info;
  std::int64_t length = 0;
  std::vector<GroupSummary> groups;
};

// Each topic as kDescribeScript (GET /v1/topics/{t}) sums it up; one
// pipeline for all of them. A topic deleted since read_topics is left out.
std::vector<TopicSummary> describe_topics(RedisSession& redis, const TopicKeys& keys,
                                          const std::vector<TopicInfo>& topics) {
  std::vector<std::vector<std::string>> commands;
  commands.reserve(topics.size());
  for (const TopicInfo& topic : topics) {
    commands.push_back(
        {"EVAL", topics::kDescribeScript, "1", keys.meta(), keys.prefix(), topic.name});
  }
  const std::vector<ReplyPtr> replies = pipelined(redis, commands);
  std::vector<TopicSummary> out;
  for (std::size_t i = 0; i < topics.size(); ++i) {
    const redisReply* r = replies[i].get();
    if (is_error(r)) throw Unavailable("Redis at " + redis.address() + ": " + text_of(r));
    if (r->type != REDIS_REPLY_ARRAY || r->elements != 3) continue;
    TopicSummary summary{topics[i], integer_of(r->element[1]).value_or(0), {}};
    const redisReply* groups = r->element[2];
    for (std::size_t g = 0; groups->type == REDIS_REPLY_ARRAY && g + 2 < groups->elements; g += 3) {
      summary.groups.push_back({text_of(groups->element[g]),
                                integer_of(groups->element[g + 1]).value_or(0),
                                integer_of(groups->element[g + 2]).value_or(0)});
    }
    out.push_back(std::move(summary));
  }
  return out;
}

JsonPtr topics_json(const std::vector<TopicSummary>& topics) {
  JsonPtr list(json_array());
  for (const TopicSummary& topic : topics) {
    JsonPtr groups(json_array());
    for (const GroupSummary& group : topic.groups) {
      json_array_append_new(groups.get(),
                            json_pack("{s:o, s:I, s:I}", "name", json_bytes(group.name), "lag",
                                      static_cast<json_int_t>(group.lag), "pending",
                                      static_cast<json_int_t>(group.pending)));
    }
    const TopicInfo& info = topic.info;
    json_array_append_new(
        list.get(), json_pack("{s:s, s:I, s:s, s:I, s:s, s:I, s:O}", "name", info.name.c_str(),
                              "partitions", static_cast<json_int_t>(info.partitions), "retention",
                              core::format_duration(info.retention).c_str(), "retention_ms",
                              static_cast<json_int_t>(info.retention.count()), "created_at",
                              locations::format_iso8601_utc(info.created_ms).c_str(), "length",
                              static_cast<json_int_t>(topic.length), "groups", groups.get()));
  }
  return JsonPtr(json_pack("{s:o}", "topics", list.release()));
}

// ---- topics lag ----------------------------------------------------------------

struct PartitionLag {
  std::string topic;
  unsigned partition = 0;
  // nil from XINFO when Redis cannot tell (entries deleted in the middle
  // of the range, as dlq replay's XDEL does).
  std::optional<std::int64_t> lag;
  std::int64_t pending = 0;
};

struct GroupLag {
  std::vector<PartitionLag> partitions;
  std::int64_t consumers = 0;
};

// A group's live consumers: the sessions in its members hash that have not
// expired (the daemon removes expired ones on the group's next poll only).
std::int64_t live_consumers(const redisReply* members, std::int64_t now_ms) {
  std::int64_t live = 0;
  for (std::size_t i = 0; i + 1 < members->elements; i += 2) {
    const std::optional<ConsumerSession> session =
        parse_consumer_session(text_of(members->element[i + 1]));
    if (session && session->expires_ms >= now_ms) ++live;
  }
  return live;
}

std::map<std::string, GroupLag> read_lag(RedisSession& redis, const TopicKeys& keys,
                                         const std::vector<TopicInfo>& topics,
                                         std::int64_t now_ms) {
  std::vector<std::vector<std::string>> commands;
  std::vector<std::pair<std::string, unsigned>> streams;
  for (const TopicInfo& topic : topics) {
    for (unsigned p = 0; p < topic.partitions; ++p) {
      commands.push_back({"XINFO", "GROUPS", keys.partition(topic.name, p)});
      streams.emplace_back(topic.name, p);
    }
  }
  const std::vector<ReplyPtr> replies = pipelined(redis, commands);
  std::map<std::string, GroupLag> groups;
  for (std::size_t i = 0; i < replies.size(); ++i) {
    const redisReply* r = replies[i].get();
    // A partition nobody published to or joined has no stream yet.
    if (is_error(r) && text_of(r).find("no such key") != std::string::npos) continue;
    if (is_error(r)) throw Unavailable("Redis at " + redis.address() + ": " + text_of(r));
    for (std::size_t g = 0; r->type == REDIS_REPLY_ARRAY && g < r->elements; ++g) {
      const redisReply* info = r->element[g];
      std::string name;
      PartitionLag row{streams[i].first, streams[i].second, std::nullopt, 0};
      for (std::size_t f = 0; f + 1 < info->elements; f += 2) {
        const std::string field = text_of(info->element[f]);
        if (field == "name") name = text_of(info->element[f + 1]);
        if (field == "lag") row.lag = integer_of(info->element[f + 1]);
        if (field == "pending") row.pending = integer_of(info->element[f + 1]).value_or(0);
      }
      groups[name].partitions.push_back(std::move(row));
    }
  }
  std::vector<std::vector<std::string>> members;
  members.reserve(groups.size());
  for (const auto& [name, group] : groups) members.push_back({"HGETALL", keys.group_members(name)});
  const std::vector<ReplyPtr> sessions = pipelined(redis, members);
  std::size_t i = 0;
  for (auto& [name, group] : groups) {
    const redisReply* r = sessions[i++].get();
    if (is_error(r)) throw Unavailable("Redis at " + redis.address() + ": " + text_of(r));
    group.consumers = live_consumers(r, now_ms);
  }
  return groups;
}

JsonPtr lag_json(const std::map<std::string, GroupLag>& groups) {
  JsonPtr list(json_array());
  for (const auto& [name, group] : groups) {
    JsonPtr partitions(json_array());
    std::optional<std::int64_t> lag = 0;
    std::int64_t pending = 0;
    for (const PartitionLag& p : group.partitions) {
      json_array_append_new(
          partitions.get(),
          json_pack("{s:s, s:I, s:o, s:I}", "topic", p.topic.c_str(), "partition",
                    static_cast<json_int_t>(p.partition), "lag", optional_integer(p.lag), "pending",
                    static_cast<json_int_t>(p.pending)));
      // The sum is unknown when one of its parts is.
      lag = lag && p.lag ? std::optional(*lag + *p.lag) : std::nullopt;
      pending += p.pending;
    }
    json_array_append_new(
        list.get(),
        json_pack("{s:o, s:I, s:o, s:I, s:O}", "name", json_bytes(name), "consumers",
                  static_cast<json_int_t>(group.consumers), "lag", optional_integer(lag), "pending",
                  static_cast<json_int_t>(pending), "partitions", partitions.get()));
  }
  return JsonPtr(json_pack("{s:o}", "groups", list.release()));
}

// ---- dlq -----------------------------------------------------------------------

// One entry of <topic>.dlq as the poll script wrote it.
struct DeadLetter {
  std::string id;  // in <topic>.dlq
  std::string key;
  std::string value;
  bool binary = false;
  JsonPtr headers;  // always an object
  std::optional<std::int64_t> published_ms;

  std::string header(const char* name) const {
    const char* value = json_string_value(json_object_get(headers.get(), name));
    return value != nullptr ? value : "";
  }
};

std::string dlq_name(const std::string& topic) { return topic + ".dlq"; }

// XRANGE's [[id, [field, value, ...]], ...].
std::vector<DeadLetter> parse_entries(const redisReply* range) {
  std::vector<DeadLetter> out;
  for (std::size_t i = 0; range->type == REDIS_REPLY_ARRAY && i < range->elements; ++i) {
    const redisReply* entry = range->element[i];
    if (entry->type != REDIS_REPLY_ARRAY || entry->elements != 2) continue;
    DeadLetter letter;
    letter.id = text_of(entry->element[0]);
    const redisReply* fields = entry->element[1];
    std::string headers = "{}";
    for (std::size_t f = 0; fields->type == REDIS_REPLY_ARRAY && f + 1 < fields->elements; f += 2) {
      const std::string name = text_of(fields->element[f]);
      const redisReply* value = fields->element[f + 1];
      if (name == "k") letter.key = text_of(value);
      if (name == "v") letter.value = text_of(value);
      if (name == "b") letter.binary = text_of(value) == "1";
      if (name == "h") headers = text_of(value);
      if (name == "t") letter.published_ms = integer_of(value);
    }
    letter.headers.reset(json_loads(headers.c_str(), 0, nullptr));
    if (!json_is_object(letter.headers.get())) letter.headers.reset(json_object());
    out.push_back(std::move(letter));
  }
  return out;
}

std::string published_text(const DeadLetter& letter) {
  return letter.published_ms ? locations::format_iso8601_utc(*letter.published_ms) : "-";
}

JsonPtr dead_letter_json(const DeadLetter& letter) {
  JsonPtr out(json_object());
  const auto deliveries = [&]() -> std::optional<std::int64_t> {
    const std::string text = letter.header("x-deliveries");
    std::int64_t value = 0;
    const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (error != std::errc() || end != text.data() + text.size()) return std::nullopt;
    return value;
  }();
  json_object_set_new(out.get(), "id", json_string(letter.id.c_str()));
  json_object_set_new(out.get(), "original_id", json_bytes(letter.header("x-original-id")));
  json_object_set_new(out.get(), "deliveries", optional_integer(deliveries));
  json_object_set_new(out.get(), "reason", json_bytes(letter.header("x-reason")));
  json_object_set_new(out.get(), "last_consumer", json_bytes(letter.header("x-last-consumer")));
  json_object_set_new(out.get(), "published_at",
                      letter.published_ms
                          ? json_string(locations::format_iso8601_utc(*letter.published_ms).c_str())
                          : json_null());
  json_object_set_new(out.get(), "key", json_bytes(letter.key));
  // The value as the API serves it: its JSON inlined, raw bytes (or text
  // that is not JSON) as base64.
  JsonPtr value(letter.binary ? nullptr
                              : json_loadb(letter.value.data(), letter.value.size(),
                                           JSON_DECODE_ANY, nullptr));
  if (value) {
    json_object_set_new(out.get(), "value", value.release());
  } else {
    json_object_set_new(out.get(), "value_b64", json_string(base64(letter.value).c_str()));
  }
  json_object_set(out.get(), "headers", letter.headers.get());
  return out;
}

std::string value_cell(const DeadLetter& letter) {
  if (letter.binary) return truncate_cell("base64:" + base64(letter.value), kValueCell);
  return truncate_cell(letter.value, kValueCell);
}

// The headers a replayed message is published with: the dead letter's,
// less those the move to the DLQ added.
std::string replay_headers(const DeadLetter& letter) {
  JsonPtr headers(json_deep_copy(letter.headers.get()));
  for (const char* name : kDeadLetterHeaders) json_object_del(headers.get(), name);
  const std::unique_ptr<char, decltype(&std::free)> text(json_dumps(headers.get(), JSON_COMPACT),
                                                         &std::free);
  return text ? std::string(text.get()) : std::string("{}");
}

// Publishes `letters` to `topic` with kPublishScript and the argument
// layout of TopicStore::publish (key hash in kKeyHashSpace, no delay), so
// each key goes to the partition a publish through the API would choose.
// Throws NotFound when the topic is gone, Unavailable on other errors.
void publish_back(RedisSession& redis, const TopicKeys& keys, const std::string& topic,
                  const std::vector<DeadLetter>& letters, std::int64_t now_ms) {
  std::vector<std::string> args = {
      "EVAL", topics::kPublishScript, "1", keys.meta(), keys.prefix(), topic, unix_ms_text(now_ms),
      // Keyless messages spread over the partitions from a point that
      // differs between runs, as the daemon's workers do.
      std::to_string(static_cast<std::uint64_t>(now_ms) % topics::kKeyHashSpace),
      std::to_string(letters.size())};
  for (const DeadLetter& letter : letters) {
    const std::optional<unsigned> hash =
        topics::partition_for_key(letter.key, topics::kKeyHashSpace);
    args.insert(args.end(), {hash ? std::to_string(*hash) : "-1", letter.key, letter.value,
                             letter.binary ? "1" : "0", replay_headers(letter), "0"});
  }
  const std::vector<ReplyPtr> replies = pipelined(redis, {args});
  const redisReply* r = replies.at(0).get();
  if (is_error(r) && text_of(r).starts_with("NOTOPIC")) {
    throw NotFound("no such topic " + topic + " (deleted while replaying?)");
  }
  if (is_error(r) || r->type != REDIS_REPLY_ARRAY || r->elements != 2 * letters.size()) {
    throw Unavailable("Redis at " + redis.address() + " refused the publish to " + topic + ": " +
                      text_of(r));
  }
}

// The topic `name` exists (its meta entry does).
bool topic_exists(RedisSession& redis, const TopicKeys& keys, const std::string& name) {
  return redis.command({"HEXISTS", keys.meta(), name})->integer == 1;
}

}  // namespace

int run_topics_list(const CommandContext& context) {
  RedisSession redis(context.config.redis);
  const TopicKeys keys(context.config.topics.prefix);
  const std::vector<TopicSummary> topics = describe_topics(redis, keys, read_topics(redis, keys));
  if (context.invocation.json) {
    print_json(context.out, topics_json(topics));
    return kExitOk;
  }
  if (topics.empty()) {
    context.out << "no topics under " << keys.prefix() << disabled_hint(context.config) << "\n";
    return kExitOk;
  }
  Table table({"NAME", "PARTITIONS", "RETENTION", "LENGTH", "GROUPS"});
  for (const TopicSummary& topic : topics) {
    table.add_row({topic.info.name, std::to_string(topic.info.partitions),
                   core::format_duration(topic.info.retention), std::to_string(topic.length),
                   std::to_string(topic.groups.size())});
  }
  context.out << table.render();
  return kExitOk;
}

int run_topics_create(const CommandContext& context) {
  const Invocation& invocation = context.invocation;
  RedisSession redis(context.config.redis);
  const TopicKeys keys(context.config.topics.prefix);
  const std::chrono::milliseconds retention =
      invocation.retention.value_or(context.config.topics.retention);
  const ReplyPtr created =
      redis.command({"EVAL", topics::kCreateScript, "1", keys.meta(), invocation.topic,
                     std::to_string(invocation.partitions), std::to_string(retention.count()),
                     unix_ms_text(context.now_ms)});
  if (created->integer != 1) throw Conflict("topic " + invocation.topic + " exists");
  if (invocation.json) {
    print_json(context.out,
               JsonPtr(json_pack("{s:s, s:I, s:s, s:I}", "name", invocation.topic.c_str(),
                                 "partitions", static_cast<json_int_t>(invocation.partitions),
                                 "retention", core::format_duration(retention).c_str(),
                                 "retention_ms", static_cast<json_int_t>(retention.count()))));
    return kExitOk;
  }
  context.out << "created topic " << invocation.topic << ": "
              << plural(invocation.partitions, "partition") << ", retention "
              << core::format_duration(retention) << "\n";
  return kExitOk;
}

int run_topics_delete(const CommandContext& context) {
  const Invocation& invocation = context.invocation;
  RedisSession redis(context.config.redis);
  const TopicKeys keys(context.config.topics.prefix);
  const ReplyPtr deleted =
      redis.command({"EVAL", topics::kDeleteScript, "1", keys.meta(), keys.prefix(),
                     invocation.topic, invocation.force ? "1" : "0"});
  switch (deleted->integer) {
    case 1:
      break;
    case -1:
      throw NotFound("no such topic " + invocation.topic + disabled_hint(context.config));
    case -2:
      throw Conflict("a consumer group has pending messages on topic " + invocation.topic +
                     "; --force deletes them too");
    default:
      throw Unavailable("Redis at " + redis.address() +
                        ": unexpected answer to the delete: " + std::to_string(deleted->integer));
  }
  if (invocation.json) {
    print_json(context.out, JsonPtr(json_pack("{s:s}", "deleted", invocation.topic.c_str())));
  } else {
    context.out << "deleted topic " << invocation.topic << "\n";
  }
  return kExitOk;
}

int run_topics_lag(const CommandContext& context) {
  RedisSession redis(context.config.redis);
  const TopicKeys keys(context.config.topics.prefix);
  const std::map<std::string, GroupLag> groups =
      read_lag(redis, keys, read_topics(redis, keys), context.now_ms);
  if (context.invocation.json) {
    print_json(context.out, lag_json(groups));
    return kExitOk;
  }
  if (groups.empty()) {
    context.out << "no consumer groups on the topics under " << keys.prefix()
                << disabled_hint(context.config) << "\n";
    return kExitOk;
  }
  Table table({"GROUP", "TOPIC", "PARTITION", "LAG", "PENDING", "CONSUMERS"});
  for (const auto& [name, group] : groups) {
    for (const PartitionLag& p : group.partitions) {
      table.add_row({truncate_cell(name, kConsumerCell), p.topic, std::to_string(p.partition),
                     p.lag ? std::to_string(*p.lag) : "-", std::to_string(p.pending),
                     std::to_string(group.consumers)});
    }
  }
  context.out << table.render();
  return kExitOk;
}

int run_dlq_list(const CommandContext& context) {
  const Invocation& invocation = context.invocation;
  RedisSession redis(context.config.redis);
  const TopicKeys keys(context.config.topics.prefix);
  const std::string dlq = dlq_name(invocation.topic);
  // The DLQ is made on the first dead letter: a topic without one yet has
  // an empty list, only an unknown name is an error.
  if (!topic_exists(redis, keys, dlq) && !topic_exists(redis, keys, invocation.topic)) {
    throw NotFound("no such topic " + invocation.topic + disabled_hint(context.config));
  }
  const std::string stream = keys.partition(dlq, 0);
  const std::vector<ReplyPtr> replies = pipelined(
      redis,
      {{"XLEN", stream}, {"XRANGE", stream, "-", "+", "COUNT", std::to_string(invocation.limit)}});
  for (const ReplyPtr& reply : replies) {
    if (is_error(reply.get())) {
      throw Unavailable("Redis at " + redis.address() + ": " + text_of(reply.get()));
    }
  }
  const std::int64_t total = integer_of(replies[0].get()).value_or(0);
  const std::vector<DeadLetter> letters = parse_entries(replies[1].get());
  if (invocation.json) {
    JsonPtr list(json_array());
    for (const DeadLetter& letter : letters) {
      json_array_append_new(list.get(), dead_letter_json(letter).release());
    }
    print_json(context.out,
               JsonPtr(json_pack("{s:s, s:s, s:I, s:o}", "topic", invocation.topic.c_str(), "dlq",
                                 dlq.c_str(), "length", static_cast<json_int_t>(total), "messages",
                                 list.release())));
    return kExitOk;
  }
  if (letters.empty()) {
    context.out << "no dead letters of " << invocation.topic << " (" << dlq << " is empty)\n";
    return kExitOk;
  }
  Table table(
      {"ID", "ORIGINAL ID", "DELIVERIES", "REASON", "LAST CONSUMER", "PUBLISHED", "KEY", "VALUE"});
  for (const DeadLetter& letter : letters) {
    table.add_row(
        {letter.id, letter.header("x-original-id"), letter.header("x-deliveries"),
         letter.header("x-reason"), truncate_cell(letter.header("x-last-consumer"), kConsumerCell),
         published_text(letter), truncate_cell(letter.key, kKeyCell), value_cell(letter)});
  }
  context.out << table.render();
  if (static_cast<std::int64_t>(letters.size()) < total) {
    context.out << "(" << letters.size() << " of " << total
                << " shown, the oldest first; raise --limit for more)\n";
  }
  return kExitOk;
}

int run_dlq_replay(const CommandContext& context) {
  const Invocation& invocation = context.invocation;
  const std::string& topic = invocation.topic;
  RedisSession redis(context.config.redis);
  const TopicKeys keys(context.config.topics.prefix);
  if (!topic_exists(redis, keys, topic)) {
    throw NotFound("no such topic " + topic + ": create it before replaying its dead letters" +
                   disabled_hint(context.config));
  }
  const std::string dlq = dlq_name(topic);
  const std::string stream = keys.partition(dlq, 0);
  std::size_t replayed = 0;
  // Publishes a batch, then deletes it from the DLQ: never the other way
  // round, so a failure in between duplicates a message rather than
  // losing it.
  const auto replay = [&](const std::vector<DeadLetter>& letters) {
    if (letters.empty()) return;
    publish_back(redis, keys, topic, letters, context.now_ms);
    std::vector<std::string> xdel = {"XDEL", stream};
    for (const DeadLetter& letter : letters) xdel.push_back(letter.id);
    try {
      redis.command(xdel);
    } catch (const Unavailable& e) {
      throw Unavailable(std::string(e.what()) + "; " + plural(letters.size(), "dead letter") +
                        " were published again but are still in " + dlq);
    }
    replayed += letters.size();
  };
  if (invocation.id) {
    const std::vector<DeadLetter> one =
        parse_entries(redis.command({"XRANGE", stream, *invocation.id, *invocation.id}).get());
    if (one.empty()) throw NotFound("no dead letter " + *invocation.id + " in " + dlq);
    replay(one);
  } else {
    // Up to the newest entry at the start: a message that fails again
    // while we replay comes back to the DLQ after it and waits for the
    // next replay, rather than keeping this one going.
    const std::vector<DeadLetter> newest =
        parse_entries(redis.command({"XREVRANGE", stream, "+", "-", "COUNT", "1"}).get());
    std::string from = "-";
    while (!newest.empty()) {
      const std::vector<DeadLetter> batch =
          parse_entries(redis
                            .command({"XRANGE", stream, from, newest[0].id, "COUNT",
                                      std::to_string(kReplayBatch)})
                            .get());
      replay(batch);
      if (batch.size() < kReplayBatch) break;
      from = "(" + batch.back().id;
    }
  }
  if (invocation.json) {
    print_json(context.out,
               JsonPtr(json_pack("{s:I, s:s, s:s}", "replayed", static_cast<json_int_t>(replayed),
                                 "topic", topic.c_str(), "dlq", dlq.c_str())));
  } else {
    context.out << "replayed " << plural(replayed, "dead letter") << " from " << dlq << " to "
                << topic << "\n";
  }
  return kExitOk;
}

}  // namespace gpsrelay::ctl
