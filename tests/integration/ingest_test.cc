// Ingest (POST /api/gps/reports) against a real gpsrelayd and redis-server:
// payloads stored byte for byte with received_at and request_id; every
// rejection answered with its status, headers and JSON error while adding
// nothing to the stream; request id echo, sanitising and generation; many
// concurrent devices; and clients that send garbage or hang up mid-request.
#include <gtest/gtest.h>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <map>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "support/eventually.h"
#include "support/gpsrelay_fixture.h"
#include "support/http_client.h"

namespace gpsrelay::testing {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

class IngestTest : public GpsrelayTest {};

constexpr std::string_view kReport = R"({"device":"truck-7","lat":52.520008,"lon":13.404954})";

long long unix_ms_now() {
  return std::chrono::duration_cast<milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

std::string field(const StreamEntry& entry, const std::string& name) {
  const auto it = entry.fields.find(name);
  return it == entry.fields.end() ? "<missing field " + name + ">" : it->second;
}

// A well-formed JSON object of exactly `size` bytes (size >= 64): a list of
// points, padded with a string to the byte.
std::string json_body_of_size(size_t size) {
  std::string body = R"({"points":[)";
  for (int i = 0;; ++i) {
    const std::string point = std::string(i == 0 ? "" : ",") + R"({"i":)" + std::to_string(i) +
                              R"(,"lat":52.520008,"lon":13.404954})";
    if (body.size() + point.size() + 64 > size) break;
    body += point;
  }
  body += R"(],"pad":")";
  body += std::string(size - body.size() - 2, 'x');
  body += R"("})";
  return body;
}

// The Allow header's methods, e.g. "POST, OPTIONS" -> {"POST", "OPTIONS"}.
std::set<std::string> allowed_methods(const HttpResponse& response) {
  std::set<std::string> methods;
  std::string token;
  for (char c : response.header("Allow") + ",") {
    if (std::isalpha(static_cast<unsigned char>(c)) != 0) {
      token += c;
    } else if (!token.empty()) {
      methods.insert(std::exchange(token, {}));
    }
  }
  return methods;
}

bool is_generated_request_id(const std::string& id) {
  return id.size() == 32 && std::all_of(id.begin(), id.end(), [](char c) {
           return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
         });
}

TEST_F(IngestTest, PayloadIsStoredByteIdentical) {
  start_daemon();
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"plain object", std::string(kReport)},
      {"multi-byte UTF-8",
       "{\"driver\":\"Zo\xC3\xAB \xC3\x85ngstr\xC3\xB6m\",\"city\":\"\xE6\x9D\xB1\xE4\xBA\xAC\","
       "\"cargo\":\"\xF0\x9F\x9A\x9A\"}"},
      {"escapes kept as sent",
       R"({"s":"quote \" backslash \\ slash \/ e-acute \u00e9 truck \ud83d\ude9a"})"},
      {"odd whitespace", "\t{ \"lat\" :\r\n  [ 1 ,\t2 ]\n\n}\r\n  "},
      {"array", R"([{"lat":1.5,"lon":-2.25},{"lat":1.6,"lon":-2.26}])"},
      {"literals and numbers", R"({"a":{"b":[true,false,null,-0.0,1E-7,12345678901234567890]}})"},
      {"empty object", "{}"},
      {"empty array", "[]"},
  };
  for (const auto& [name, body] : cases) {
    SCOPED_TRACE(name);
    const HttpResponse response = post_report(body);
    ASSERT_TRUE(is_accepted(response));
    const auto entry = find_entry(message_id_of(response));
    ASSERT_TRUE(entry.has_value()) << "message_id not in the stream: " << response;
    EXPECT_EQ(field(*entry, "payload"), body);
  }
  EXPECT_EQ(stream_length(), static_cast<long long>(cases.size()));
}

