// Batched delivery end to end (forward.batch_max > 1): gpsrelayd with real
// upstream HTTP servers, redis-server and mariadbd. Reports arrive as JSON
// arrays whose id headers pair with their elements; a failed batch is
// retried whole, to the next target; a rejected one lands in failed_packets
// report by report; a kill -9 loses nothing acknowledged. (Single-report
// delivery, batch_max = 1, is forward_test.cc.)
#include <gtest/gtest.h>
#include <signal.h>

#include <algorithm>
#include <chrono>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "support/daemon_process.h"
#include "support/eventually.h"
#include "support/forwarding_fixture.h"
#include "support/gpsrelay_fixture.h"
#include "support/http_client.h"
#include "support/upstream_server.h"

namespace gpsrelay::testing {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

constexpr int kBatchMax = 10;

// "a,b,c" -> {a, b, c}; "" -> {}.
std::vector<std::string> split_list(const std::string& list) {
  std::vector<std::string> items;
  if (list.empty()) return items;
  std::size_t start = 0;
  for (std::size_t comma = list.find(','); comma != std::string::npos;
       comma = list.find(',', start)) {
    items.push_back(list.substr(start, comma - start));
    start = comma + 1;
  }
  items.push_back(list.substr(start));
  return items;
}

// The message ids a request carried, in its array's order.
std::vector<std::string> ids_of(const ReceivedRequest& request) {
  return split_list(header_of(request, "x-gpsrelay-message-ids"));
}

// Like ForwardTest, with one delivery loop and with four (forward.threads).
class BatchForwardTest : public ForwardingTest, public ::testing::WithParamInterface<unsigned> {
 protected:
  DaemonConfig batching_to(const std::vector<UpstreamServer*>& targets) const {
    DaemonConfig config = forwarding_to(targets);
    config.set("forward", "threads", std::to_string(GetParam()));
    config.set("forward", "batch_max", std::to_string(kBatchMax));
    return config;
  }

  // ForwardingTest::queue_reports, remembering each report's body by its
  // message id.
  std::vector<std::string> queue_reports(int count, int first = 0) {
    const std::vector<std::string> ids = ForwardingTest::queue_reports(count, first);
    for (std::size_t i = 0; i < ids.size(); ++i) {
      payloads_[ids[i]] = numbered_report(first + static_cast<int>(i));
    }
    return ids;
  }

  void remember(const std::string& id, const std::string& payload) { payloads_[id] = payload; }

  // The body a batch of `ids` must have: their payloads, joined as sent.
  std::string array_of(const std::vector<std::string>& ids) const {
    std::string body = "[";
    for (const std::string& id : ids) {
      if (body.size() > 1) body += ',';
      const auto found = payloads_.find(id);
      body += found == payloads_.end() ? "<unknown id " + id + ">" : found->second;
    }
    return body + "]";
  }

  // Every request is a well-formed batch: at most kBatchMax reports, the
  // body the array of exactly the payloads its id header names, in order,
  // and a request id per report.
  void expect_well_formed(const std::vector<ReceivedRequest>& requests) const {
    for (const ReceivedRequest& request : requests) {
      const std::vector<std::string> ids = ids_of(request);
      ASSERT_FALSE(ids.empty());
      EXPECT_LE(ids.size(), static_cast<std::size_t>(kBatchMax));
      EXPECT_EQ(request.body, array_of(ids));
      EXPECT_EQ(request.method, "POST");
      EXPECT_EQ(header_of(request, "content-type"), "application/json");
      EXPECT_EQ(split_list(header_of(request, "x-request-ids")).size(), ids.size());
      // The single-report headers would name one report of many.
      EXPECT_EQ(header_of(request, "x-gpsrelay-message-id"), "");
      EXPECT_EQ(header_of(request, "x-request-id"), "");
    }
  }

