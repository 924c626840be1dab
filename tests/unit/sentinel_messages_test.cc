// What the sentinels say, parsed (queue/sentinel_messages.h).
#include "queue/sentinel_messages.h"

#include <gtest/gtest.h>

#include <string_view>
#include <vector>

namespace gpsrelay::queue {
namespace {

using core::Endpoint;

TEST(SentinelEndpoint, TakesAHostAndAPort) {
  EXPECT_EQ(sentinel_endpoint("127.0.0.1", "6380"), (Endpoint{"127.0.0.1", 6380, ""}));
  EXPECT_EQ(sentinel_endpoint("::1", "6379"), (Endpoint{"::1", 6379, ""}));
  EXPECT_EQ(sentinel_endpoint("redis-2.example", "65535"),
            (Endpoint{"redis-2.example", 65535, ""}));
}

TEST(SentinelEndpoint, RefusesWhatCannotBeConnectedTo) {
  for (const auto& [host, port] : std::vector<std::pair<std::string_view, std::string_view>>{
           {"", "6379"},
           {"a b", "6379"},
           {"host\n", "6379"},
           {"host", ""},
           {"host", "0"},
           {"host", "65536"},
           {"host", "-1"},
           {"host", "63 79"},
           {"host", "6379x"},
           {"host", "99999999999999999999"}}) {
    EXPECT_FALSE(sentinel_endpoint(host, port)) << host << ":" << port;
  }
}

TEST(SwitchMaster, ParsesTheAnnouncement) {
  const auto change = parse_switch_master("mymaster 127.0.0.1 6379 127.0.0.1 6380");
  ASSERT_TRUE(change);
  EXPECT_EQ(change->master_name, "mymaster");
  EXPECT_EQ(change->from, (Endpoint{"127.0.0.1", 6379, ""}));
  EXPECT_EQ(change->to, (Endpoint{"127.0.0.1", 6380, ""}));
}

TEST(SwitchMaster, RefusesAnythingElse) {
  for (const std::string_view payload :
       {"", "mymaster", "mymaster 127.0.0.1 6379 127.0.0.1",
        "mymaster 127.0.0.1 6379 127.0.0.1 6380 x", "mymaster  127.0.0.1 6379 127.0.0.1 6380",
        "mymaster 127.0.0.1 6379 127.0.0.1 6380 ", "mymaster 127.0.0.1 6379 127.0.0.1 port",
        " mymaster 127.0.0.1 6379 127.0.0.1 6380"}) {
    EXPECT_FALSE(parse_switch_master(payload)) << "'" << payload << "'";
  }
}

TEST(MasterInfo, TakesAddressAndEpochFromTheFieldList) {
  const std::vector<std::string_view> fields{"name",  "mymaster", "ip",           "127.0.0.1",
                                             "port",  "6381",     "runid",        "abc",
                                             "flags", "master",   "config-epoch", "7"};
  const auto info = parse_master_info(fields);
  ASSERT_TRUE(info);
  EXPECT_EQ(info->address, (Endpoint{"127.0.0.1", 6381, ""}));
  EXPECT_EQ(info->config_epoch, 7u);
}

TEST(MasterInfo, AnswersMarkedDownOrFailingOverAreNotSettled) {
  using Fields = std::vector<std::string_view>;
  const auto info = [](std::string_view flags) {
    return parse_master_info(
        Fields{"ip", "127.0.0.1", "port", "6379", "flags", flags, "config-epoch", "2"});
  };
  EXPECT_TRUE(info("master")->settled);
  EXPECT_FALSE(info("master,s_down")->settled);
  EXPECT_FALSE(info("master,s_down,o_down")->settled);
  EXPECT_FALSE(info("master,failover_in_progress")->settled);
  EXPECT_TRUE(info("master,disconnected_not")->settled);
  EXPECT_TRUE(parse_master_info(Fields{"ip", "h", "port", "1", "config-epoch", "0"})->settled);
}

TEST(MasterInfo, NeedsAddressAndEpoch) {
  using Fields = std::vector<std::string_view>;
  EXPECT_FALSE(parse_master_info(Fields{}));
  EXPECT_FALSE(parse_master_info(Fields{"ip", "127.0.0.1", "port", "6381"}));
  EXPECT_FALSE(parse_master_info(Fields{"ip", "127.0.0.1", "config-epoch", "1"}));
  EXPECT_FALSE(parse_master_info(Fields{"ip", "127.0.0.1", "port", "6381", "config-epoch", "x"}));
  EXPECT_FALSE(parse_master_info(Fields{"ip", "127.0.0.1", "port", "6381", "config-epoch", ""}));
  EXPECT_FALSE(parse_master_info(Fields{"ip", "", "port", "6381", "config-epoch", "1"}));
  // An odd field count: the dangling name is ignored.
  EXPECT_TRUE(parse_master_info(Fields{"ip", "h", "port", "1", "config-epoch", "0", "flags"}));
}

}  // namespace
}  // namespace gpsrelay::queue