TEST_F(IngestTest, LargeBodyUnderTheLimitIsStoredByteIdentical) {
  start_daemon({{"http", "max_body_size", "1m"}});
  const std::string body = json_body_of_size(900 * 1024);
  const HttpResponse response = post_report(body);
  ASSERT_TRUE(is_accepted(response));
  const auto entry = find_entry(message_id_of(response));
  ASSERT_TRUE(entry.has_value());
  const std::string stored = field(*entry, "payload");
  EXPECT_EQ(stored.size(), body.size());
  EXPECT_TRUE(stored == body) << "the stored 900 KiB payload differs from the body sent";
}

TEST_F(IngestTest, EntryCarriesReceivedAtAndTheResponseRequestId) {
  start_daemon();
  const long long before_ms = unix_ms_now();
  const HttpResponse response = post_report(std::string(kReport));
  const long long after_ms = unix_ms_now();
  ASSERT_TRUE(is_accepted(response));
  const auto entry = find_entry(message_id_of(response));
  ASSERT_TRUE(entry.has_value());

  const std::string received_at = field(*entry, "received_at");
  ASSERT_TRUE(is_digits(received_at) && received_at.size() == 13)
      << "received_at is not Unix milliseconds: " << received_at;
  // A second of slack for a coarse or cached clock; wrong units (seconds,
  // microseconds) are off by orders of magnitude.
  EXPECT_GE(std::stoll(received_at), before_ms - 1000);
  EXPECT_LE(std::stoll(received_at), after_ms + 1000);

  const std::string request_id = response.header("X-Request-ID");
  EXPECT_FALSE(request_id.empty());
  EXPECT_EQ(field(*entry, "request_id"), request_id);
}

TEST_F(IngestTest, ConfiguredStreamNameIsUsed) {
  start_daemon({{"redis", "stream", "fleet:positions"}});
  const HttpResponse response = post_report(std::string(kReport));
  ASSERT_TRUE(is_accepted(response));
  EXPECT_EQ(stream_length("fleet:positions"), 1);
  EXPECT_EQ(stream_length(kDefaultStream), 0);
}

TEST_F(IngestTest, ResponsesDeclareJsonContentType) {
  start_daemon();
  const HttpResponse accepted = post_report(std::string(kReport));
  const HttpResponse rejected = post_report("{");
  EXPECT_TRUE(accepted.header("Content-Type").starts_with("application/json")) << accepted;
  EXPECT_TRUE(rejected.header("Content-Type").starts_with("application/json")) << rejected;
}

TEST_F(IngestTest, ContentTypeParametersAndCaseAreAccepted) {
  start_daemon();
  // Media types are case-insensitive (RFC 9110 8.3.1) and may carry
  // parameters.
  for (const char* content_type :
       {"application/json; charset=utf-8", "application/json;charset=UTF-8", "Application/JSON"}) {
    SCOPED_TRACE(content_type);
    EXPECT_TRUE(is_accepted(
        post_report(std::string(kReport), {std::string("Content-Type: ") + content_type})));
  }
  EXPECT_EQ(stream_length(), 3);
}

TEST_F(IngestTest, ChunkedBodyIsStoredByteIdentical) {
  start_daemon();
  // HTTP/1.1 servers must accept chunked request bodies; some device
  // firmwares stream reports that way.
  const std::string body = R"({"device":"chunky","points":[1,2,3]})";
  RawConnection connection(daemon().port());
  ASSERT_TRUE(connection.send(
      "POST /api/gps/reports HTTP/1.1\r\nHost: 127.0.0.1\r\n"
      "Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n"
      "10\r\n" +
      body.substr(0, 16) + "\r\n" + "14\r\n" + body.substr(16) + "\r\n" + "0\r\n\r\n"));
  const HttpResponse response = parse_http_response(connection.read_response(seconds(10)));
  ASSERT_TRUE(is_accepted(response));
  const auto entry = find_entry(message_id_of(response));
  ASSERT_TRUE(entry.has_value());
  EXPECT_EQ(field(*entry, "payload"), body);
}

TEST_F(IngestTest, EmptyBodyIsRejectedWith400) {
  start_daemon();
  EXPECT_TRUE(is_json_error(post_report(""), 400));
  EXPECT_EQ(stream_length(), 0);
}