 private:
  std::map<std::string, std::string> payloads_;  // message id -> body
};

// How often each report was carried by requests[first..] (the ones the
// upstream answered 2xx: its script fails the ones before).
std::map<std::string, int> delivered_ids(const std::vector<ReceivedRequest>& requests,
                                         std::size_t first) {
  std::map<std::string, int> count;
  for (std::size_t i = first; i < requests.size(); ++i) {
    for (const std::string& id : ids_of(requests[i])) ++count[id];
  }
  return count;
}

TEST_P(BatchForwardTest, WaitingReportsArriveAsArraysOfUpToBatchMaxInStreamOrder) {
  constexpr int kReports = 25;
  const std::vector<std::string> ids = queue_reports(kReports);
  UpstreamServer upstream;
  start_daemon(batching_to({&upstream}));

  ASSERT_TRUE(eventually([&] { return drained(); }, seconds(20)))
      << "stream length " << stream_length() << ", pending " << pending_count();
  const std::vector<ReceivedRequest> requests = upstream.requests();
  expect_well_formed(requests);
  // One read brought all 25: batches of 10, 10 and 5.
  ASSERT_EQ(requests.size(), 3u);
  // The arrays, ordered by their first report, are the stream in order.
  std::map<std::size_t, std::vector<std::string>> by_position;
  for (const ReceivedRequest& request : requests) {
    const std::vector<std::string> batch = ids_of(request);
    const auto position = std::find(ids.begin(), ids.end(), batch.front()) - ids.begin();
    by_position[static_cast<std::size_t>(position)] = batch;
    EXPECT_EQ(header_of(request, "x-gpsrelay-attempt"), "1");
  }
  std::vector<std::string> concatenated;
  for (const auto& [position, batch] : by_position) {
    concatenated.insert(concatenated.end(), batch.begin(), batch.end());
  }
  EXPECT_EQ(concatenated, ids);

  EXPECT_TRUE(failed_rows().empty());
  const MetricsPage metrics = scrape_metrics();
  // Reports, not requests.
  EXPECT_EQ(metrics.sum("gpsrelay_deliveries_total", {{"result", "delivered"}}), kReports);
  EXPECT_TRUE(eventually([&] { return scrape_metrics().sum("gpsrelay_deliveries_in_flight") == 0; },
                         seconds(2)));
}

TEST_P(BatchForwardTest, ABatchStopsAtBatchMaxBytesAndALargerReportGoesAlone) {
  constexpr std::size_t kMaxBytes = 200;
  std::vector<std::string> ids = queue_reports(24);
  const std::string large =
      R"({"device":"truck-big","note":")" + std::string(kMaxBytes, 'x') + R"("})";
  const HttpResponse response = post_report(large);
  ASSERT_TRUE(is_accepted(response)) << response;
  remember(message_id_of(response), large);
  ids.push_back(message_id_of(response));
  UpstreamServer upstream;
  DaemonConfig config = batching_to({&upstream});
  config.set("forward", "batch_max_bytes", std::to_string(kMaxBytes));
  start_daemon(config);

  ASSERT_TRUE(eventually([&] { return drained(); }, seconds(20)));
  const std::vector<ReceivedRequest> requests = upstream.requests();
  expect_well_formed(requests);
  std::map<std::string, int> carried;
  for (const ReceivedRequest& request : requests) {
    const std::vector<std::string> batch = ids_of(request);
    if (batch.size() > 1) {
      EXPECT_LE(request.body.size(), kMaxBytes) << request.body;
    } else if (batch.front() == ids.back()) {
      EXPECT_EQ(request.body, "[" + large + "]");
    }
    for (const std::string& id : batch) ++carried[id];
  }
  EXPECT_EQ(carried.size(), ids.size());
  for (const std::string& id : ids) EXPECT_EQ(carried[id], 1) << id;
  // Without the cap one read makes 10 + 10 + 5; with it, ~52-byte reports
  // go three to a 200-byte body, and the large one alone.
  EXPECT_EQ(requests.size(), 9u);
  EXPECT_TRUE(failed_rows().empty());
}

TEST_P(BatchForwardTest, AReportOnAQuietStreamIsSentAtOnceAsAnArrayOfOne) {
  UpstreamServer upstream;
  start_daemon(batching_to({&upstream}));
  const HttpResponse response =
      post_report(numbered_report(3), {"Content-Type: application/json", "X-Request-ID: one-3"});
  ASSERT_TRUE(is_accepted(response)) << response;
  remember(message_id_of(response), numbered_report(3));

  ASSERT_TRUE(eventually([&] { return upstream.request_count() == 1; }, seconds(5)));
  const ReceivedRequest request = upstream.requests().front();
  expect_well_formed({request});
  EXPECT_EQ(request.body, "[" + numbered_report(3) + "]");
  EXPECT_EQ(header_of(request, "x-gpsrelay-message-ids"), message_id_of(response));
  EXPECT_EQ(header_of(request, "x-request-ids"), "one-3");
  ASSERT_TRUE(eventually([&] { return drained(); }, seconds(5)));
}

TEST_P(BatchForwardTest, FailedBatchesAreRetriedWholeAndNothingIsLost) {
  constexpr int kReports = 25;
  const std::vector<std::string> ids = queue_reports(kReports);
  UpstreamServer upstream;
  upstream.script({503, 503});  // the first two requests fail, whichever batches they carry
  start_daemon(batching_to({&upstream}));

  ASSERT_TRUE(eventually([&] { return drained(); }, seconds(20)))
      << "stream length " << stream_length() << ", pending " << pending_count();
  const std::vector<ReceivedRequest> requests = upstream.requests();
  expect_well_formed(requests);
  ASSERT_EQ(requests.size(), 5u);  // three batches, two of them twice
  std::size_t failed_reports = 0;
  for (std::size_t i = 0; i < 2; ++i) {
    const ReceivedRequest& failed = requests[i];
    EXPECT_EQ(header_of(failed, "x-gpsrelay-attempt"), "1");
    failed_reports += ids_of(failed).size();
    // The retry: the same reports in one request, attempt 2.
    const auto retry = std::find_if(requests.begin() + 2, requests.end(), [&](const auto& r) {
      return header_of(r, "x-gpsrelay-message-ids") == header_of(failed, "x-gpsrelay-message-ids");
    });
    ASSERT_NE(retry, requests.end())
        << "batch " << header_of(failed, "x-gpsrelay-message-ids") << " was not retried whole";
    EXPECT_EQ(header_of(*retry, "x-gpsrelay-attempt"), "2");
    EXPECT_EQ(retry->body, failed.body);
  }
  // Every report answered 2xx exactly once.
  const std::map<std::string, int> delivered = delivered_ids(requests, 2);
  EXPECT_EQ(delivered.size(), ids.size());
  for (const std::string& id : ids) EXPECT_EQ(delivered.count(id) ? delivered.at(id) : 0, 1) << id;
  EXPECT_TRUE(failed_rows().empty());

  const MetricsPage metrics = scrape_metrics();
  EXPECT_EQ(metrics.sum("gpsrelay_deliveries_total", {{"result", "delivered"}}), kReports);
  EXPECT_EQ(metrics.sum("gpsrelay_deliveries_total", {{"result", "failed"}}),
            static_cast<double>(failed_reports));
  EXPECT_EQ(metrics.sum("gpsrelay_retries_scheduled_total"), static_cast<double>(failed_reports));
}

TEST_P(BatchForwardTest, ABatchFailingOnOneTargetIsRetriedWholeOnTheNext) {
  constexpr int kReports = 40;
  const std::vector<std::string> ids = queue_reports(kReports);
  UpstreamServer failing;
  UpstreamServer good;
  failing.set_default_status(503);
  DaemonConfig config = batching_to({&failing, &good});
  config.set("forward", "breaker_failures", "1000");
  start_daemon(config);

  ASSERT_TRUE(eventually([&] { return drained(); }, seconds(20)))
      << "stream length " << stream_length() << ", pending " << pending_count();
  const std::vector<ReceivedRequest> failed = failing.requests();
  const std::vector<ReceivedRequest> delivered = good.requests();
  expect_well_formed(failed);
  expect_well_formed(delivered);
  EXPECT_FALSE(failed.empty());
  std::map<std::string, const ReceivedRequest*> delivered_batches;  // id list -> request
  for (const ReceivedRequest& request : delivered) {
    delivered_batches[header_of(request, "x-gpsrelay-message-ids")] = &request;
  }
  for (const ReceivedRequest& request : failed) {
    const std::string batch = header_of(request, "x-gpsrelay-message-ids");
    ASSERT_TRUE(delivered_batches.contains(batch)) << "batch " << batch << " was split or lost";
    const ReceivedRequest& retry = *delivered_batches.at(batch);
    EXPECT_EQ(header_of(request, "x-gpsrelay-attempt"), "1");
    EXPECT_EQ(header_of(retry, "x-gpsrelay-attempt"), "2");
    EXPECT_EQ(retry.body, request.body);
  }
  const std::map<std::string, int> by_id = delivered_ids(delivered, 0);
  EXPECT_EQ(by_id.size(), ids.size());
  for (const std::string& id : ids) EXPECT_EQ(by_id.count(id) ? by_id.at(id) : 0, 1) << id;
  EXPECT_TRUE(failed_rows().empty());
}

TEST_P(BatchForwardTest, PermanentRejectionStoresEveryReportOfTheBatchAsItsOwnRow) {
  constexpr int kReports = 25;
  const std::vector<std::string> ids = queue_reports(kReports);
  UpstreamServer upstream;
  upstream.set_default_status(422);
  start_daemon(batching_to({&upstream}));

  ASSERT_TRUE(eventually([&] { return failed_rows().size() == ids.size(); }, seconds(20)))
      << failed_rows().size() << " rows";
  ASSERT_TRUE(eventually([&] { return drained(); }, seconds(5)))
      << "stream length " << stream_length() << ", pending " << pending_count();
  // A permanent answer is not retried: one request per batch.
  EXPECT_EQ(upstream.request_count(), 3u);
  expect_well_formed(upstream.requests());

  const auto value = [](const SqlRow& row, const std::string& name) {
    const auto found = row.find(name);
    return found == row.end() || !found->second ? std::string("<null>") : *found->second;
  };
  std::set<std::string> stored;
  for (const SqlRow& row : failed_rows()) {
    const std::string id = value(row, "message_id");
    stored.insert(id);
    const auto index = std::find(ids.begin(), ids.end(), id) - ids.begin();
    ASSERT_LT(index, kReports) << "unknown message id " << id;
    EXPECT_EQ(value(row, "payload"), numbered_report(static_cast<int>(index)));
    EXPECT_EQ(value(row, "last_error"), "HTTP 422");
    EXPECT_EQ(value(row, "retry_count"), "0");
    EXPECT_EQ(value(row, "target_server"), upstream.url());
    EXPECT_NE(value(row, "request_id"), "<null>");
  }
  EXPECT_EQ(stored, std::set<std::string>(ids.begin(), ids.end()));

  const MetricsPage metrics = scrape_metrics();
  EXPECT_EQ(metrics.sum("gpsrelay_packets_failed_total"), kReports);
  EXPECT_EQ(metrics.sum("gpsrelay_deliveries_total", {{"result", "rejected"}}), kReports);
  EXPECT_EQ(metrics.sum("gpsrelay_failed_packets_stored_total"), kReports);
}

TEST_P(BatchForwardTest, KillNineThenRestartDeliversEveryAcknowledgedReport) {
  UpstreamServer upstream;
  upstream.set_delay(milliseconds(50));
  DaemonConfig config = batching_to({&upstream});
  config.set("forward", "concurrency", "4");
  const auto reports_received = [&] {
    std::size_t reports = 0;
    for (const ReceivedRequest& request : upstream.requests()) reports += ids_of(request).size();
    return reports;
  };
  const auto load =
      kill_nine_under_load(config, 8, upstream, [&] { return reports_received() >= 200; });
  ASSERT_TRUE(eventually([&] { return drained(); }, seconds(30)))
      << "stream length " << stream_length() << ", pending " << pending_count();
  // At most the batches in flight at the kill arrive twice.
  EXPECT_LE(expect_every_acknowledged_delivered(*load, upstream, "batched kill -9"),
            static_cast<std::size_t>(2 * 4 * kBatchMax));
}

INSTANTIATE_TEST_SUITE_P(Loops, BatchForwardTest, ::testing::Values(1u, 4u), loop_count_name);

}  // namespace
}  // namespace gpsrelay::testing
