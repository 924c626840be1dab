// The gRPC topics service (proto/gpsrelay/topics/v1/topics.proto) through a
// real client: the generated stub against gpsrelayd with [topics] enabled
// and [grpc] listen set, on the test's redis-server. Covers the calls, the
// Subscribe credit (a slow consumer is never sent more than it granted),
// PublishStream's order, the status codes, tokens and SIGTERM with an open
// stream.
#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>

#include <chrono>
#include <condition_variable>
#include <future>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "gpsrelay/topics/v1/topics.grpc.pb.h"
#include "support/eventually.h"
#include "support/ports.h"
#include "support/temp_dir.h"
#include "support/test_pki.h"
#include "support/topics_fixture.h"

namespace gpsrelay::testing {
namespace {

namespace v1 = ::gpsrelay::topics::v1;
using Stream = grpc::ClientReaderWriter<v1::SubscribeRequest, v1::Delivery>;

constexpr std::chrono::milliseconds kWait{5000};

class GrpcTopicsTest : public TopicsTest {
 protected:
  // gpsrelayd with topics and gRPC on a free port, plus `extra`; the stub
  // connects with `credentials` (plain text by default).
  void start(DaemonConfig extra = {}, std::shared_ptr<grpc::ChannelCredentials> credentials =
                                          grpc::InsecureChannelCredentials()) {
    grpc_port_ = pick_free_port();
    DaemonConfig config;
    config.set("topics", "enabled", "true");
    config.set("grpc", "listen", "127.0.0.1:" + std::to_string(grpc_port_));
    start_daemon(config.merge(extra));
    channel_ = grpc::CreateChannel("127.0.0.1:" + std::to_string(grpc_port_), credentials);
    stub_ = v1::Topics::NewStub(channel_);
  }

  // A context with a deadline (and `token` as Bearer metadata when set).
  static std::unique_ptr<grpc::ClientContext> context(const std::string& token = "") {
    auto ctx = std::make_unique<grpc::ClientContext>();
    ctx->set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
    if (!token.empty()) ctx->AddMetadata("authorization", "Bearer " + token);
    return ctx;
  }

  grpc::Status create_topic(const std::string& name, unsigned partitions = 1,
                            const std::string& token = "") {
    v1::CreateTopicRequest request;
    request.set_name(name);
    request.set_partitions(partitions);
    v1::CreateTopicResponse response;
    return stub_->CreateTopic(context(token).get(), request, &response);
  }

  grpc::Status publish(const std::string& topic, const std::string& json_value,
                       v1::PublishResponse* response = nullptr) {
    v1::PublishRequest request;
    request.set_topic(topic);
    request.set_value(json_value);
    (*request.mutable_headers())["source"] = "grpc-test";
    v1::PublishResponse ignored;
    return stub_->Publish(context().get(), request, response != nullptr ? response : &ignored);
  }

  int grpc_port_ = 0;
  std::shared_ptr<grpc::Channel> channel_;
  std::unique_ptr<v1::Topics::Stub> stub_;
};

// What a Subscribe call received so far, read on a thread of its own.
class Subscription {
 public:
  Subscription(v1::Topics::Stub& stub, const std::string& group,
               const std::vector<std::string>& topics, unsigned credit) {
    stream_ = stub.Subscribe(&context_);
    v1::SubscribeRequest first;
    first.set_group(group);
    for (const std::string& topic : topics) first.add_topics(topic);
    first.set_credit(credit);
    stream_->Write(first);
    reader_ = std::thread([this] {
      v1::Delivery delivery;
      while (stream_->Read(&delivery)) {
        const std::lock_guard<std::mutex> lock(mutex_);
        received_.push_back(delivery);
      }
      const std::lock_guard<std::mutex> lock(mutex_);
      ended_ = true;
    });
  }
  ~Subscription() { cancel(); }
  Subscription(const Subscription&) = delete;
  Subscription& operator=(const Subscription&) = delete;

  void grant(unsigned credit) {
    v1::SubscribeRequest more;
    more.set_credit(credit);
    stream_->Write(more);
  }
  std::vector<v1::Delivery> received() {
    const std::lock_guard<std::mutex> lock(mutex_);
    return received_;
  }
  bool ended() {
    const std::lock_guard<std::mutex> lock(mutex_);
    return ended_;
  }
  // Ends the call (unless the server ended it); the status it ended with.
  grpc::Status cancel() {
    if (!reader_.joinable()) return status_;
    if (!ended()) context_.TryCancel();
    reader_.join();
    status_ = stream_->Finish();
    return status_;
  }

