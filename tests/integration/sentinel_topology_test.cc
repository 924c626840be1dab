// The SentinelTopology test support against real redis-server and Sentinel
// processes: the topology it starts replicates, fails over when the primary
// is SIGKILLed, and takes the old primary back as a replica. Failover tests
// of the daemon rely on exactly this; the timings are recorded as test
// properties so a slower Redis or machine shows up here first.
#include "support/sentinel_topology.h"

#include <gtest/gtest.h>

#include <chrono>
#include <iostream>
#include <string>

#include "support/eventually.h"

namespace gpsrelay::testing {
namespace {

using std::chrono::seconds;

std::string get(RedisClient& client, const std::string& key) {
  const RedisReplyPtr reply = client.command({"GET", key});
  return reply->str != nullptr ? std::string(reply->str, reply->len) : std::string();
}

std::string role_of(RedisServer& server) {
  RedisClient client = server.client();
  const RedisReplyPtr reply = client.command({"ROLE"});
  if (reply->elements == 0 || reply->element[0]->str == nullptr) return {};
  return reply->element[0]->str;
}

TEST(SentinelTopologyTest, FailsOverToAReplicaAndTakesTheOldPrimaryBackAsAReplica) {
  const auto started = Clock::now();
  SentinelTopology topology;
  const auto start_time = elapsed_since(started);
  std::cout << "topology started in " << start_time.count() << " ms\n";
  RecordProperty("start_ms", static_cast<int>(start_time.count()));

  const std::vector<RedisServer*> servers = topology.servers();
  ASSERT_EQ(servers.size(), 3u);
  const int old_primary = topology.primary_port();
  ASSERT_EQ(old_primary, servers[0]->port()) << "the sentinels report the server started first";
  EXPECT_EQ(role_of(*servers[0]), "master");
  EXPECT_EQ(topology.sentinels_address(),
            "127.0.0.1:" + std::to_string(topology.sentinel_port(0)) +
                ",127.0.0.1:" + std::to_string(topology.sentinel_port(1)) +
                ",127.0.0.1:" + std::to_string(topology.sentinel_port(2)));

  RedisClient primary = topology.primary_client();
  primary.command({"SET", "before-failover", "kept"});
  RedisClient replica = servers[1]->client();
  EXPECT_TRUE(eventually([&] { return get(replica, "before-failover") == "kept"; }, seconds(5)));
  // WAIT: the write is on both replicas before the primary dies, so whichever
  // is promoted has it.
  EXPECT_EQ(primary.command({"WAIT", "2", "5000"})->integer, 2);

  const auto killed = Clock::now();
  ASSERT_EQ(topology.kill_primary(), old_primary);
  const int new_primary = topology.wait_for_failover(old_primary);
  const auto failover_time = elapsed_since(killed);
  std::cout << "failover " << old_primary << " -> " << new_primary << " took "
            << failover_time.count() << " ms\n";
  RecordProperty("failover_ms", static_cast<int>(failover_time.count()));

  EXPECT_TRUE(new_primary == servers[1]->port() || new_primary == servers[2]->port())
      << new_primary;
  EXPECT_EQ(role_of(topology.server_on_port(new_primary)), "master");
  for (int i = 0; i < topology.sentinel_count(); ++i) {
    EXPECT_EQ(topology.primary_port_reported_by(i), new_primary) << "sentinel " << i;
  }
  RedisClient promoted = topology.primary_client();
  EXPECT_EQ(get(promoted, "before-failover"), "kept");
  promoted.command({"SET", "after-failover", "new"});

  const auto restarted = Clock::now();
  topology.restart_server(old_primary);
  // Connected while the old primary still thinks it is one: sentinel's
  // conversion to a replica drops this connection.
  RedisClient held = topology.server_on_port(old_primary).client();
  ASSERT_TRUE(held.ping());
  topology.wait_for_replica(old_primary, new_primary);
  const auto rejoin_time = elapsed_since(restarted);
  std::cout << "old primary back as a replica after " << rejoin_time.count() << " ms\n";
  RecordProperty("rejoin_ms", static_cast<int>(rejoin_time.count()));

  EXPECT_EQ(role_of(topology.server_on_port(old_primary)), "slave");
  EXPECT_THROW(held.command({"PING"}), std::runtime_error)
      << "sentinel's REPLICAOF did not kill the clients of the demoted primary";
  RedisClient rejoined = topology.server_on_port(old_primary).client();
  EXPECT_TRUE(eventually([&] { return get(rejoined, "after-failover") == "new"; }, seconds(5)));
  EXPECT_EQ(topology.primary_port(), new_primary);
}

}  // namespace
}  // namespace gpsrelay::testing