TEST_F(IngestTest, MalformedJsonIsRejectedWith400) {
  start_daemon();
  const std::vector<std::string> bodies = {
      "{",
      R"({"lat":)",
      R"({"lat":1}})",
      "{'lat':1}",
      "[1,2,]",
      R"({"lat":1,})",
      "not json",
      R"({"lat":1} {"lon":2})",
      R"({"lat":1}x)",
      "   \r\n\t",
      R"({"name":"unterminated})",
      R"({"ok":tru})",
      R"({"lat":01})",
      R"({"lat":NaN})",
      R"(["bad escape \q"])",
      "{\"raw tab\":\"a\tb\"}",
      R"({lat:1})",
  };
  for (const auto& body : bodies) {
    SCOPED_TRACE("body: " + body);
    EXPECT_TRUE(is_json_error(post_report(body), 400));
  }
  EXPECT_EQ(stream_length(), 0);
}

TEST_F(IngestTest, UnknownPathIsRejectedWith404) {
  start_daemon();
  for (const char* path : {"/api/gps/report", "/api/gps/reports/extra", "/api/gps", "/"}) {
    SCOPED_TRACE(path);
    EXPECT_TRUE(is_json_error(
        http_request("POST", daemon().url(path), std::string(kReport), kJsonContentType), 404));
  }
  EXPECT_TRUE(is_json_error(http_get(daemon().url("/no/such/page")), 404));
  EXPECT_EQ(stream_length(), 0);
}

TEST_F(IngestTest, WrongMethodOnTheIngestPathIs405WithAllowPost) {
  start_daemon();
  for (const char* method : {"GET", "PUT", "DELETE", "PATCH"}) {
    SCOPED_TRACE(method);
    const HttpResponse response =
        http_request(method, daemon().ingest_url(), std::string(kReport), kJsonContentType);
    EXPECT_TRUE(is_json_error(response, 405));
    const std::set<std::string> allowed = allowed_methods(response);
    EXPECT_TRUE(allowed.contains("POST")) << response;
    EXPECT_FALSE(allowed.contains(method)) << response;
  }
  EXPECT_EQ(stream_length(), 0);
}

TEST_F(IngestTest, BodyOverMaxBodySizeIs413AndAtTheLimitIsAccepted) {
  // Plain bytes, so the test does not depend on whether "k" means 1000 or
  // 1024.
  start_daemon({{"http", "max_body_size", "2000"}});
  EXPECT_TRUE(is_accepted(post_report(json_body_of_size(2000))));
  // libevent 2.1 answers 413 itself, before the body is read and before any
  // handler of ours runs, so this answer is libevent's own page rather than
  // our JSON error (docs/operations.md). What matters is checked: the status,
  // that the connection is closed, and that nothing was stored.
  for (const std::size_t size : {std::size_t{2001}, std::size_t{3000}, std::size_t{5000000}}) {
    const HttpResponse response = post_report(json_body_of_size(size));
    EXPECT_EQ(response.status, 413) << size;
    EXPECT_EQ(response.headers.count("connection") ? response.headers.at("connection") : "",
              "close")
        << size;
  }
  EXPECT_TRUE(is_accepted(post_report(std::string(kReport))));
  EXPECT_EQ(stream_length(), 2);
}

TEST_F(IngestTest, NonJsonContentTypeIsRejectedWith415) {
  start_daemon();
  for (const char* header :
       {"Content-Type: text/plain", "Content-Type: application/x-www-form-urlencoded",
        "Content-Type: application/xml", "Content-Type: text/json",
        "Content-Type: application/jsonx", "Content-Type:" /* none at all */}) {
    SCOPED_TRACE(header);
    EXPECT_TRUE(is_json_error(post_report(std::string(kReport), {header}), 415));
  }
  EXPECT_EQ(stream_length(), 0);
}