 private:
  grpc::ClientContext context_;
  std::unique_ptr<Stream> stream_;
  std::mutex mutex_;
  std::vector<v1::Delivery> received_;
  bool ended_ = false;
  grpc::Status status_;
  std::thread reader_;
};

TEST_F(GrpcTopicsTest, CreatesListsAndDeletesTopics) {
  start();
  EXPECT_TRUE(create_topic("orders", 2).ok());
  EXPECT_EQ(create_topic("orders", 2).error_code(), grpc::StatusCode::ALREADY_EXISTS);
  EXPECT_EQ(create_topic("bad name").error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(create_topic("many", 1000).error_code(), grpc::StatusCode::INVALID_ARGUMENT);

  v1::ListTopicsResponse list;
  ASSERT_TRUE(stub_->ListTopics(context().get(), {}, &list).ok());
  ASSERT_EQ(list.topics_size(), 1);
  EXPECT_EQ(list.topics(0).name(), "orders");
  EXPECT_EQ(list.topics(0).partitions(), 2u);

  v1::DeleteTopicRequest remove;
  remove.set_name("orders");
  v1::DeleteTopicResponse removed;
  EXPECT_TRUE(stub_->DeleteTopic(context().get(), remove, &removed).ok());
  EXPECT_EQ(stub_->DeleteTopic(context().get(), remove, &removed).error_code(),
            grpc::StatusCode::NOT_FOUND);
  remove.set_name("..");
  EXPECT_EQ(stub_->DeleteTopic(context().get(), remove, &removed).error_code(),
            grpc::StatusCode::INVALID_ARGUMENT);
}

TEST_F(GrpcTopicsTest, PublishAnswersWithThePlaceOrAClearError) {
  start();
  ASSERT_TRUE(create_topic("events").ok());
  v1::PublishResponse placed;
  ASSERT_TRUE(publish("events", R"({"a":1})", &placed).ok());
  EXPECT_EQ(placed.partition(), 0u);
  EXPECT_FALSE(placed.id().empty());
  EXPECT_EQ(publish("nope", "1").error_code(), grpc::StatusCode::NOT_FOUND);
  EXPECT_EQ(publish("bad/name", "1").error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  const grpc::Status not_json = publish("events", "{not json");
  EXPECT_EQ(not_json.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_NE(not_json.error_message().find("value"), std::string::npos) << not_json.error_message();

  // Counted in the same families as HTTP's publishes.
  const MetricsPage metrics = scrape_metrics();
  EXPECT_EQ(metrics.sum("gpsrelay_topics_messages_published_total", {{"topic", "events"}}), 1.0);
  EXPECT_EQ(metrics.sum("gpsrelay_topics_publish_errors_total", {{"type", "no_topic"}}), 1.0);
  EXPECT_EQ(metrics.sum("gpsrelay_topics_publish_errors_total", {{"type", "invalid"}}), 2.0);
}

TEST_F(GrpcTopicsTest, SubscribeSendsNoMoreThanTheCreditThenAckAndCommit) {
  start();
  ASSERT_TRUE(create_topic("jobs").ok());
  for (int i = 0; i < 5; ++i)
    ASSERT_TRUE(publish("jobs", "{\"n\":" + std::to_string(i) + "}").ok());

  Subscription subscription(*stub_, "workers", {"jobs"}, 2);
  ASSERT_TRUE(eventually([&] { return subscription.received().size() == 2; }, kWait))
      << subscription.received().size();
  // Three more are there, but not granted: none may come.
  std::this_thread::sleep_for(std::chrono::milliseconds(1500));
  ASSERT_EQ(subscription.received().size(), 2u);

  subscription.grant(3);
  ASSERT_TRUE(eventually([&] { return subscription.received().size() == 5; }, kWait))
      << subscription.received().size();
  const std::vector<v1::Delivery> got = subscription.received();
  for (int i = 0; i < 5; ++i) {
    EXPECT_EQ(got[i].topic(), "jobs");
    EXPECT_EQ(got[i].value(), "{\"n\":" + std::to_string(i) + "}");
    EXPECT_FALSE(got[i].binary());
    EXPECT_EQ(got[i].headers().at("source"), "grpc-test");
    EXPECT_EQ(got[i].deliveries(), 1);
    EXPECT_GT(got[i].published_at_ms(), 0);
    EXPECT_FALSE(got[i].consumer_id().empty());
  }

  v1::AckRequest ack;
  ack.set_group("workers");
  ack.set_consumer_id(got[0].consumer_id());
  for (int i = 0; i < 2; ++i) {
    v1::MessageRef& ref = *ack.add_refs();
    ref.set_topic("jobs");
    ref.set_partition(got[i].partition());
    ref.set_id(got[i].id());
  }
  v1::AckResponse acked;
  ASSERT_TRUE(stub_->Ack(context().get(), ack, &acked).ok());
  EXPECT_EQ(acked.acked(), 2);

  v1::CommitRequest commit;
  commit.set_group("workers");
  commit.set_consumer_id(got[0].consumer_id());
  commit.set_topic("jobs");
  commit.set_partition(got[4].partition());
  commit.set_id(got[4].id());
  v1::AckResponse committed;
  ASSERT_TRUE(stub_->Commit(context().get(), commit, &committed).ok());
  EXPECT_EQ(committed.acked(), 3);

  ack.set_group("bad group");
  EXPECT_EQ(stub_->Ack(context().get(), ack, &acked).error_code(),
            grpc::StatusCode::INVALID_ARGUMENT);
  subscription.cancel();
}

TEST_F(GrpcTopicsTest, SubscribeToAnUnknownTopicEndsNotFound) {
  start();
  Subscription subscription(*stub_, "workers", {"missing"}, 1);
  ASSERT_TRUE(eventually([&] { return subscription.ended(); }, kWait));
  EXPECT_EQ(subscription.cancel().error_code(), grpc::StatusCode::NOT_FOUND);
}

TEST_F(GrpcTopicsTest, PublishStreamAnswersEveryMessageInOrder) {
  start();
  ASSERT_TRUE(create_topic("stream").ok());
  constexpr int kMessages = 1000;
  constexpr int kBad = 500;  // not JSON: refused alone, the stream goes on
  grpc::ClientContext ctx;
  ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(60));
  auto stream = stub_->PublishStream(&ctx);
  std::thread writer([&] {
    for (int i = 0; i < kMessages; ++i) {
      v1::PublishRequest request;
      request.set_topic("stream");
      request.set_value(i == kBad ? std::string("{oops") : std::to_string(i));
      if (!stream->Write(request)) return;
    }
    stream->WritesDone();
  });
  std::vector<v1::PublishResponse> answers;
  v1::PublishResponse answer;
  while (stream->Read(&answer)) answers.push_back(answer);
  writer.join();
  ASSERT_TRUE(stream->Finish().ok());
  ASSERT_EQ(answers.size(), static_cast<std::size_t>(kMessages));
  std::string previous;
  for (int i = 0; i < kMessages; ++i) {
    if (i == kBad) {
      EXPECT_EQ(answers[i].code(), static_cast<int>(grpc::StatusCode::INVALID_ARGUMENT));
      EXPECT_FALSE(answers[i].error().empty());
      continue;
    }
    ASSERT_EQ(answers[i].code(), 0) << i << ": " << answers[i].error();
    // Stream ids of one partition grow: the answers came in request order.
    const auto key = [](const std::string& id) {
      const std::size_t dash = id.find('-');
      return std::pair{std::stoull(id.substr(0, dash)), std::stoull(id.substr(dash + 1))};
    };
    if (!previous.empty()) {
      EXPECT_LT(key(previous), key(answers[i].id())) << i;
    }
    previous = answers[i].id();
  }
  const RedisReplyPtr length = redis_client().command({"XLEN", stream_of("stream", 0)});
  ASSERT_TRUE(length);
  EXPECT_EQ(length->integer, kMessages - 1);
}

TEST_F(GrpcTopicsTest, CancelledStreamsLeaveTheDaemonServingAndStoppable) {
  start();
  ASSERT_TRUE(create_topic("cut").ok());
  for (int round = 0; round < 3; ++round) {
    grpc::ClientContext ctx;
    auto stream = stub_->PublishStream(&ctx);
    v1::PublishRequest request;
    request.set_topic("cut");
    request.set_value("1");
    // Answers go unread, so the server's writes and reads back up.
    for (int i = 0; i < 200; ++i) {
      if (!stream->Write(request)) break;
    }
    ctx.TryCancel();
    stream->Finish();
  }
  // The cancelled streams may have stored none: these are there for sure.
  for (int i = 0; i < 5; ++i) ASSERT_TRUE(publish("cut", "1").ok());
  {
    Subscription subscription(*stub_, "cutters", {"cut"}, 50);
    ASSERT_TRUE(eventually([&] { return !subscription.received().empty(); }, kWait));
  }  // cancelled with deliveries still being written
  v1::PublishResponse placed;
  EXPECT_TRUE(publish("cut", "2", &placed).ok());
  const DaemonProcess::StopResult stopped = daemon().stop(std::chrono::seconds(15));
  ASSERT_TRUE(stopped.status) << "had to be killed";
  EXPECT_TRUE(stopped.status->exited_with(0)) << stopped.status->describe();
  EXPECT_LT(stopped.elapsed, std::chrono::seconds(10));
}

TEST_F(GrpcTopicsTest, TokensAreCheckedWhenConfigured) {
  TempDir files;
  files.write_file("tokens", "write-token\n");
  files.write_file("read-tokens", "read-token\n");
  start(DaemonConfig{{"auth", "mode", "token"},
                     {"auth", "tokens_file", files.file("tokens").string()},
                     {"auth", "read_tokens_file", files.file("read-tokens").string()}});
  EXPECT_EQ(create_topic("t1").error_code(), grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_EQ(create_topic("t1", 1, "wrong").error_code(), grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_EQ(create_topic("t1", 1, "read-token").error_code(), grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_TRUE(create_topic("t1", 1, "write-token").ok());
  v1::ListTopicsResponse list;
  EXPECT_EQ(stub_->ListTopics(context().get(), {}, &list).error_code(),
            grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_TRUE(stub_->ListTopics(context("read-token").get(), {}, &list).ok());
  Subscription subscription(*stub_, "g", {"t1"}, 1);
  ASSERT_TRUE(eventually([&] { return subscription.ended(); }, kWait));
  EXPECT_EQ(subscription.cancel().error_code(), grpc::StatusCode::UNAUTHENTICATED);
}

TEST_F(GrpcTopicsTest, ServesTlsWithTheHttpCertificate) {
  const TestPki pki;
  grpc::SslCredentialsOptions trust;
  trust.pem_root_certs = read_file(pki.first().ca_cert);
  start(DaemonConfig{{"http", "tls_cert", pki.first().cert.string()},
                     {"http", "tls_key", pki.first().key.string()},
                     {"grpc", "tls", "true"}},
        grpc::SslCredentials(trust));
  EXPECT_TRUE(create_topic("secure").ok());
  // A plain-text client gets no answer from a TLS port.
  auto plain = v1::Topics::NewStub(grpc::CreateChannel("127.0.0.1:" + std::to_string(grpc_port_),
                                                       grpc::InsecureChannelCredentials()));
  v1::ListTopicsResponse list;
  EXPECT_EQ(plain->ListTopics(context().get(), {}, &list).error_code(),
            grpc::StatusCode::UNAVAILABLE);
}

TEST_F(GrpcTopicsTest, SigtermWithAnOpenSubscribeExitsWithinTenSeconds) {
  start();
  ASSERT_TRUE(create_topic("idle").ok());
  Subscription subscription(*stub_, "waiting", {"idle"}, 10);
  ASSERT_TRUE(publish("idle", "1").ok());
  ASSERT_TRUE(eventually([&] { return subscription.received().size() == 1; }, kWait));
  // Now parked in a long poll; the client never ends the call itself.
  const DaemonProcess::StopResult stopped = daemon().stop(std::chrono::seconds(15));
  ASSERT_TRUE(stopped.status) << "had to be killed";
  EXPECT_TRUE(stopped.status->exited_with(0)) << stopped.status->describe();
  EXPECT_LT(stopped.elapsed, std::chrono::seconds(10));
  EXPECT_TRUE(eventually([&] { return subscription.ended(); }, kWait));
  EXPECT_EQ(subscription.cancel().error_code(), grpc::StatusCode::UNAVAILABLE);
}

TEST_F(GrpcTopicsTest, SigtermEndsAnOpenSubscribeWithUnavailableBeforeTheGrace) {
  start();
  ASSERT_TRUE(create_topic("idle").ok());
  Subscription subscription(*stub_, "waiting", {"idle"}, 10);
  ASSERT_TRUE(publish("idle", "1").ok());
  ASSERT_TRUE(eventually([&] { return subscription.received().size() == 1; }, kWait));
  auto stopping =
      std::async(std::launch::async, [this] { return daemon().stop(std::chrono::seconds(15)); });
  // The server ends the call with UNAVAILABLE at once, not when its
  // shutdown grace (3 s) cancels what is left.
  ASSERT_TRUE(eventually([&] { return subscription.ended(); }, std::chrono::milliseconds(2000)));
  EXPECT_EQ(subscription.cancel().error_code(), grpc::StatusCode::UNAVAILABLE);
  const DaemonProcess::StopResult stopped = stopping.get();
  ASSERT_TRUE(stopped.status) << "had to be killed";
  EXPECT_TRUE(stopped.status->exited_with(0)) << stopped.status->describe();
  // The exit itself may still take the grace: gRPC's shutdown waits for
  // the client's connection to go, not only for its calls.
  EXPECT_LT(stopped.elapsed, std::chrono::seconds(10));
}

}  // namespace
}  // namespace gpsrelay::testing
