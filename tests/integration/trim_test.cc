// When an entry leaves the stream (stream_consumer.h): only once every
// enabled consumer group has acknowledged it, whichever group is last.
// StreamConsumers are driven directly on an event loop against a real
// redis-server; a group that is "stopped" is one nobody reads for, and what
// another group has read but not finished is set up with plain XREADGROUP.
// The last test runs the real gpsrelayd with [locations] enabled and no
// locations consumer yet: forwarding must not trim what that group still needs.
#include <gtest/gtest.h>

#include <chrono>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "core/event_loop.h"
#include "queue/stream_consumer.h"
#include "queue/stream_schema.h"
#include "support/eventually.h"
#include "support/gpsrelay_fixture.h"
#include "support/redis_server.h"
#include "support/upstream_server.h"

namespace gpsrelay::queue {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;
using Ids = std::vector<std::string>;

constexpr std::string_view kStream = "reports";
const std::string kForwarders = "forwarders";
const std::string kLocations = "locations";

// Finishes every entry the moment it is handed out, as a listener whose work
// always succeeds at once.
class FinishingListener : public StreamConsumerListener {
 public:
  void on_entry(StreamEntry entry) override {
    handed_out.push_back(entry.id);
    consumer->finish(entry.id);
  }
  std::size_t free_slots() const override { return 64; }

  StreamConsumer* consumer = nullptr;
  Ids handed_out;
};

// One StreamConsumer of `group`, told that `all_groups` are enabled, on its
// own event loop. It runs only inside run_until().
class ConsumerRun {
 public:
  ConsumerRun(const testing::RedisServer& redis, const std::string& group, Ids all_groups)
      : base_(core::make_event_base()),
        consumer_(base_.get(), options(redis, group, std::move(all_groups)), listener_) {
    listener_.consumer = &consumer_;
    consumer_.start();
  }

  // Runs the loop until `done` holds (checked every 20 ms) or `timeout`
  // passed; returns `done`'s last answer.
  bool run_until(const std::function<bool()>& done, milliseconds timeout = seconds(8)) {
    core::Timer tick(base_.get(), [&] {
      consumer_.wake();
      if (done()) event_base_loopbreak(base_.get());
    });
    tick.start_periodic(milliseconds(20));
    core::Timer deadline(base_.get(), [&] { event_base_loopbreak(base_.get()); });
    deadline.start_once(timeout);
    event_base_dispatch(base_.get());
    return done();
  }
  // Until this consumer has acknowledged `count` entries in all.
  bool run_until_acknowledged(std::uint64_t count) {
    return run_until([&] { return consumer_.entries_acknowledged() >= count; });
  }

  StreamConsumer& consumer() { return consumer_; }
  const Ids& handed_out() const { return listener_.handed_out; }

 private:
  static StreamConsumer::Options options(const testing::RedisServer& redis,
                                         const std::string& group, Ids all_groups) {
    StreamConsumer::Options options;
    options.connection.address.host = "127.0.0.1";
    options.connection.address.port = static_cast<std::uint16_t>(redis.port());
    options.stream = kStream;
    options.group = group;
    options.all_groups = std::move(all_groups);
    options.consumer = "test";
    options.block = milliseconds(50);
    return options;
  }

  core::EventBasePtr base_;
  FinishingListener listener_;
  StreamConsumer consumer_;
};

class TrimTest : public ::testing::Test {
 protected:
  void SetUp() override {
    create_group(kForwarders);
    create_group(kLocations);
  }

  void create_group(const std::string& group) {
    client_.command({"XGROUP", "CREATE", std::string(kStream), group, "0", "MKSTREAM"});
  }
  Ids add_entries(int count) {
    Ids ids;
    for (int i = 0; i < count; ++i) {
      ids.push_back(client_.xadd(kStream, {{std::string(kPayloadField), std::to_string(i)}}));
    }
    return ids;
  }
  Ids stream_ids() {
    Ids ids;
    for (const testing::StreamEntry& entry : client_.xrange(kStream)) ids.push_back(entry.id);
    return ids;
  }
  // Reads up to `count` new entries for `group` the way a consumer that has
  // not finished them yet would: they are pending in that group.
  void read_without_ack(const std::string& group, int count) {
    client_.command({"XREADGROUP", "GROUP", group, "someone", "COUNT", std::to_string(count),
                     "STREAMS", std::string(kStream), ">"});
  }
  void ack(const std::string& group, const std::string& id) {
    client_.command({"XACK", std::string(kStream), group, id});
  }
  long long pending(const std::string& group) {
    return client_.command({"XPENDING", std::string(kStream), group})->element[0]->integer;
  }