TEST_F(IngestTest, ClientOverTheRateLimitGets429WithRetryAfter) {
  start_daemon({{"http", "rate_limit", "1"}, {"http", "rate_burst", "3"}});
  std::vector<HttpResponse> responses;
  for (int i = 0; i < 8; ++i) responses.push_back(post_report(std::string(kReport)));

  // The burst passes; after it, at one token per second, eight quick
  // requests cannot all pass.
  for (int i = 0; i < 3; ++i) EXPECT_TRUE(is_accepted(responses[i])) << "request " << i;
  long long accepted = 0;
  int limited = 0;
  for (const auto& response : responses) {
    if (response.status == 200) {
      ++accepted;
    } else {
      ++limited;
      EXPECT_TRUE(is_json_error(response, 429));
      EXPECT_TRUE(is_delay_seconds(response.header("Retry-After"))) << response;
    }
  }
  EXPECT_GE(limited, 1);
  EXPECT_EQ(stream_length(), accepted);

  // The client address is what counts: a forged X-Forwarded-For does not
  // buy a fresh bucket.
  EXPECT_TRUE(is_json_error(post_report(std::string(kReport), {"Content-Type: application/json",
                                                               "X-Forwarded-For: 198.51.100.7"}),
                            429));
  EXPECT_EQ(stream_length(), accepted);
}

TEST_F(IngestTest, RateLimitIsPerClientAddress) {
  start_daemon({{"http", "rate_limit", "1"}, {"http", "rate_burst", "2"}});
  for (int i = 0; i < 4; ++i) post_report(std::string(kReport));
  ASSERT_TRUE(is_json_error(post_report(std::string(kReport)), 429));
  // Another loopback address is another client, with its own full bucket.
  HttpRequest other = make_post(daemon().ingest_url(), std::string(kReport));
  other.local_address = "127.0.0.2";
  EXPECT_TRUE(is_accepted(http_request(other)));
}

TEST_F(IngestTest, FullQueueIsRejectedWith503AndRetryAfter) {
  // One event-loop thread makes the length check exact.
  start_daemon({{"http", "threads", "1"}, {"redis", "max_queue_length", "5"}});
  for (int i = 0; i < 5; ++i) {
    EXPECT_TRUE(is_accepted(post_report(std::string(kReport)))) << "report " << i;
  }
  for (int i = 0; i < 3; ++i) {
    const HttpResponse response = post_report(std::string(kReport));
    EXPECT_TRUE(is_json_error(response, 503));
    EXPECT_TRUE(is_delay_seconds(response.header("Retry-After"))) << response;
  }
  EXPECT_EQ(stream_length(), 5);
}

TEST_F(IngestTest, ClientRequestIdIsEchoedAndStored) {
  start_daemon();
  const std::string id = "dev_7.rpt:42/a+b=c-D";  // every allowed punctuation mark
  const HttpResponse response =
      post_report(std::string(kReport), {"Content-Type: application/json", "X-Request-ID: " + id});
  ASSERT_TRUE(is_accepted(response));
  EXPECT_EQ(response.header("X-Request-ID"), id);
  const auto entry = find_entry(message_id_of(response));
  ASSERT_TRUE(entry.has_value());
  EXPECT_EQ(field(*entry, "request_id"), id);
}

TEST_F(IngestTest, ErrorResponsesEchoTheClientRequestId) {
  start_daemon();
  const HttpResponse bad_json =
      post_report("{", {"Content-Type: application/json", "X-Request-ID: client-400"});
  EXPECT_TRUE(is_json_error(bad_json, 400));
  EXPECT_EQ(bad_json.header("X-Request-ID"), "client-400");
  const HttpResponse not_found =
      http_request("GET", daemon().url("/nowhere"), {}, {"X-Request-ID: client-404"});
  EXPECT_TRUE(is_json_error(not_found, 404));
  EXPECT_EQ(not_found.header("X-Request-ID"), "client-404");
}

