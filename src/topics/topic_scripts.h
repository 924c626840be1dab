// The Redis side of topics (CONTRACT.md, "Topics"): key names and the Lua
// scripts that keep a topic's metadata and partitions consistent, each one
// round trip. Pure text; topic_store.cc sends them.
//
// Keys, under [topics] prefix P:
//   P meta              hash: topic name -> "<partitions> <retention ms> <created ms>"
//   P <topic>:<p>       stream of partition p (0-based); entry fields
//                       k (key), v (value), b ("1": v is raw bytes), h (headers
//                       JSON), t (published at, Unix ms)
//   P group:<g>:members hash: consumer id -> "<session expiry ms> <instance>"
//   P groups            set: every group that ever joined
//   P instances         hash: gpsrelayd instance -> "<started ms> <seen ms>"
//   P group:<g>:topics  set: the topics the group's consumers joined
//   P delayed           sorted set: messages published with a delay, by due
//                       time (cmsgpack-packed: topic, key hash, fields)
//   P notify            Pub/Sub channel: a topic's name when it got messages
// Names are [A-Za-z0-9._-], so ':' separates them from the partition.
// A Redis consumer group per topic group and partition stream holds the
// delivery state: who has what (the PEL), since when, how many times.
#pragma once

#include <array>
#include <string>
#include <string_view>

namespace gpsrelay::topics {

class TopicKeys {
 public:
  explicit TopicKeys(std::string prefix) : prefix_(std::move(prefix)) {}
  const std::string& prefix() const { return prefix_; }
  std::string meta() const { return prefix_ + "meta"; }
  std::string partition(std::string_view topic, unsigned partition) const {
    return prefix_ + std::string(topic) + ":" + std::to_string(partition);
  }
  std::string group_members(std::string_view group) const {
    return prefix_ + "group:" + std::string(group) + ":members";
  }

 private:
  std::string prefix_;
};

// KEYS[1] meta; ARGV name, partitions, retention ms, now ms.
// 1 when created, 0 when the name is taken.
extern const std::string kCreateScript;

// KEYS[1] meta; ARGV prefix, name. nil for no such topic, else
// {meta, total length, {group, pending, lag, ...} flat, summed over the
// partitions}.
extern const std::string kDescribeScript;

// KEYS[1] meta; ARGV prefix, name, force ("1"). 1 deleted, -1 no such
// topic, -2 a group has pending messages (and not forced).
extern const std::string kDeleteScript;

// Keys hash into this space (partition_for_key(key, kKeyHashSpace)) before
// kPublishScript takes the hash modulo the topic's partitions: Lua numbers
// are doubles, exact only to 2^53. Every publisher (the daemon's store,
// gpsrelayctl's dlq replay) hashes so, or a key would change partitions.
inline constexpr unsigned kKeyHashSpace = 1U << 30;

// KEYS[1] meta; ARGV prefix, name, now ms, round-robin seed, count, then
// per message: key hash (-1: none), key, value, binary ("1"/"0"), headers,
// delay ms. Appends every message (trimming the partition by the topic's
// retention; a delayed one goes to P delayed instead, its id "") and
// returns {partition, id, ...}; error "NOTOPIC" for no such topic.
extern const std::string kPublishScript;

// KEYS[1] meta; ARGV prefix, group, consumer, now ms, session ms, instance,
// topic...
// Creates the group on every partition (from the start of what the topic
// retains) and the consumer's session; error "NOTOPIC <name>".
extern const std::string kJoinScript;

// ARGV prefix, group, consumer, now ms, session ms, instance. 1 renewed, 0
// unknown (or expired) consumer.
extern const std::string kHeartbeatScript;

// ARGV prefix, group, consumer, visibility ms. The consumer's unacknowledged
// messages become due for redelivery at once; 1 left, 0 unknown.
extern const std::string kLeaveScript;

// KEYS[1] meta; ARGV prefix, group, consumer, now ms, session ms,
// visibility ms, max retries, max, rotation seed, instance. Renews the session, releases expired
// consumers' messages, then takes up to max messages: first those polled
// and not acknowledged within the visibility timeout (moving any delivered
// max-retries times to <topic>.dlq instead), then new ones. Returns
// {{topic, partition, id, deliveries, {field, value, ...}}..., dlq moves,
// {topic...}}; error "NOCONSUMER".
extern const std::string kPollScript;

// ARGV prefix, group, consumer, now ms, then topic, partition, id per
// message. The number acknowledged; error "NOCONSUMER".
extern const std::string kAckScript;

// ARGV prefix, group, consumer, now ms, visibility ms, delay ms, then
// topic, partition, id per message. Each becomes due for redelivery after
// `delay` (at once for 0; delay <= visibility). The number; "NOCONSUMER".
extern const std::string kNackScript;

// ARGV prefix, group, consumer, now ms, topic, partition, id. Acknowledges
// every pending message of the group on that partition up to id.
extern const std::string kCommitScript;

// ARGV prefix, now ms, limit. Moves due delayed messages into their topics
// and returns how many.
extern const std::string kReleaseDelayedScript;

// ARGV prefix, now ms, forget ms. {{instance, "<started> <seen>", ...},
// {{group, {topic...}, {consumer, member value, ...}}...}}; instances not
// seen for `forget` are dropped.
extern const std::string kClusterScript;

// ARGV prefix. {{topic, partition, group, lag (-1 unknown), pending}...}.
extern const std::string kLagScript;

// Every script above, for loading them into Redis's script cache.
extern const std::array<const std::string*, 13> kAllScripts;

// The SHA-1 (hex) Redis knows `script` by; `script` must view one of
// kAllScripts itself (found by address; the digests are computed once).
const std::string& script_sha1(std::string_view script);

}  // namespace gpsrelay::topics