  testing::RedisServer redis_;
  testing::RedisClient client_ = redis_.client();
};

TEST_F(TrimTest, TrimWaitsForAStoppedGroupThenItsAcknowledgementDeletes) {
  const Ids ids = add_entries(5);
  {
    ConsumerRun forwarders(redis_, kForwarders, {kForwarders, kLocations});
    ASSERT_TRUE(forwarders.run_until_acknowledged(5));
    EXPECT_EQ(forwarders.consumer().entries_deleted(), 0u);
  }
  EXPECT_EQ(pending(kForwarders), 0) << "the forwarders did not acknowledge";
  EXPECT_EQ(client_.xlen(kStream), 5) << "deleted while the locations group still needs them";

  ConsumerRun locations(redis_, kLocations, {kForwarders, kLocations});
  ASSERT_TRUE(locations.run_until_acknowledged(5));
  EXPECT_EQ(locations.handed_out(), ids);
  EXPECT_EQ(locations.consumer().entries_deleted(), 5u);
  EXPECT_EQ(client_.xlen(kStream), 0);
}

TEST_F(TrimTest, TrimDeletesWhenTheOtherGroupAcknowledgesLastToo) {
  add_entries(4);
  {
    ConsumerRun locations(redis_, kLocations, {kForwarders, kLocations});
    ASSERT_TRUE(locations.run_until_acknowledged(4));
    EXPECT_EQ(locations.consumer().entries_deleted(), 0u);
  }
  EXPECT_EQ(client_.xlen(kStream), 4);

  ConsumerRun forwarders(redis_, kForwarders, {kForwarders, kLocations});
  ASSERT_TRUE(forwarders.run_until_acknowledged(4));
  EXPECT_EQ(forwarders.consumer().entries_deleted(), 4u);
  EXPECT_EQ(client_.xlen(kStream), 0);
}

TEST_F(TrimTest, TrimKeepsEntriesAnotherGroupReadButHasNotAcknowledged) {
  const Ids ids = add_entries(5);
  // The locations group read all five and finished the 1st and 4th: what is
  // pending there spans ids[1]..ids[4], so ids[0] is decided by the pending
  // summary's bounds and ids[3] by a lookup in the pending list.
  read_without_ack(kLocations, 5);
  ack(kLocations, ids[0]);
  ack(kLocations, ids[3]);

  ConsumerRun forwarders(redis_, kForwarders, {kForwarders, kLocations});
  ASSERT_TRUE(forwarders.run_until_acknowledged(5));
  EXPECT_EQ(forwarders.consumer().entries_deleted(), 2u);
  EXPECT_EQ(stream_ids(), Ids({ids[1], ids[2], ids[4]}));
  EXPECT_EQ(pending(kLocations), 3);
}

TEST_F(TrimTest, TrimKeepsEntriesNewerThanWhatAnotherGroupWasDelivered) {
  const Ids ids = add_entries(4);
  read_without_ack(kLocations, 2);
  ack(kLocations, ids[0]);
  ack(kLocations, ids[1]);

  ConsumerRun forwarders(redis_, kForwarders, {kForwarders, kLocations});
  ASSERT_TRUE(forwarders.run_until_acknowledged(4));
  EXPECT_EQ(forwarders.consumer().entries_deleted(), 2u);
  EXPECT_EQ(stream_ids(), Ids({ids[2], ids[3]}));
}

TEST_F(TrimTest, TrimIgnoresAListedGroupThatNoLongerExists) {
  client_.command({"XGROUP", "DESTROY", std::string(kStream), kLocations});
  ConsumerRun forwarders(redis_, kForwarders, {kForwarders, kLocations});
  // The consumer creates every listed group when it connects, so that none
  // misses an entry the others would delete...
  ASSERT_TRUE(forwarders.run_until([&] {
    return client_.command({"XINFO", "GROUPS", std::string(kStream)})->elements == 2;
  }));
  // ...and an operator who deletes one later only stops it holding entries back.
  client_.command({"XGROUP", "DESTROY", std::string(kStream), kLocations});
  add_entries(3);
  ASSERT_TRUE(forwarders.run_until_acknowledged(3));
  EXPECT_EQ(forwarders.consumer().entries_deleted(), 3u);
  EXPECT_EQ(client_.xlen(kStream), 0);
}

TEST_F(TrimTest, TrimIgnoresGroupsThatAreNotListed) {
  // The locations group exists but is not enabled: it holds nothing back.
  add_entries(3);
  ConsumerRun forwarders(redis_, kForwarders, {kForwarders});
  ASSERT_TRUE(forwarders.run_until_acknowledged(3));
  EXPECT_EQ(client_.xlen(kStream), 0);
}

TEST_F(TrimTest, TrimAcknowledgementsSurviveAFlushedScriptCache) {
  ConsumerRun forwarders(redis_, kForwarders, {kForwarders});
  add_entries(2);
  ASSERT_TRUE(forwarders.run_until_acknowledged(2));
  // The cached script is gone: the next calls answer NOSCRIPT, and their
  // ids must be sent again rather than left pending.
  client_.command({"SCRIPT", "FLUSH"});
  add_entries(3);
  ASSERT_TRUE(forwarders.run_until_acknowledged(5));
  EXPECT_EQ(forwarders.consumer().entries_deleted(), 5u);
  EXPECT_EQ(pending(kForwarders), 0);
  EXPECT_EQ(client_.xlen(kStream), 0);
}

}  // namespace
}  // namespace gpsrelay::queue

