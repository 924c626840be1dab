// StreamConsumer against a real redis-server, for what its catch boundary
// promises: a listener that throws on an entry does not lose it (the entry
// stays pending and a reclaim hands it out again), and the other entries
// of the same reply are still handed out.
#include "queue/stream_consumer.h"

#include <gtest/gtest.h>

#include <chrono>
#include <map>
#include <set>
#include <stdexcept>
#include <string>

#include "core/event_loop.h"
#include "queue/stream_schema.h"
#include "support/redis_server.h"

namespace gpsrelay::queue {
namespace {

using std::chrono::milliseconds;

constexpr std::string_view kStream = "reports";
constexpr std::string_view kGroup = "forwarders";

// Throws the first time it is given each id in `faulty`, takes everything else.
class FaultyListener : public StreamConsumerListener {
 public:
  explicit FaultyListener(std::set<std::string> faulty) : faulty_(std::move(faulty)) {}

  void on_entry(StreamEntry entry) override {
    if (faulty_.erase(entry.id) != 0) throw std::runtime_error("injected fault");
    received[entry.id] = entry.payload;
  }
  std::size_t free_slots() const override { return 16; }

  std::map<std::string, std::string> received;

 private:
  std::set<std::string> faulty_;
};

TEST(StreamConsumerTest, EntryWhoseListenerThrowsIsHandedOutAgainByAReclaim) {
  testing::RedisServer redis;
  testing::RedisClient client = redis.client();
  client.command({"XGROUP", "CREATE", std::string(kStream), std::string(kGroup), "0", "MKSTREAM"});
  const std::string first = client.xadd(kStream, {{std::string(kPayloadField), "{\"n\":1}"}});
  const std::string second = client.xadd(kStream, {{std::string(kPayloadField), "{\"n\":2}"}});

  core::EventBasePtr base = core::make_event_base();
  StreamConsumer::Options options;
  options.connection.address.host = "127.0.0.1";
  options.connection.address.port = static_cast<std::uint16_t>(redis.port());
  options.stream = kStream;
  options.group = kGroup;
  options.consumer = "test";
  options.block = milliseconds(100);
  options.claim_idle = milliseconds(200);  // claims are checked once a second
  FaultyListener listener({first});
  StreamConsumer consumer(base.get(), options, listener);
  consumer.start();

  // The forwarder's tick wakes the consumer; so does this test's.
  core::Timer tick(base.get(), [&] {
    consumer.wake();
    if (listener.received.size() == 2) event_base_loopbreak(base.get());
  });
  tick.start_periodic(milliseconds(50));
  core::Timer deadline(base.get(), [&] { event_base_loopbreak(base.get()); });
  deadline.start_once(milliseconds(8000));
  event_base_dispatch(base.get());

  EXPECT_EQ(listener.received.count(second), 1u) << "the fault cost the other entry";
  EXPECT_EQ(listener.received.count(first), 1u) << "the entry whose listener threw was lost";
  EXPECT_GE(consumer.entries_reclaimed(), 1u);
}

}  // namespace
}  // namespace gpsrelay::queue
