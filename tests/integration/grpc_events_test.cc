// The gRPC entity event service (proto/gpsrelay/events/v1/events.proto)
// through a real client: the generated stub against gpsrelayd with
// [events] enabled and [grpc] listen set, on the suite's mariadbd. An
// event sent over gRPC is the event HTTP would store (read back with
// GET /api/v1/entities), merges as RFC 7396 says, is applied once per
// uuid, is refused with HTTP's field paths, counts in HTTP's metrics, and
// MySQL outages answer UNAVAILABLE; tokens as POST /api/v1/events; one
// server serves events and topics side by side.
#include <google/protobuf/util/json_util.h>
#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>
#include <jansson.h>

#include <chrono>
#include <cmath>
#include <cstdlib>
#include <memory>
#include <string>
#include <vector>

#include "gpsrelay/events/v1/events.grpc.pb.h"
#include "gpsrelay/topics/v1/topics.grpc.pb.h"
#include "support/eventually.h"
#include "support/forwarding_fixture.h"
#include "support/http_client.h"
#include "support/json.h"
#include "support/ports.h"
#include "support/temp_dir.h"

namespace gpsrelay::testing {
namespace {

namespace v1 = ::gpsrelay::events::v1;
using std::chrono::milliseconds;
using std::chrono::seconds;

struct Update {
  std::string type;
  std::string id;
  std::string attributes;  // a JSON object
};

// An event request; `updates` give the entities, their attributes as JSON.
v1::EventRequest event(const std::string& uuid, const std::vector<Update>& updates) {
  v1::EventRequest request;
  v1::EventHeader& header = *request.mutable_event_header();
  header.set_uuid(uuid);
  header.set_event_name("vehicle.updated");
  header.set_event_type("update");
  header.set_created_date("2026-11-30T08:00:00Z");
  for (const Update& update : updates) {
    v1::Entity& entity = *request.mutable_event_body()->add_entities();
    entity.set_entity_type(update.type);
    entity.set_entity_id(update.id);
    const auto parsed = google::protobuf::util::JsonStringToMessage(
        update.attributes, entity.mutable_updated_attributes());
    EXPECT_TRUE(parsed.ok()) << update.attributes;
  }
  return request;
}

class GrpcEventsTest : public ForwardingTest {
 protected:
  // gpsrelayd with [events] on this test's database and gRPC on a free
  // port, plus `extra`.
  void start(DaemonConfig extra = {}) {
    grpc_port_ = pick_free_port();
    DaemonConfig config = forwarding_to({});
    config.erase("forward", "targets");
    config.set("events", "enabled", "true");
    config.set("grpc", "listen", "127.0.0.1:" + std::to_string(grpc_port_));
    start_daemon(config.merge(extra));
    channel_ = grpc::CreateChannel("127.0.0.1:" + std::to_string(grpc_port_),
                                   grpc::InsecureChannelCredentials());
    stub_ = v1::EventService::NewStub(channel_);
  }

  static std::unique_ptr<grpc::ClientContext> context(const std::string& token = "") {
    auto ctx = std::make_unique<grpc::ClientContext>();
    ctx->set_deadline(std::chrono::system_clock::now() + seconds(10));
    if (!token.empty()) ctx->AddMetadata("authorization", "Bearer " + token);
    return ctx;
  }

  grpc::Status process(const v1::EventRequest& request, v1::EventResponse* response = nullptr,
                       const std::string& token = "") {
    v1::EventResponse ignored;
    return stub_->ProcessEvent(context(token).get(), request,
                               response != nullptr ? response : &ignored);
  }

  // Sends one event and expects it applied.
  void apply(const std::string& uuid, const std::vector<Update>& updates) {
    v1::EventResponse response;
    const grpc::Status status = process(event(uuid, updates), &response);
    ASSERT_TRUE(status.ok()) << status.error_code() << ": " << status.error_message();
    ASSERT_EQ(response.status(), "applied");
  }

  grpc::Status health(v1::HealthCheckResponse& response) {
    return stub_->HealthCheck(context().get(), {}, &response);
  }

  // The stored entity's JSON over HTTP; nullptr when the GET is not a 200.
  JsonPtr entity(const std::string& type, const std::string& id) {
    const HttpResponse response = http_get(daemon().url("/api/v1/entities/" + type + "/" + id));
    if (response.status != 200) return nullptr;
    return parse_json(response.body);
  }
  const json_t* attributes(JsonPtr& holder, const std::string& type, const std::string& id) {
    holder = entity(type, id);
    return holder ? json_object_get(holder.get(), "attributes") : nullptr;
  }