namespace gpsrelay::testing {
namespace {

using std::chrono::seconds;

class TrimDaemonTest : public GpsrelayTest {};

// What XINFO GROUPS says of each group of the default stream, by name: the
// entries it has read but not acknowledged, and its last-delivered-id.
struct GroupState {
  long long pending = -1;
  std::string last_delivered;
};
std::map<std::string, GroupState> group_states(RedisClient& client) {
  std::map<std::string, GroupState> states;
  const RedisReplyPtr groups = client.command({"XINFO", "GROUPS", std::string(kDefaultStream)});
  for (std::size_t g = 0; g < groups->elements; ++g) {
    const redisReply* fields = groups->element[g];
    std::string name;
    GroupState state;
    for (std::size_t i = 0; i + 1 < fields->elements; i += 2) {
      const std::string key(fields->element[i]->str, fields->element[i]->len);
      const redisReply* value = fields->element[i + 1];
      if (key == "name") name.assign(value->str, value->len);
      if (key == "pending") state.pending = value->integer;
      if (key == "last-delivered-id") state.last_delivered.assign(value->str, value->len);
    }
    states[name] = state;
  }
  return states;
}

TEST_F(TrimDaemonTest, TrimForwardingLeavesEntriesTheLocationsGroupStillNeeds) {
  UpstreamServer upstream;
  start_daemon(DaemonConfig{{"forward", "targets", upstream.url()},
                            {"redis", "group", "fwd"},
                            {"locations", "enabled", "true"},
                            {"locations", "group", "loc"}});
  // Ingest created both groups before it was ready.
  ASSERT_EQ(group_states(redis_client()).size(), 2u);
  constexpr int kReports = 20;
  for (int i = 0; i < kReports; ++i) {
    const HttpResponse response =
        post_report(R"({"device_id":"d)" + std::to_string(i) + R"(","lat":1,"lon":2})");
    ASSERT_TRUE(is_accepted(response)) << response;
  }
  ASSERT_TRUE(eventually([&] { return upstream.request_count() >= kReports; }, seconds(10)))
      << upstream.request_count();
  // Delivered and acknowledged by the forwarder...
  ASSERT_TRUE(
      eventually([&] { return group_states(redis_client())["fwd"].pending == 0; }, seconds(5)));
  // ...but every entry stays for the locations group: it applied them to
  // the state, and holds them pending until their history rows are
  // committed, which cannot happen (no MySQL at the default address).
  ASSERT_TRUE(eventually([&] { return group_states(redis_client())["loc"].pending == kReports; },
                         seconds(5)));
  EXPECT_EQ(
      redis_client().command({"EXISTS", std::string(kDefaultStream) + ":loc:driver:d0"})->integer,
      1);
  EXPECT_EQ(stream_length(), kReports);
}

}  // namespace
}  // namespace gpsrelay::testing