TEST_F(IngestTest, RequestIdIsSanitised) {
  start_daemon();
  const std::string sent = "ab c<d>e\"f;g,h{i}j(k)l!m@n#o$p%q^r&s*t_u~v`w|x\\y?z'\xC3\xA9-1";
  std::string expected;
  for (char c : sent) {
    const bool allowed = std::isalnum(static_cast<unsigned char>(c)) != 0 ||
                         std::string_view("._:/+=-").find(c) != std::string_view::npos;
    if (allowed) expected += c;
  }
  ASSERT_EQ(expected, "abcdefghijklmnopqrst_uvwxyz-1");

  const HttpResponse response = post_report(
      std::string(kReport), {"Content-Type: application/json", "X-Request-ID: " + sent});
  ASSERT_TRUE(is_accepted(response));
  EXPECT_EQ(response.header("X-Request-ID"), expected);
  const auto entry = find_entry(message_id_of(response));
  ASSERT_TRUE(entry.has_value());
  EXPECT_EQ(field(*entry, "request_id"), expected);

  const HttpResponse rejected =
      post_report("{", {"Content-Type: application/json", "X-Request-ID: " + sent});
  EXPECT_TRUE(is_json_error(rejected, 400));
  EXPECT_EQ(rejected.header("X-Request-ID"), expected);
}

TEST_F(IngestTest, LongRequestIdIsTruncatedTo128Characters) {
  start_daemon();
  std::string sent;
  while (sent.size() < 200) sent += "0123456789abcdefghijklmnopqrstuvwxyz";
  sent.resize(200);
  const HttpResponse response = post_report(
      std::string(kReport), {"Content-Type: application/json", "X-Request-ID: " + sent});
  ASSERT_TRUE(is_accepted(response));
  EXPECT_EQ(response.header("X-Request-ID"), sent.substr(0, 128));
  const auto entry = find_entry(message_id_of(response));
  ASSERT_TRUE(entry.has_value());
  EXPECT_EQ(field(*entry, "request_id"), sent.substr(0, 128));
}

TEST_F(IngestTest, MissingRequestIdIsGenerated) {
  start_daemon();
  const HttpResponse first = post_report(std::string(kReport));
  const HttpResponse second = post_report(std::string(kReport));
  ASSERT_TRUE(is_accepted(first));
  ASSERT_TRUE(is_accepted(second));
  const std::string first_id = first.header("X-Request-ID");
  const std::string second_id = second.header("X-Request-ID");
  EXPECT_TRUE(is_generated_request_id(first_id)) << first;
  EXPECT_TRUE(is_generated_request_id(second_id)) << second;
  EXPECT_NE(first_id, second_id);
  const auto entry = find_entry(message_id_of(first));
  ASSERT_TRUE(entry.has_value());
  EXPECT_EQ(field(*entry, "request_id"), first_id);

  const HttpResponse rejected = post_report("{");
  EXPECT_TRUE(is_json_error(rejected, 400));
  EXPECT_TRUE(is_generated_request_id(rejected.header("X-Request-ID"))) << rejected;
}

TEST_F(IngestTest, RequestIdWithNoValidCharacterIsReplacedByAGeneratedOne) {
  start_daemon();
  const HttpResponse response =
      post_report(std::string(kReport), {"Content-Type: application/json", "X-Request-ID: <>!? ;"});
  ASSERT_TRUE(is_accepted(response));
  EXPECT_TRUE(is_generated_request_id(response.header("X-Request-ID"))) << response;
}

TEST_F(IngestTest, ThousandConcurrentReportsAreAllStoredOnce) {
  start_daemon();
  constexpr int kReports = 1000;
  std::vector<std::string> bodies;
  for (int i = 0; i < kReports; ++i) {
    bodies.push_back(R"({"seq":)" + std::to_string(i) + R"(,"lat":52.52,"lon":13.40})");
  }
  const auto responses = http_post_concurrently(daemon().ingest_url(), bodies, 100);

  std::map<std::string, std::string> payload_by_id;
  for (const auto& entry : stream_entries()) payload_by_id[entry.id] = field(entry, "payload");
  EXPECT_EQ(payload_by_id.size(), static_cast<size_t>(kReports));

  std::set<std::string> ids;
  int failures = 0;
  for (int i = 0; i < kReports; ++i) {
    const std::string id = message_id_of(responses[i]);
    const bool ok =
        is_accepted(responses[i]) && payload_by_id.contains(id) && payload_by_id[id] == bodies[i];
    // Report the first few only: a thousand identical failures say nothing more.
    if (!ok && ++failures <= 5) {
      ADD_FAILURE() << "report " << i << " not stored under its message_id: " << responses[i];
    }
    ids.insert(id);
  }
  EXPECT_EQ(failures, 0);
  EXPECT_EQ(ids.size(), static_cast<size_t>(kReports)) << "message_ids are not distinct";
}

