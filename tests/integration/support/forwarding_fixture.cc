// ForwardingTest (see forwarding_fixture.h).
#include "support/forwarding_fixture.h"

#include <jansson.h>
#include <signal.h>

#include <atomic>
#include <chrono>
#include <iostream>
#include <set>
#include <sstream>

#include "support/eventually.h"
#include "support/json.h"

namespace gpsrelay::testing {
namespace {

// /health's member `name` (an object), or null.
JsonPtr health_member(const std::string& health_url, const char* name) {
  const JsonPtr body = parse_json(http_get(health_url).body);
  json_t* member = body ? json_object_get(body.get(), name) : nullptr;
  return JsonPtr(member != nullptr ? json_incref(member) : nullptr);
}

}  // namespace

std::unique_ptr<MariadbServer> ForwardingTest::mariadb_;

void ForwardingTest::SetUpTestSuite() { mariadb_ = std::make_unique<MariadbServer>(); }

void ForwardingTest::TearDownTestSuite() { mariadb_.reset(); }

void ForwardingTest::SetUp() {
  GpsrelayTest::SetUp();
  static std::atomic<int> next{0};
  database_ = "gpsrelay_t" + std::to_string(next++);
  // A test may have stopped the suite's server and failed before restarting it.
  mariadb_->start();
  mariadb_->create_database(database_, std::string(kMysqlUser), std::string(kMysqlPassword));
}

DaemonConfig ForwardingTest::forwarding_to(const std::vector<UpstreamServer*>& targets) const {
  std::string list;
  for (UpstreamServer* target : targets) list += (list.empty() ? "" : ",") + target->url();
  return DaemonConfig{{"forward", "targets", list},
                      {"forward", "retry_delays", "100ms,100ms,100ms"},
                      {"forward", "timeout", "2s"},
                      {"forward", "claim_idle", "1s"},
                      {"mysql", "host", "127.0.0.1"},
                      {"mysql", "port", std::to_string(mariadb_->port())},
                      {"mysql", "user", std::string(kMysqlUser)},
                      {"mysql", "password", std::string(kMysqlPassword)},
                      {"mysql", "database", database_}};
}

DaemonConfig ForwardingTest::locations_config() const {
  DaemonConfig config = forwarding_to({});
  config.erase("forward", "targets");
  config.set("locations", "enabled", "true");
  config.set("locations", "batch_interval", "100ms");
  return config;
}

std::size_t ForwardingTest::expect_every_acknowledged_delivered(const LoadGenerator& load,
                                                                UpstreamServer& upstream,
                                                                const std::string& scenario) {
  std::set<std::string> acknowledged;
  for (const HttpResponse& response : load.results()) {
    if (response.status == 200) acknowledged.insert(message_id_of(response));
  }
  EXPECT_FALSE(acknowledged.empty());
  const auto delivered = deliveries_by_message({&upstream});
  std::size_t missing = 0;
  for (const std::string& id : acknowledged) {
    if (!delivered.contains(id) && ++missing <= 5) ADD_FAILURE() << "never delivered: " << id;
  }
  EXPECT_EQ(missing, 0u) << "of " << acknowledged.size() << " acknowledged reports";
  std::size_t duplicates = 0;
  for (const auto& [id, times] : delivered) duplicates += static_cast<std::size_t>(times - 1);
  RecordProperty("acknowledged", static_cast<int>(acknowledged.size()));
  RecordProperty("duplicates", static_cast<int>(duplicates));
  std::cout << scenario << ": " << acknowledged.size() << " acknowledged, " << delivered.size()
            << " delivered, " << duplicates << " duplicates\n";
  return duplicates;
}

std::unique_ptr<LoadGenerator> ForwardingTest::kill_nine_under_load(
    const DaemonConfig& config, std::size_t connections, UpstreamServer& upstream,
    const std::function<bool()>& enough) {
  start_daemon(config);
  auto load = std::make_unique<LoadGenerator>(daemon().ingest_url(), connections);
  EXPECT_TRUE(eventually(enough, std::chrono::seconds(20))) << "no deliveries before the kill";
  daemon().send_signal(SIGKILL);
  load->stop();
  EXPECT_TRUE(daemon().wait_for_exit(std::chrono::seconds(5)).has_value());
  upstream.set_delay(std::chrono::milliseconds(0));
  start_daemon(config);
  return load;
}

std::string loop_count_name(const ::testing::TestParamInfo<unsigned>& info) {
  return info.param == 1 ? std::string("OneLoop") : std::to_string(info.param) + "Loops";
}

std::int64_t unix_now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

std::vector<std::string> ForwardingTest::post_reports(int count, int first) {
  std::vector<std::string> ids;
  for (int i = first; i < first + count; ++i) {
    const HttpResponse response = post_report(numbered_report(i));
    EXPECT_TRUE(is_accepted(response)) << response;
    ids.push_back(message_id_of(response));
  }
  return ids;
}

std::vector<std::string> ForwardingTest::queue_reports(int count, int first) {
  DaemonConfig ingest_only = forwarding_to({});
  ingest_only.erase("forward", "targets");
  start_daemon(ingest_only);
  return post_reports(count, first);
}

long long ForwardingTest::pending_count() {
  const RedisReplyPtr reply =
      redis_client().command({"XPENDING", std::string(kDefaultStream), "gpsrelay"});
  return reply->element[0]->integer;
}

bool ForwardingTest::drained() { return stream_length() == 0 && pending_count() == 0; }

std::string ForwardingTest::forwarding_status() {
  const JsonPtr forwarding = health_member(daemon().url("/health"), "forwarding");
  return json_string(forwarding.get(), "status").value_or("missing");
}

std::string ForwardingTest::target_state(const std::string& url) {
  const JsonPtr forwarding = health_member(daemon().url("/health"), "forwarding");
  const json_t* targets = json_object_get(forwarding.get(), "targets");
  for (size_t i = 0; i < json_array_size(targets); ++i) {
    const json_t* target = json_array_get(targets, i);
    if (json_string(target, "url") == url) return json_string(target, "state").value_or("");
  }
  return "missing";
}

std::string ForwardingTest::mysql_status() {
  const JsonPtr mysql = health_member(daemon().url("/health"), "mysql");
  return json_string(mysql.get(), "status").value_or("missing");
}

std::vector<SqlRow> ForwardingTest::failed_rows() {
  return mysql().query("SELECT * FROM failed_packets ORDER BY id");
}

std::string numbered_report(int i) {
  return R"({"device":"truck-)" + std::to_string(i) + R"(","lat":52.52,"lon":13.40,"seq":)" +
         std::to_string(i) + "}";
}

std::string header_of(const ReceivedRequest& request, const std::string& name) {
  const auto found = request.headers.find(name);
  return found == request.headers.end() ? "" : found->second;
}

std::map<std::string, int> deliveries_by_message(const std::vector<UpstreamServer*>& upstreams) {
  std::map<std::string, int> count;
  for (UpstreamServer* upstream : upstreams) {
    for (const ReceivedRequest& request : upstream->requests()) {
      const std::string single = header_of(request, "x-gpsrelay-message-id");
      if (!single.empty()) {
        ++count[single];
        continue;
      }
      // A batch (forward.batch_max > 1) names its reports in one list.
      std::istringstream ids(header_of(request, "x-gpsrelay-message-ids"));
      for (std::string id; std::getline(ids, id, ',');) ++count[id];
    }
  }
  return count;
}

}  // namespace gpsrelay::testing
