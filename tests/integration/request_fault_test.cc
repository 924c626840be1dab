// The catch boundary of the HTTP request callback, with an injected fault:
// an IngestWorker (in this process, on a real event loop, against a real
// redis-server) whose handler throws for one path. The client gets a 500
// JSON answer, the loop keeps serving, and a report after it is stored.
#include <event2/http.h>
#include <gtest/gtest.h>

#include <atomic>
#include <memory>
#include <stdexcept>
#include <string>

#include "core/event_loop.h"
#include "core/metrics.h"
#include "http/ingest_worker.h"
#include "ingest/ingest_module.h"
#include "support/eventually.h"
#include "support/gpsrelay_fixture.h"
#include "support/http_client.h"
#include "support/ports.h"

namespace gpsrelay::testing {
namespace {

using std::chrono::seconds;

// Throws where the real handler would do its work, for one path only.
class FaultyWorker : public http::IngestWorker {
 public:
  using IngestWorker::IngestWorker;

 protected:
  void handle(evhttp_request* request) override {
    const std::string uri = evhttp_request_get_uri(request);
    if (uri == "/fault") throw std::runtime_error("injected fault");
    if (uri == "/fault-unknown") throw 42;  // not even a std::exception
    IngestWorker::handle(request);
  }
};

class RequestFaultTest : public GpsrelayTest {
 protected:
  void SetUp() override {
    GpsrelayTest::SetUp();
    core::enable_libevent_threads();
    config_.http.listen = {"127.0.0.1", static_cast<std::uint16_t>(pick_free_port()), ""};
    config_.http.threads = 1;
    config_.redis.address = {"127.0.0.1", static_cast<std::uint16_t>(redis().port()), ""};
    budgets_ = std::make_unique<http::EdgeBudgets>(config_.http);
    serving_ = true;
    worker_ =
        std::make_unique<FaultyWorker>(config_, 0,
                                       http::WorkerContext{metrics_,
                                                           nullptr,
                                                           serving_,
                                                           nullptr,
                                                           nullptr,
                                                           nullptr,
                                                           *budgets_,
                                                           [] { return http::HealthSnapshot{}; },
                                                           {&ingest_}});
    worker_->start();
    ASSERT_TRUE(eventually([&] { return worker_->queue_ready(); }, seconds(5)));
  }
  void TearDown() override {
    worker_->request_stop();
    worker_->join();
  }

  std::string url(const std::string& path) const {
    return "http://127.0.0.1:" + std::to_string(config_.http.listen.port) + path;
  }

  core::Config config_;
  core::MetricsRegistry metrics_{1};
  std::atomic<bool> serving_{false};
  std::unique_ptr<http::EdgeBudgets> budgets_;
  ingest::IngestModule ingest_{config_.http};
  std::unique_ptr<FaultyWorker> worker_;
};

TEST_F(RequestFaultTest, ThrowingHandlerAnswers500AndTheLoopKeepsServing) {
  for (const char* path : {"/fault", "/fault-unknown", "/fault"}) {
    const HttpResponse response = http_get(url(path));
    EXPECT_TRUE(is_json_error(response, 500)) << path << ": " << response;
  }
  const HttpResponse stored =
      http_request(make_post(url("/api/gps/reports"), R"({"after":"the faults"})"));
  EXPECT_TRUE(is_accepted(stored)) << stored;
  EXPECT_EQ(stream_length(), 1);
}

}  // namespace
}  // namespace gpsrelay::testing