TEST_F(IngestTest, MalformedRequestsDoNotDisturbTheDaemon) {
  start_daemon();
  // Complete but malformed requests: the daemon may answer 4xx or just
  // close, but never 2xx or 5xx, and never crash.
  const std::vector<std::string> complete = {
      "GARBAGE\r\n\r\n",
      "GET\r\n\r\n",
      "POST /api/gps/reports HTTP/1.1\r\nHost: x\r\nContent-Length: abc\r\n\r\n{}",
      "POST /api/gps/reports HTTP/1.1\r\nHost: x\r\nContent-Length: -5\r\n\r\n{}",
      "POST /api/gps/reports HTTP/1.1\r\nNo colon in this header\r\n\r\n",
      "POST /api/gps/reports HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
      "Transfer-Encoding: chunked\r\n\r\nZZ\r\n{}\r\n0\r\n\r\n",
  };
  for (const auto& request : complete) {
    SCOPED_TRACE("request: " + request);
    RawConnection connection(daemon().port());
    connection.send(request);
    const HttpResponse response = parse_http_response(connection.read_response(seconds(5)));
    if (response.status != 0) {
      EXPECT_GE(response.status, 400) << response;
      EXPECT_LT(response.status, 500) << response;
    }
  }
  // Fragments a confused client might send before hanging up: a TLS
  // ClientHello to the plain port, a request line that never ends, binary.
  for (const std::string& fragment :
       {std::string("\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03", 11),
        std::string("POST /api/gps/reports HTTP/1.1\r\nHost: 127"),
        std::string("\0\xff\xfe\r\n\r\n", 6)}) {
    RawConnection connection(daemon().port());
    connection.send(fragment);
  }
  EXPECT_TRUE(is_accepted(post_report(std::string(kReport))));
  EXPECT_TRUE(daemon().running());
  EXPECT_EQ(stream_length(), 1);
}

TEST_F(IngestTest, ClientDisconnectingMidBodyDoesNotDisturbTheDaemon) {
  start_daemon();
  const std::string partial =
      "POST /api/gps/reports HTTP/1.1\r\nHost: 127.0.0.1\r\n"
      "Content-Type: application/json\r\nContent-Length: 1000\r\n\r\n{\"lat\":52.5,\"lon\":";
  for (int i = 0; i < 5; ++i) {
    RawConnection orderly(daemon().port());
    orderly.send(partial);
    orderly.close();
    RawConnection abrupt(daemon().port());
    abrupt.send(partial);
    abrupt.reset();
  }
  EXPECT_TRUE(is_accepted(post_report(std::string(kReport))));
  EXPECT_TRUE(daemon().running());
  // The cut-off bodies were not stored, not even as fragments.
  EXPECT_EQ(stream_length(), 1);
}

TEST_F(IngestTest, StalledClientDoesNotBlockOthers) {
  // One event-loop thread: the stalled connection and the good request
  // share it, so any blocking read would show.
  start_daemon({{"http", "threads", "1"}});
  RawConnection stalled(daemon().port());
  ASSERT_TRUE(
      stalled.send("POST /api/gps/reports HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                   "Content-Type: application/json\r\nContent-Length: 100\r\n\r\n{\"lat\":"));
  const HttpResponse response = post_report(std::string(kReport));
  EXPECT_TRUE(is_accepted(response));
  EXPECT_LT(response.elapsed, seconds(2)) << response;
  stalled.close();
  EXPECT_EQ(stream_length(), 1);
}

}  // namespace
}  // namespace gpsrelay::testing
