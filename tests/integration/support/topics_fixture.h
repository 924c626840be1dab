// TopicsTest: the fixture of the topics suites: gpsrelayd with [topics]
// enabled against the test's redis-server, and the calls of the topics
// API as the suites make them (create, publish, join, poll, ack, nack).
#pragma once

#include <chrono>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "support/gpsrelay_fixture.h"
#include "support/http_client.h"
#include "support/json.h"

namespace gpsrelay::testing {

inline constexpr std::string_view kTopicPrefix = "gpsrelay:topic:";

// One message of a poll's answer.
struct Polled {
  std::string topic;
  long long partition = -1;
  std::string id;
  std::string key;
  std::string value;  // the value's JSON text (compact), or value_b64's text
  long long deliveries = 0;
  std::map<std::string, std::string> headers;
};

class TopicsTest : public GpsrelayTest {
 protected:
  // Starts the daemon with [topics] enabled plus `settings` of [topics].
  DaemonProcess& start_topics(std::map<std::string, std::string> settings = {});

  HttpResponse post(const std::string& path, const std::string& body);
  HttpResponse get(const std::string& path);
  HttpResponse remove(const std::string& path);

  // Creates `name`, failing the test unless answered 201.
  void create(const std::string& name, int partitions);
  // {"partition":P,"id":"…"} of a publish answer.
  static std::pair<long long, std::string> placed(const HttpResponse& response);
  // The consumer id of a join of `group` to `topics` (a JSON array text).
  std::string join(const std::string& group, const std::string& topics_json);
  // A poll; `status` gets the answer's status when given.
  std::vector<Polled> poll(const std::string& group, const std::string& consumer,
                           const std::string& query = "", long* status = nullptr);
  // {"topic","partition","id"} references of `messages`, as JSON text.
  static std::string references(const std::vector<Polled>& messages);

  static std::string stream_of(const std::string& topic, long long partition);
};

}  // namespace gpsrelay::testing
