// ForwardingTest: the fixture of the forwarding and failure-store suites.
// On top of GpsrelayTest (a redis-server per test) it keeps one mariadbd per
// suite, gives each test a database of its own, and configures the daemon
// to forward to the test's upstream servers with short timings and to store
// failures in that database. Plus the queries these suites assert with.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "support/gpsrelay_fixture.h"
#include "support/http_client.h"
#include "support/mariadb_server.h"
#include "support/upstream_server.h"

namespace gpsrelay::testing {

inline constexpr std::string_view kMysqlUser = "gpsrelay";
inline constexpr std::string_view kMysqlPassword = "test-secret";

class ForwardingTest : public GpsrelayTest {
 protected:
  static void SetUpTestSuite();
  static void TearDownTestSuite();
  void SetUp() override;

  static MariadbServer& mariadb() { return *mariadb_; }
  const std::string& database() const { return database_; }
  // A root connection to this test's database.
  MysqlClient mysql() const { return mariadb_->client(database_); }

  // Forwarding to `targets` (their /ingest URLs) with retry delays of
  // 100 ms, a 2 s timeout, claim_idle 1 s, and this test's database.
  DaemonConfig forwarding_to(const std::vector<UpstreamServer*>& targets) const;
  // [locations] enabled with history in the suite's MySQL (batches
  // flushed every 100 ms), no forward targets.
  DaemonConfig locations_config() const;

  // Posts `count` reports numbered from `first`; the message ids.
  std::vector<std::string> post_reports(int count, int first = 0);
  // Posts them through a daemon that does not forward, so that the next
  // daemon started finds them all waiting and sends them at once.
  std::vector<std::string> queue_reports(int count, int first = 0);

  // Entries read by the group but not acknowledged.
  long long pending_count();
  // Every entry was delivered or stored, and removed from the stream.
  bool drained();

  // /health's forwarding.status, and the state it shows for one target.
  std::string forwarding_status();
  std::string target_state(const std::string& url);
  // /health's mysql.status.
  std::string mysql_status();

  std::vector<SqlRow> failed_rows();

  // Every report `load` got a 200 for reached `upstream`; returns how many
  // arrived more than once (at-least-once allows it) and prints the counts.
  std::size_t expect_every_acknowledged_delivered(const LoadGenerator& load,
                                                  UpstreamServer& upstream,
                                                  const std::string& scenario);

  // kill -9 under load: starts the daemon with `config` and `connections`
  // clients posting reports, waits until `enough()` (say, deliveries have
  // begun), SIGKILLs the daemon, stops the clients, lets `upstream` answer
  // at once and starts the daemon again. Returns the clients: their
  // answers say what was acknowledged. The caller waits for drained().
  std::unique_ptr<LoadGenerator> kill_nine_under_load(const DaemonConfig& config,
                                                      std::size_t connections,
                                                      UpstreamServer& upstream,
                                                      const std::function<bool()>& enough);

 private:
  static std::unique_ptr<MariadbServer> mariadb_;
  std::string database_;
};

// Names the instances of a suite parametrised by forward.threads:
// "OneLoop", "4Loops".
std::string loop_count_name(const ::testing::TestParamInfo<unsigned>& info);

// A GPS report body numbered `i`.
std::string numbered_report(int i);

// The wall clock as Unix milliseconds (report timestamps).
std::int64_t unix_now_ms();

// The value of a received request's header (names are lower-case).
std::string header_of(const ReceivedRequest& request, const std::string& name);

// How often each report reached any of `upstreams`, by its message id
// (X-GPSRelay-Message-ID, or each id of a batch's X-GPSRelay-Message-IDs).
std::map<std::string, int> deliveries_by_message(const std::vector<UpstreamServer*>& upstreams);

}  // namespace gpsrelay::testing