  int grpc_port_ = 0;
  std::shared_ptr<grpc::Channel> channel_;
  std::unique_ptr<v1::EventService::Stub> stub_;
};

TEST_F(GrpcEventsTest, AnEventIsAppliedAndReadBackOverHttp) {
  start();
  v1::EventResponse response;
  const grpc::Status status =
      process(event("g-1", {{"vehicle", "truck-7", R"({"mileage":1200,"driver":{"name":"Ana"}})"},
                            {"driver", "ana", R"({"truck":"truck-7","rating":4.5})"}}),
              &response);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(response.uuid(), "g-1");
  EXPECT_EQ(response.status(), "applied");
  EXPECT_EQ(response.entities(), 2U);

  const JsonPtr stored = entity("vehicle", "truck-7");
  ASSERT_NE(stored, nullptr);
  EXPECT_EQ(json_string(stored.get(), "entityType").value_or(""), "vehicle");
  EXPECT_EQ(json_string(stored.get(), "entityId").value_or(""), "truck-7");
  // 1200 came as a double and is stored as the integer HTTP would store.
  EXPECT_TRUE(same_json(json_object_get(stored.get(), "attributes"),
                        R"({"mileage":1200,"driver":{"name":"Ana"}})"));
  EXPECT_TRUE(
      json_is_integer(json_object_get(json_object_get(stored.get(), "attributes"), "mileage")));
  JsonPtr holder;
  EXPECT_TRUE(
      same_json(attributes(holder, "driver", "ana"), R"({"truck":"truck-7","rating":4.5})"));
  EXPECT_EQ(mysql().scalar("SELECT created_date FROM applied_events WHERE uuid = 'g-1'"),
            "2026-11-30 08:00:00.000");
}

TEST_F(GrpcEventsTest, UpdatesMergeAsHttpUpdatesDo) {
  start();
  apply("m-1", {{"vehicle", "v1",
                 R"({"a":1,"tags":["x","y"],"service":{"last":"2026-01-01","next":"2026-07-01"},)"
                 R"("gone":true})"}});
  apply("m-2",
        {{"vehicle", "v1",
          R"({"b":2,"tags":["z"],"service":{"next":"2027-01-01","by":"shop"},"gone":null})"}});
  JsonPtr holder;
  EXPECT_TRUE(same_json(
      attributes(holder, "vehicle", "v1"),
      R"({"a":1,"tags":["z"],"service":{"last":"2026-01-01","next":"2027-01-01","by":"shop"},"b":2})"));
  // The same entity is updated over HTTP and gRPC alike.
  const HttpResponse over_http = http_request(
      "POST", daemon().url("/api/v1/events"),
      R"({"eventHeader":{"uuid":"m-3","eventName":"n","eventType":"t","createdDate":1714564800250},)"
      R"("eventBody":{"entities":[{"entityType":"vehicle","entityId":"v1","updatedAttributes":{"a":null}}]}})",
      kJsonContentType);
  ASSERT_EQ(over_http.status, 200) << over_http;
  EXPECT_TRUE(same_json(
      attributes(holder, "vehicle", "v1"),
      R"({"tags":["z"],"service":{"last":"2026-01-01","next":"2027-01-01","by":"shop"},"b":2})"));
}

TEST_F(GrpcEventsTest, AReplayedUuidAnswersDuplicateAndChangesNothing) {
  start();
  apply("dup-1", {{"vehicle", "v", R"({"count":1})"}});
  v1::EventResponse response;
  ASSERT_TRUE(process(event("dup-1", {{"vehicle", "v", R"({"count":99})"}}), &response).ok());
  EXPECT_EQ(response.uuid(), "dup-1");
  EXPECT_EQ(response.status(), "duplicate");
  EXPECT_EQ(response.entities(), 0U);
  JsonPtr holder;
  EXPECT_TRUE(same_json(attributes(holder, "vehicle", "v"), R"({"count":1})"));
  EXPECT_EQ(mysql().scalar("SELECT COUNT(*) FROM applied_events WHERE uuid = 'dup-1'"), "1");
}

TEST_F(GrpcEventsTest, BothDateFormsAreAccepted) {
  start();
  v1::EventRequest request = event("d-ms", {{"t", "1", "{}"}});
  request.mutable_event_header()->set_created_date_ms(1714564800250);
  request.mutable_event_header()->set_saved_date("2024-05-01T12:00:01Z");
  ASSERT_TRUE(process(request).ok());
  EXPECT_EQ(mysql().scalar("SELECT created_date FROM applied_events WHERE uuid = 'd-ms'"),
            "2024-05-01 12:00:00.250");
  EXPECT_EQ(mysql().scalar("SELECT saved_date FROM applied_events WHERE uuid = 'd-ms'"),
            "2024-05-01 12:00:01.000");
}

TEST_F(GrpcEventsTest, InvalidEventsNameTheFieldByItsJsonPath) {
  start();
  const auto refusal = [&](const v1::EventRequest& request) {
    const grpc::Status status = process(request);
    EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << status.error_message();
    return status.error_message();
  };
  // HTTP's message for the same mistake, word for word.
  EXPECT_EQ(refusal(event("v-1", {{"t", "1", "{}"}, {"t", "2", "{}"}, {"t", "", "{}"}})),
            "eventBody.entities[2].entityId is required");
  EXPECT_EQ(refusal(event("v-2", {{"bad type", "1", "{}"}}))
                .rfind("eventBody.entities[0].entityType must be", 0),
            0U);

  v1::EventRequest bad_date = event("v-3", {{"t", "1", "{}"}});
  bad_date.mutable_event_header()->set_created_date("yesterday");
  EXPECT_EQ(refusal(bad_date).rfind("eventHeader.createdDate must be", 0), 0U);
  bad_date.mutable_event_header()->set_created_date_ms(-1);
  EXPECT_EQ(refusal(bad_date).rfind("eventHeader.createdDate must be", 0), 0U);
  bad_date.mutable_event_header()->clear_created();
  EXPECT_EQ(refusal(bad_date), "eventHeader.createdDate is required");

  v1::EventRequest no_header = event("v-4", {{"t", "1", "{}"}});
  no_header.clear_event_header();
  EXPECT_EQ(refusal(no_header), "eventHeader is required");

  v1::EventRequest no_attributes = event("v-5", {{"t", "1", "{}"}});
  no_attributes.mutable_event_body()->mutable_entities(0)->clear_updated_attributes();
  EXPECT_EQ(refusal(no_attributes), "eventBody.entities[0].updatedAttributes is required");

  // What a Struct can hold and JSON cannot: refused at the attributes.
  v1::EventRequest not_a_number = event("v-6", {{"t", "1", "{}"}});
  (*not_a_number.mutable_event_body()
        ->mutable_entities(0)
        ->mutable_updated_attributes()
        ->mutable_fields())["x"]
      .set_number_value(std::nan(""));
  EXPECT_EQ(refusal(not_a_number).rfind("eventBody.entities[0].updatedAttributes must not", 0), 0U);

  // A NUL in a text field is a control character, as HTTP's rules say.
  v1::EventRequest nul = event(std::string("v-\0-7", 5), {{"t", "1", "{}"}});
  EXPECT_EQ(refusal(nul).rfind("eventHeader.uuid must be a non-empty string", 0), 0U);

  // Nothing of these reached MySQL; each counts as invalid, as over HTTP.
  EXPECT_EQ(http_get(daemon().url("/api/v1/entities/t/1")).status, 404);
  EXPECT_EQ(scrape_metrics().sum("gpsrelay_events_total", {{"result", "invalid"}}).value_or(0), 9);
}

TEST_F(GrpcEventsTest, ResultsCountInTheHttpMetrics) {
  start();
  apply("c-1", {{"t", "1", R"({"a":1})"}});
  ASSERT_TRUE(process(event("c-1", {{"t", "1", "{}"}})).ok());
  const MetricsPage metrics = scrape_metrics();
  EXPECT_EQ(metrics.sum("gpsrelay_events_total", {{"result", "applied"}}).value_or(0), 1);
  EXPECT_EQ(metrics.sum("gpsrelay_events_total", {{"result", "duplicate"}}).value_or(0), 1);
}

TEST_F(GrpcEventsTest, MysqlDownAnswersUnavailableAndAHealthCheckSaysDown) {
  start();
  v1::HealthCheckResponse up;
  ASSERT_TRUE(health(up).ok());
  EXPECT_EQ(up.status(), "ok");
  EXPECT_EQ(up.mysql(), "up");
  EXPECT_EQ(up.error(), "");
  apply("o-1", {{"t", "o", R"({"a":1})"}});

  mariadb().stop();
  v1::HealthCheckResponse down;
  ASSERT_TRUE(health(down).ok());
  EXPECT_EQ(down.status(), "unavailable");
  EXPECT_EQ(down.mysql(), "down");
  EXPECT_NE(down.error(), "");
  for (int i = 0; i < 3; ++i) {
    const auto started = std::chrono::steady_clock::now();
    const grpc::Status refused = process(event("o-2", {{"t", "o", R"({"b":2})"}}));
    EXPECT_EQ(refused.error_code(), grpc::StatusCode::UNAVAILABLE) << refused.error_message();
    EXPECT_LT(std::chrono::steady_clock::now() - started, milliseconds(3000));
  }
  EXPECT_GE(scrape_metrics().sum("gpsrelay_events_total", {{"result", "unavailable"}}).value_or(0),
            3);

  mariadb().start();
  ASSERT_TRUE(eventually(
      [&] {
        return process(event("o-2", {{"t", "o", R"({"b":2})"}})).ok();
      },
      seconds(20)));
  JsonPtr holder;
  EXPECT_TRUE(same_json(attributes(holder, "t", "o"), R"({"a":1,"b":2})"));
  EXPECT_TRUE(eventually(
      [&] {
        v1::HealthCheckResponse again;
        return health(again).ok() && again.mysql() == "up";
      },
      seconds(20)));
}

TEST_F(GrpcEventsTest, ProcessEventNeedsADeviceTokenAndHealthCheckNone) {
  TempDir files;
  files.write_file("tokens", "device-token\n");
  files.write_file("read-tokens", "read-token\n");
  start(DaemonConfig{{"auth", "mode", "token"},
                     {"auth", "tokens_file", files.file("tokens").string()},
                     {"auth", "read_tokens_file", files.file("read-tokens").string()}});
  const v1::EventRequest request = event("a-1", {{"t", "1", R"({"a":1})"}});
  EXPECT_EQ(process(request).error_code(), grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_EQ(process(request, nullptr, "wrong").error_code(), grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_EQ(process(request, nullptr, "read-token").error_code(),
            grpc::StatusCode::UNAUTHENTICATED);
  v1::EventResponse response;
  const grpc::Status accepted = process(request, &response, "device-token");
  ASSERT_TRUE(accepted.ok()) << accepted.error_message();
  EXPECT_EQ(response.status(), "applied");
  v1::HealthCheckResponse checked;
  ASSERT_TRUE(health(checked).ok());
  EXPECT_EQ(checked.status(), "ok");
}

TEST_F(GrpcEventsTest, OneServerServesEventsAndTopicsTogether) {
  start(DaemonConfig{{"topics", "enabled", "true"}});
  apply("both-1", {{"t", "1", "{}"}});
  auto topics = ::gpsrelay::topics::v1::Topics::NewStub(channel_);
  ::gpsrelay::topics::v1::CreateTopicRequest create;
  create.set_name("orders");
  ::gpsrelay::topics::v1::CreateTopicResponse created;
  EXPECT_TRUE(topics->CreateTopic(context().get(), create, &created).ok());
  const HttpResponse page = http_get(daemon().url("/health"));
  const JsonPtr health = parse_json(page.body);
  const json_t* services = json_object_get(json_object_get(health.get(), "grpc"), "services");
  EXPECT_TRUE(same_json(services, R"(["events","topics"])")) << page;
}

TEST_F(GrpcEventsTest, WithoutTopicsTheTopicsServiceIsUnimplemented) {
  start();
  auto topics = ::gpsrelay::topics::v1::Topics::NewStub(channel_);
  ::gpsrelay::topics::v1::ListTopicsResponse list;
  EXPECT_EQ(topics->ListTopics(context().get(), {}, &list).error_code(),
            grpc::StatusCode::UNIMPLEMENTED);
}

TEST_F(GrpcEventsTest, SigtermStopsTheServerAndTheDaemonExitsCleanly) {
  start();
  apply("s-1", {{"t", "1", "{}"}});
  const DaemonProcess::StopResult stopped = daemon().stop(seconds(15));
  ASSERT_TRUE(stopped.status) << "had to be killed";
  EXPECT_TRUE(stopped.status->exited_with(0)) << stopped.status->describe();
  EXPECT_LT(stopped.elapsed, seconds(10));
}

}  // namespace
}  // namespace gpsrelay::testing
