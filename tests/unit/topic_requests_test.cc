// Tests for the Topics API bodies (topic_requests.h): names, every parser's
// happy path and each error message, the boundaries of every limit,
// base64 in and out, JSON values kept compact and exact, key hashing, and
// the answers being valid JSON even for stored data they did not write.
#include "topics/topic_requests.h"

#include <gtest/gtest.h>
#include <jansson.h>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <random>
#include <string>
#include <string_view>
#include <vector>

#include "core/json_handle.h"

namespace gpsrelay::topics {
namespace {

using core::JsonPtr;
using std::chrono::milliseconds;
using std::chrono::seconds;

template <class T>
T ok(const Parsed<T>& parsed, std::string_view input) {
  const RequestError* error = error_of(parsed);
  EXPECT_EQ(error, nullptr) << input << ": " << (error ? error->message : "");
  return error ? T{} : std::get<T>(parsed);
}

template <class T>
RequestError failed(const Parsed<T>& parsed, std::string_view input) {
  const RequestError* error = error_of(parsed);
  EXPECT_NE(error, nullptr) << input;
  return error ? *error : RequestError{0, ""};
}

Message message_ok(std::string_view body) { return ok(parse_message(body), body); }
std::string message_error(std::string_view body) {
  const RequestError error = failed(parse_message(body), body);
  EXPECT_EQ(error.status, 400) << body;
  return error.message;
}

JsonPtr parse_json(const std::string& text) {
  json_error_t error;
  JsonPtr value(json_loadb(text.data(), text.size(), JSON_DECODE_ANY, &error));
  EXPECT_NE(value, nullptr) << text << ": " << error.text;
  return value;
}

std::string repeat(char c, std::size_t n) { return std::string(n, c); }

// ---- names and ids --------------------------------------------------------

TEST(TopicNameTest, AcceptsTheAllowedCharactersUpTo200) {
  EXPECT_TRUE(is_valid_name("orders"));
  EXPECT_TRUE(is_valid_name("Orders.v2_eu-west"));
  EXPECT_TRUE(is_valid_name("orders.dlq"));
  EXPECT_TRUE(is_valid_name("a"));
  EXPECT_TRUE(is_valid_name("..."));
  EXPECT_TRUE(is_valid_name(repeat('x', 200)));
}

TEST(TopicNameTest, RefusesEmptyTooLongDotsAndOtherCharacters) {
  EXPECT_FALSE(is_valid_name(""));
  EXPECT_FALSE(is_valid_name(repeat('x', 201)));
  EXPECT_FALSE(is_valid_name("."));
  EXPECT_FALSE(is_valid_name(".."));
  for (const char* name : {"a b", "a/b", "a:b", "a*", "ä", "a{b}", "a\nb", "a%20"}) {
    EXPECT_FALSE(is_valid_name(name)) << name;
  }
  EXPECT_FALSE(is_valid_name(std::string_view("a\0b", 3)));
}

TEST(TopicConsumerIdTest, AcceptsAlphanumericsAndDashesUpTo64) {
  EXPECT_TRUE(is_valid_consumer_id("c-1f3a9b"));
  EXPECT_TRUE(is_valid_consumer_id(repeat('a', 64)));
  EXPECT_FALSE(is_valid_consumer_id(repeat('a', 65)));
  EXPECT_FALSE(is_valid_consumer_id(""));
  EXPECT_FALSE(is_valid_consumer_id("c_1"));
  EXPECT_FALSE(is_valid_consumer_id("c 1"));
}

TEST(TopicStreamIdTest, IsTwoRunsOfDigitsWithin64Bits) {
  EXPECT_TRUE(is_valid_stream_id("0-0"));
  EXPECT_TRUE(is_valid_stream_id("1700000000000-12"));
  EXPECT_TRUE(is_valid_stream_id("18446744073709551615-18446744073709551615"));
  EXPECT_FALSE(is_valid_stream_id("18446744073709551616-0"));
  EXPECT_FALSE(is_valid_stream_id("0-18446744073709551616"));
  for (const char* id :
       {"", "1", "1-", "-1", "1-2-3", "a-1", "1-+2", " 1-2", "1-2 ", "$", ">", "1700000000000-*"}) {
    EXPECT_FALSE(is_valid_stream_id(id)) << id;
  }
}

// ---- create ---------------------------------------------------------------

TEST(TopicCreateTest, NameAloneTakesOnePartitionAndTheDefaultRetention) {
  const CreateTopic topic = ok(parse_create_topic(R"({"name":"orders"})"), "");
  EXPECT_EQ(topic.name, "orders");
  EXPECT_EQ(topic.partitions, 1u);
  EXPECT_FALSE(topic.retention.has_value());
}

TEST(TopicCreateTest, ReadsPartitionsAndRetentionInBothForms) {
  CreateTopic topic = ok(parse_create_topic(R"({"name":"o","partitions":8,"retention":"7d"})"), "");
  EXPECT_EQ(topic.partitions, 8u);
  EXPECT_EQ(topic.retention, std::chrono::hours(24 * 7));
  topic = ok(parse_create_topic(R"({"name":"o","retention":60000,"partitions":null})"), "");
  EXPECT_EQ(topic.retention, milliseconds(60000));
  EXPECT_EQ(topic.partitions, 1u);
}

TEST(TopicCreateTest, PartitionsAreOneTo256) {
  EXPECT_EQ(ok(parse_create_topic(R"({"name":"o","partitions":1})"), "").partitions, 1u);
  EXPECT_EQ(ok(parse_create_topic(R"({"name":"o","partitions":256})"), "").partitions, 256u);
  for (const char* body : {R"({"name":"o","partitions":0})", R"({"name":"o","partitions":257})",
                           R"({"name":"o","partitions":-1})", R"({"name":"o","partitions":2.0})",
                           R"({"name":"o","partitions":"2"})"}) {
    const RequestError error = failed(parse_create_topic(body), body);
    EXPECT_EQ(error.status, 400);
    EXPECT_EQ(error.message, "partitions must be an integer from 1 to 256") << body;
  }
}

TEST(TopicCreateTest, NameIsRequiredAndChecked) {
  EXPECT_EQ(failed(parse_create_topic("{}"), "").message, "name is required");
  const std::string rule = "name must be 1 to 200 characters of A-Z a-z 0-9 . _ -";
  EXPECT_EQ(failed(parse_create_topic(R"({"name":"a b"})"), "").message, rule);
  EXPECT_EQ(failed(parse_create_topic(R"({"name":7})"), "").message, rule);
  EXPECT_EQ(failed(parse_create_topic(R"({"name":""})"), "").message, rule);
  EXPECT_EQ(failed(parse_create_topic(R"({"name":".."})"), "").message, rule);
  const std::string at_limit = R"({"name":")" + repeat('n', 200) + R"("})";
  EXPECT_EQ(ok(parse_create_topic(at_limit), at_limit).name.size(), 200u);
  const std::string over = R"({"name":")" + repeat('n', 201) + R"("})";
  EXPECT_EQ(failed(parse_create_topic(over), over).message, rule);
}

TEST(TopicCreateTest, RetentionMustBeAPositiveDurationWithinTenYears) {
  for (const char* body : {R"({"name":"o","retention":"0s"})", R"({"name":"o","retention":0})",
                           R"({"name":"o","retention":"7"})", R"({"name":"o","retention":"-1d"})",
                           R"({"name":"o","retention":-5})", R"({"name":"o","retention":"3651d"})",
                           R"({"name":"o","retention":1.5})", R"({"name":"o","retention":true})"}) {
    EXPECT_EQ(failed(parse_create_topic(body), body).message,
              "retention must be a duration above 0 like \"7d\" or milliseconds, at most 3650d")
        << body;
  }
  EXPECT_EQ(ok(parse_create_topic(R"({"name":"o","retention":"3650d"})"), "").retention,
            kMaxRetention);
}

TEST(TopicCreateTest, MalformedBodiesAreNamed) {
  for (const char* body : {"", "[]", "\"x\"", "{", "{\"name\":\"a\"} x", "null", "nul"}) {
    const RequestError error = failed(parse_create_topic(body), body);
    EXPECT_EQ(error.status, 400);
    EXPECT_EQ(error.message, "body is not a JSON object") << body;
  }
  EXPECT_EQ(failed(parse_create_topic(R"({"name":"a","name":"b"})"), "").message,
            "body has a duplicate key");
  EXPECT_EQ(failed(parse_create_topic(R"({"name":"a","n":99999999999999999999})"), "").message,
            "body has a number out of range");
}

TEST(TopicCreateTest, UnknownFieldsAreIgnored) {
  EXPECT_EQ(ok(parse_create_topic(R"({"name":"o","compaction":true,"x":{}})"), "").name, "o");
}

// ---- publish --------------------------------------------------------------

TEST(TopicMessageTest, AJsonValueIsKeptAsCompactText) {
  const Message m = message_ok(R"({ "value" : { "order" : 42, "items" : [ 1 , "two", null ] } })");
  EXPECT_EQ(m.value, R"({"order":42,"items":[1,"two",null]})");
  EXPECT_FALSE(m.binary);
  EXPECT_EQ(m.key, "");
  EXPECT_EQ(m.headers_json, "{}");
  EXPECT_EQ(m.delay, milliseconds(0));
}

TEST(TopicMessageTest, EveryKindOfJsonIsAValue) {
  EXPECT_EQ(message_ok(R"({"value":null})").value, "null");
  EXPECT_EQ(message_ok(R"({"value":true})").value, "true");
  EXPECT_EQ(message_ok(R"({"value":false})").value, "false");
  EXPECT_EQ(message_ok(R"({"value":"text"})").value, R"("text")");
  EXPECT_EQ(message_ok(R"({"value":""})").value, R"("")");
  EXPECT_EQ(message_ok(R"({"value":[]})").value, "[]");
  EXPECT_EQ(message_ok(R"({"value":{}})").value, "{}");
  EXPECT_EQ(message_ok(R"({"value":-17})").value, "-17");
}

TEST(TopicMessageTest, NumbersKeepTheirValueAndKind) {
  EXPECT_EQ(message_ok(R"({"value":0.1})").value, "0.1");
  EXPECT_EQ(message_ok(R"({"value":1.0})").value, "1.0");
  EXPECT_EQ(message_ok(R"({"value":1e2})").value, "100.0");
  EXPECT_EQ(message_ok(R"({"value":-0.0})").value, "-0.0");
  EXPECT_EQ(message_ok(R"({"value":1e300})").value, "1e+300");
  EXPECT_EQ(message_ok(R"({"value":52.5200066})").value, "52.5200066");
  EXPECT_EQ(message_ok(R"({"value":9223372036854775807})").value, "9223372036854775807");
  EXPECT_EQ(message_ok(R"({"value":-9223372036854775808})").value, "-9223372036854775808");
  EXPECT_EQ(message_error(R"({"value":9223372036854775808})"), "body has a number out of range");
}

TEST(TopicMessageTest, StringsAreEscapedOnlyWhereJsonNeedsIt) {
  EXPECT_EQ(message_ok(R"({"value":"a\"b\\c\/d\n\t\u0001\u00e9€😀"})").value,
            "\"a\\\"b\\\\c/d\\n\\t\\u0001é€😀\"");
  EXPECT_EQ(message_error(R"({"value":"\u0000"})"), "body is not a JSON object");
  EXPECT_EQ(message_error("{\"value\":\"\xff\"}"), "body is not a JSON object");
}

TEST(TopicMessageTest, ValueNestsAtMost128Deep) {
  const std::string at_limit = R"({"value":)" + repeat('[', 128) + repeat(']', 128) + "}";
  EXPECT_EQ(message_ok(at_limit).value.size(), 256u);
  const std::string over = R"({"value":)" + repeat('[', 129) + repeat(']', 129) + "}";
  EXPECT_EQ(message_error(over), "value nests deeper than 128 arrays or objects");
}

TEST(TopicMessageTest, ExactlyOneOfValueAndValueB64) {
  EXPECT_EQ(message_error("{}"), "value or value_b64 is required");
  EXPECT_EQ(message_error(R"({"key":"k","vaule":1})"), "value or value_b64 is required");
  EXPECT_EQ(message_error(R"({"value":1,"value_b64":"AA=="})"),
            "give only one of value and value_b64");
  EXPECT_EQ(message_error(R"({"value":null,"value_b64":null})"),
            "give only one of value and value_b64");
}

TEST(TopicMessageTest, Base64DecodesWithEachPaddingLength) {
  Message m = message_ok(R"({"value_b64":"aGVsbG8="})");
  EXPECT_TRUE(m.binary);
  EXPECT_EQ(m.value, "hello");
  EXPECT_EQ(message_ok(R"({"value_b64":"aGVsbG8h"})").value, "hello!");
  EXPECT_EQ(message_ok(R"({"value_b64":"aGk="})").value, "hi");
  EXPECT_EQ(message_ok(R"({"value_b64":"aA=="})").value, "h");
  EXPECT_EQ(message_ok(R"({"value_b64":"AAD/"})").value, std::string("\0\0\xff", 3));
  EXPECT_EQ(message_ok(R"({"value_b64":"+/+/"})").value, "\xfb\xff\xbf");
  m = message_ok(R"({"value_b64":""})");
  EXPECT_TRUE(m.binary);
  EXPECT_EQ(m.value, "");
}

TEST(TopicMessageTest, InvalidBase64IsRefused) {
  for (const char* b64 : {"aGVsbG8", "aGk", "a", "aA=", "aA===", "====", "a===", "aA=a", "aG=k",
                          "aGVs bG8=", " aGk=", "aGk= ", "aGk=\\n", "aGVsbG8-", "aGVsbG8_",
                          "aGVs*G8=", "=aGk", "aGk=aGk="}) {
    const std::string body = R"({"value_b64":")" + std::string(b64) + R"("})";
    EXPECT_EQ(message_error(body), "value_b64 is not valid base64") << b64;
  }
  EXPECT_EQ(message_error(R"({"value_b64":123})"), "value_b64 is not valid base64");
  EXPECT_EQ(message_error(R"({"value_b64":null})"), "value_b64 is not valid base64");
}

TEST(TopicMessageTest, KeyIsAStringOfAtMost1024Bytes) {
  EXPECT_EQ(message_ok(R"({"key":"driver-7","value":1})").key, "driver-7");
  EXPECT_EQ(message_ok(R"({"key":"","value":1})").key, "");
  EXPECT_EQ(message_ok(R"({"key":null,"value":1})").key, "");
  const std::string at_limit = R"({"value":1,"key":")" + repeat('k', 1024) + R"("})";
  EXPECT_EQ(message_ok(at_limit).key.size(), 1024u);
  const std::string rule = "key must be a string of at most 1024 bytes";
  EXPECT_EQ(message_error(R"({"value":1,"key":")" + repeat('k', 1025) + R"("})"), rule);
  EXPECT_EQ(message_error(R"({"value":1,"key":7})"), rule);
}

TEST(TopicMessageTest, HeadersBecomeACompactObjectInOrder) {
  const Message m = message_ok(R"({"value":1,"headers":{ "b":"2", "a":"1", "q\"x":"\n" }})");
  EXPECT_EQ(m.headers_json, R"({"b":"2","a":"1","q\"x":"\n"})");
  EXPECT_EQ(message_ok(R"({"value":1,"headers":{}})").headers_json, "{}");
  EXPECT_EQ(message_ok(R"({"value":1,"headers":null})").headers_json, "{}");
}

TEST(TopicMessageTest, HeadersAreLimited) {
  EXPECT_EQ(message_error(R"({"value":1,"headers":{"x":1}})"), "headers.x must be a string");
  EXPECT_EQ(message_error(R"({"value":1,"headers":{"x":null}})"), "headers.x must be a string");
  EXPECT_EQ(message_error(R"({"value":1,"headers":["x"]})"),
            "headers must be an object of strings");
  EXPECT_EQ(message_error(R"({"value":1,"headers":{"":"v"}})"),
            "headers: names must be 1 to 256 bytes");
  const std::string name_256 = R"({"value":1,"headers":{")" + repeat('h', 256) + R"(":"v"}})";
  EXPECT_EQ(message_ok(name_256).headers_json.size(), 256u + 8);
  EXPECT_EQ(message_error(R"({"value":1,"headers":{")" + repeat('h', 257) + R"(":"v"}})"),
            "headers: names must be 1 to 256 bytes");

  auto headers_body = [](int count) {
    std::string body = R"({"value":1,"headers":{)";
    for (int i = 0; i < count; ++i) {
      body += (i ? "," : "") + std::string("\"h") + std::to_string(i) + "\":\"v\"";
    }
    return body + "}}";
  };
  const JsonPtr headers = parse_json(message_ok(headers_body(64)).headers_json);
  EXPECT_EQ(json_object_size(headers.get()), 64u);
  EXPECT_EQ(message_error(headers_body(65)), "headers must have at most 64 names");
}

TEST(TopicMessageTest, DelayIsADurationOrMillisecondsUpToAWeek) {
  EXPECT_EQ(message_ok(R"({"value":1,"delay":"5s"})").delay, seconds(5));
  EXPECT_EQ(message_ok(R"({"value":1,"delay":"250ms"})").delay, milliseconds(250));
  EXPECT_EQ(message_ok(R"({"value":1,"delay":1500})").delay, milliseconds(1500));
  EXPECT_EQ(message_ok(R"({"value":1,"delay":0})").delay, milliseconds(0));
  EXPECT_EQ(message_ok(R"({"value":1,"delay":null})").delay, milliseconds(0));
  EXPECT_EQ(message_ok(R"({"value":1,"delay":"7d"})").delay, kMaxDelay);
  EXPECT_EQ(message_ok(R"({"value":1,"delay":604800000})").delay, kMaxDelay);
  for (const char* delay : {"604800001", R"("8d")", R"("5")", R"("5 s")", "-1", "1.5", R"("")",
                            "true", "[]", R"("99999999999999999999d")"}) {
    const std::string body = R"({"value":1,"delay":)" + std::string(delay) + "}";
    EXPECT_EQ(message_error(body),
              "delay must be a duration like \"5s\" or milliseconds, at most 7d")
        << delay;
  }
}

// ---- batch ----------------------------------------------------------------

std::string batch_of(std::size_t count) {
  std::string body = R"({"messages":[)";
  for (std::size_t i = 0; i < count; ++i) {
    body += (i ? "," : "") + std::string(R"({"key":"k)") + std::to_string(i) + R"(","value":)" +
            std::to_string(i) + "}";
  }
  return body + "]}";
}

TEST(TopicBatchTest, ReadsEachMessageInOrder) {
  const std::vector<Message> messages =
      ok(parse_batch(
             R"({"messages":[{"value":{"a":1}},{"key":"k","value_b64":"aGk=","delay":"1s"}]})"),
         "");
  ASSERT_EQ(messages.size(), 2u);
  EXPECT_EQ(messages[0].value, R"({"a":1})");
  EXPECT_EQ(messages[1].key, "k");
  EXPECT_EQ(messages[1].value, "hi");
  EXPECT_TRUE(messages[1].binary);
  EXPECT_EQ(messages[1].delay, seconds(1));
}

TEST(TopicBatchTest, TakesOneTo1000MessagesAnd413Beyond) {
  EXPECT_EQ(ok(parse_batch(batch_of(1)), "").size(), 1u);
  const std::vector<Message> full = ok(parse_batch(batch_of(1000)), "");
  ASSERT_EQ(full.size(), 1000u);
  EXPECT_EQ(full[999].key, "k999");
  EXPECT_EQ(full[999].value, "999");

  const RequestError too_many = failed(parse_batch(batch_of(1001)), "");
  EXPECT_EQ(too_many.status, 413);
  EXPECT_EQ(too_many.message, "messages must be an array of 1 to 1000 messages");
  for (const char* body : {R"({"messages":[]})", "{}", R"({"messages":{}})", R"({"messages":null})",
                           R"({"messages":"x"})"}) {
    const RequestError error = failed(parse_batch(body), body);
    EXPECT_EQ(error.status, 400);
    EXPECT_EQ(error.message, "messages must be an array of 1 to 1000 messages") << body;
  }
}

TEST(TopicBatchTest, AnErrorNamesTheIndexAndField) {
  auto error = [](std::string_view body) { return failed(parse_batch(body), body).message; };
  EXPECT_EQ(error(R"({"messages":[{"value":1},{"value":2},{"value":3,"headers":{"x":2}}]})"),
            "messages[2].headers.x must be a string");
  EXPECT_EQ(error(R"({"messages":[{"value":1},{}]})"),
            "messages[1].value or value_b64 is required");
  EXPECT_EQ(error(R"({"messages":[{"value_b64":"!"}]})"),
            "messages[0].value_b64 is not valid base64");
  EXPECT_EQ(error(R"({"messages":[{"value":1,"delay":"1y"}]})"),
            "messages[0].delay must be a duration like \"5s\" or milliseconds, at most 7d");
  EXPECT_EQ(error(R"({"messages":[{"value":1,"key":1}]})"),
            "messages[0].key must be a string of at most 1024 bytes");
  EXPECT_EQ(error(R"({"messages":[{"value":1},7]})"), "messages[1] must be an object");
  EXPECT_EQ(error(R"({"messages":[{"value":1,"value":2}]})"), "body has a duplicate key");
  EXPECT_EQ(error("[]"), "body is not a JSON object");
}

// ---- the fast path against the reference ---------------------------------
//
// parse_message and parse_batch set long plain strings aside before
// jansson reads the body and write strings a run at a time; they must
// answer exactly as parse_*_reference (jansson reads the body as it came,
// strings written a byte at a time) for every body. These bodies sit on
// the edges of that path: strings just below and above its length
// threshold, each kind of escape, control byte and (in)valid UTF-8 at every
// offset within an 8-byte word, strings in key and value positions, and
// bodies jansson refuses at, before or after such a string.

std::string describe(const Message& m) {
  auto field = [](std::string_view text) {
    return std::to_string(text.size()) + ":" + std::string(text);
  };
  return field(m.key) + field(m.value) + (m.binary ? "b" : "j") + field(m.headers_json) +
         std::to_string(m.delay.count());
}

std::string describe(const Parsed<Message>& parsed) {
  if (const RequestError* error = error_of(parsed)) {
    return "error " + std::to_string(error->status) + " " + error->message;
  }
  return describe(std::get<Message>(parsed));
}

std::string describe(const Parsed<std::vector<Message>>& parsed) {
  if (const RequestError* error = error_of(parsed)) {
    return "error " + std::to_string(error->status) + " " + error->message;
  }
  std::string out;
  for (const Message& m : std::get<std::vector<Message>>(parsed)) out += describe(m) + ";";
  return out;
}

// Whether both paths agree on `body`, read as one message and as a batch
// of it; a failure shows the body and both answers.
::testing::AssertionResult same_as_reference(std::string_view body) {
  const std::string message = describe(parse_message(body));
  const std::string message_reference = describe(parse_message_reference(body));
  const std::string batch = describe(parse_batch(body));
  const std::string batch_reference = describe(parse_batch_reference(body));
  if (message == message_reference && batch == batch_reference) {
    return ::testing::AssertionSuccess();
  }
  return ::testing::AssertionFailure()
         << "body: " << body << "\nmessage: " << message << "\nreference: " << message_reference
         << "\nbatch: " << batch << "\nreference: " << batch_reference;
}

// `pattern` with each '@' replaced by `text`.
std::string fill(std::string_view pattern, std::string_view text) {
  std::string out;
  for (const char c : pattern) {
    if (c == '@') {
      out += text;
    } else {
      out += c;
    }
  }
  return out;
}

// String contents (without quotes) that make the path take each branch.
std::vector<std::string> tricky_strings() {
  const std::vector<std::string> pieces = {
      "",
      "\\\"",
      "\\\\",
      "\\n\\t\\r\\b\\f\\/",
      "\\u00e9",
      "\\u0000",
      "\\\\u0000",
      "\\u00000",
      "\\ud83d\\ude00",
      "\\ud800",
      "\t",
      std::string(1, '\x01'),
      std::string(1, '\x1f'),
      std::string(1, '\0'),
      "\x7f",
      "\xc3\xa9",          // é
      "\xe2\x82\xac",      // €
      "\xf0\x9f\x98\x80",  // U+1F600
      "\xf4\x8f\xbf\xbf",  // U+10FFFF
      "\xc0\x80",          // overlong NUL
      "\xc1\xbf",          // overlong
      "\xe0\x80\x80",      // overlong
      "\xe0\x9f\xbf",      // overlong
      "\xf0\x8f\xbf\xbf",  // overlong
      "\xed\xa0\x80",      // surrogate
      "\xed\x9f\xbf",      // last before the surrogates
      "\xf4\x90\x80\x80",  // above U+10FFFF
      "\xf5\x80\x80\x80",  // no such lead byte
      "\xff",
      "\x80",          // lone continuation
      "\xc3",          // cut short
      "\xe2\x82",      // cut short
      "\xf0\x9f\x98",  // cut short
      "\xc3\x28",      // continuation missing
      ":[\\\"",        // what the stash looks for, inside a string
  };
  std::vector<std::string> out;
  for (const std::string& piece : pieces) {
    // Around the length threshold, and at each offset within a word.
    for (const std::size_t before : {0, 1, 3, 7, 8, 9, 15, 31, 32, 40}) {
      for (const std::size_t after : {0, 1, 5, 24, 31}) {
        out.push_back(std::string(before, 'a') + piece + std::string(after, 'b'));
      }
    }
  }
  for (const std::size_t length : {0, 1, 30, 31, 32, 33, 64, 1024}) out.emplace_back(length, 'x');
  out.emplace_back("QUJD" + std::string("QUJD") + std::string(32, 'A'));  // valid base64
  return out;
}

TEST(TopicFastPathTest, AgreesWithTheReferenceWhereverAStringStands) {
  // '@' is a tricky string's content.
  const std::vector<std::string> patterns = {
      R"({"value":"@"})",
      R"( { "value" :	"@" } )",
      "{\"value\":\n\"@\"}",
      R"({"value_b64":"@"})",
      R"({"value":1,"key":"@"})",
      R"({"value":1,"headers":{"h":"@","i":"@"}})",
      R"({"value":1,"headers":{"@":"x"}})",
      R"({"value":1,"delay":"@"})",
      R"({"value":["@","@",["@"]],"x":"@"})",
      R"({"value":{"@":"@"}})",
      R"({"value":{"a":"@","a":"@"}})",
      R"({"value":{"@":1,"@":2}})",
      R"({"value":{"@":1,"@"}})",
      R"({"value":{"a":1,"@"}})",
      R"({"value":["@":1]})",
      R"({"value":[1:"@"]})",
      R"({"value":{"a"::"@"}})",
      R"({"value":"@","value":"@"})",
      R"({"value":"@","value_b64":"@"})",
      R"({"value":"@"})",
      R"({"value":"@")",
      R"({"value":"@"}x)",
      R"({"value":"@"}{})",
      R"({"value":"@)",
      R"({"value":"@"},)",
      R"({"value":"\u00000","key":"@"})",
      R"({"value":"\u00001","key":"@"})",
      R"({"value":1e999,"key":"@"})",
      R"({"value":123456789012345678901234567890,"key":"@"})",
      R"({"key":"@","value":123456789012345678901234567890})",
      R"({"key":"@","value":tru})",
      R"({"key":"@","value":"@","value":1})",
      R"(["@"])",
      R"("@")",
      R"({"messages":["@"]})",
      R"({"messages":[{"value":"@"},{"value":"@","key":"@"}]})",
      R"({"messages":[{"value":"@"},{"value":"@","value_b64":"@"}]})",
      R"({"messages":[{"value":"@"},{"value":"@","value":"@"}]})",
      R"({"messages":[{"value":"@","delay":"1y"}]})",
      R"({"messages":[{"value":"@"}],"messages":[]})",
  };
  std::size_t checked = 0;
  for (const std::string& text : tricky_strings()) {
    for (const std::string& pattern : patterns) {
      ASSERT_TRUE(same_as_reference(fill(pattern, text)));
      ++checked;
    }
  }
  // A value nested deeper than allowed, with a long string at the bottom.
  const std::string deep =
      std::string(130, '[') + "\"" + std::string(40, 'z') + "\"" + std::string(130, ']');
  EXPECT_TRUE(same_as_reference(R"({"value":)" + deep + "}"));
  EXPECT_GT(checked, 50000u);
}

TEST(TopicFastPathTest, AgreesWithTheReferenceOnMutatedBodies) {
  // Bodies near the valid ones, as a fuzzer would make them: a few bytes
  // replaced, inserted or removed, mostly with JSON's syntax bytes.
  const std::vector<std::string> seeds = {
      R"({"messages":[{"key":"k1","value":"abcdefghijklmnopqrstuvwxyz0123456789ABCDEFGH","headers":{"content-type":"application/json; charset=utf-8"}},{"value_b64":"QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVo0123456789+/==","delay":"5s"}]})",
      R"({"value":{"name":"Jos\u00e9 Mar\u00eda, 2nd floor, on the left","list":["x","a string long enough to be set aside",1.5,-0,1e2,null,true]},"key":"driver-0042-0042-0042-0042-0042"})",
      "{\"value\":\"\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80 long enough to be stashed, with UTF-8\"}",
  };
  const std::string bytes = "\"\\:[]{},  \t\n\x01\x7f\x80\xbf\xc3\xe2\xed\xf0\xf4u0aA9";
  std::mt19937 random(13);  // fixed: the same bodies every run
  for (int round = 0; round < 30000; ++round) {
    std::string body = seeds[random() % seeds.size()];
    const int edits = 1 + static_cast<int>(random() % 3);
    for (int e = 0; e < edits && !body.empty(); ++e) {
      const std::size_t at = random() % body.size();
      const char byte = bytes[random() % bytes.size()];
      switch (random() % 3) {
        case 0:
          body[at] = byte;
          break;
        case 1:
          body.insert(body.begin() + static_cast<std::ptrdiff_t>(at), byte);
          break;
        default:
          body.erase(at, 1);
      }
    }
    ASSERT_TRUE(same_as_reference(body));
  }
}

TEST(TopicFastPathTest, LongStringsStayExact) {
  const std::string letters(1024, 'q');
  EXPECT_EQ(message_ok(R"({"value":")" + letters + R"("})").value, "\"" + letters + "\"");
  const std::string utf8 = "\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80" + std::string(40, 'u');
  const Message m = message_ok(R"({"key":")" + utf8 + R"(","value":[")" + utf8 +
                               R"("],"headers":{"h":")" + utf8 + R"("}})");
  EXPECT_EQ(m.key, utf8);
  EXPECT_EQ(m.value, "[\"" + utf8 + "\"]");
  EXPECT_EQ(m.headers_json, "{\"h\":\"" + utf8 + "\"}");
  EXPECT_EQ(message_error(R"({"value":"\u0000)" + letters + R"("})"), "body is not a JSON object");
}

// ---- partitions -----------------------------------------------------------

TEST(TopicPartitionTest, AKeyAlwaysMapsToTheSamePartition) {
  // FNV-1a 64 reference values: changing them moves every key.
  EXPECT_EQ(partition_for_key("a", 1u << 31), 0xaf63dc4c8601ec8cULL % (1u << 31));
  EXPECT_EQ(partition_for_key("foobar", 256), 0x85944171f73967e8ULL % 256);
  EXPECT_EQ(partition_for_key("foobar", 7), 0x85944171f73967e8ULL % 7);
  EXPECT_EQ(partition_for_key("driver-7", 16), partition_for_key("driver-7", 16));
  EXPECT_EQ(partition_for_key("anything", 1), 0u);
}

TEST(TopicPartitionTest, EmptyKeyOrNoPartitionsIsTheCallersChoice) {
  EXPECT_EQ(partition_for_key("", 8), std::nullopt);
  EXPECT_EQ(partition_for_key("k", 0), std::nullopt);
}

TEST(TopicPartitionTest, KeysSpreadOverEveryPartition) {
  std::vector<int> counts(16);
  for (int i = 0; i < 1600; ++i) ++counts[*partition_for_key("key-" + std::to_string(i), 16)];
  for (const int count : counts) {
    EXPECT_GT(count, 50);
    EXPECT_LT(count, 150);
  }
}

// ---- answers --------------------------------------------------------------

TEST(TopicAnswerTest, PublishedAnswers) {
  EXPECT_EQ(published_json(0, "1-0"), R"({"partition":0,"id":"1-0"})");
  EXPECT_EQ(batch_published_json({{0, "1-0"}, {3, "1700000000000-5"}}),
            R"({"results":[{"partition":0,"id":"1-0"},{"partition":3,"id":"1700000000000-5"}]})");
  EXPECT_EQ(batch_published_json({}), R"({"results":[]})");
}

StoredMessage stored(const Message& m) {
  StoredMessage s;
  s.topic = "orders";
  s.partition = 2;
  s.id = "1749996000000-3";
  s.key = m.key;
  s.value = m.value;
  s.binary = m.binary;
  s.headers_json = m.headers_json;
  s.deliveries = 1;
  s.published_at_ms = 1749996000123;
  return s;
}

TEST(TopicAnswerTest, PolledJsonInlinesValueAndHeaders) {
  const Message m = message_ok(R"({"key":"k1","value":{"a":[1,2.5]},"headers":{"h":"v"}})");
  EXPECT_EQ(polled_json({stored(m)}),
            R"({"messages":[{"topic":"orders","partition":2,"id":"1749996000000-3","key":"k1",)"
            R"("value":{"a":[1,2.5]},"headers":{"h":"v"},"deliveries":1,)"
            R"("published_at":"2025-06-15T14:00:00.123Z"}]})");
  EXPECT_EQ(polled_json({}), R"({"messages":[]})");
}

TEST(TopicAnswerTest, PolledJsonOmitsAnEmptyKey) {
  const std::string text = polled_json({stored(message_ok(R"({"value":1})"))});
  EXPECT_EQ(text.find("\"key\""), std::string::npos) << text;
  const JsonPtr root = parse_json(text);
  EXPECT_EQ(json_integer_value(json_object_get(
                json_array_get(json_object_get(root.get(), "messages"), 0), "value")),
            1);
}

TEST(TopicAnswerTest, BinaryValuesRoundTripThroughPolledJson) {
  for (const char* b64 : {"", "AA==", "AAA=", "AAAA", "/+8A",
                          "aGVsbG8gd29ybGQ=", "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8g/f7/"}) {
    const Message in = message_ok(R"({"value_b64":")" + std::string(b64) + R"("})");
    const JsonPtr root = parse_json(polled_json({stored(in)}));
    const json_t* out = json_array_get(json_object_get(root.get(), "messages"), 0);
    ASSERT_NE(out, nullptr);
    EXPECT_EQ(json_object_get(out, "value"), nullptr);
    EXPECT_STREQ(json_string_value(json_object_get(out, "value_b64")), b64);
  }
  // Bytes far beyond one encoding chunk: the chunks join into one encoding.
  std::string bytes;
  for (int i = 0; i < 200000; ++i) bytes += static_cast<char>(i * 7);
  StoredMessage big = stored(Message{});
  big.value = bytes;
  big.binary = true;
  const JsonPtr root = parse_json(polled_json({big}));
  const json_t* out = json_array_get(json_object_get(root.get(), "messages"), 0);
  const std::string body = R"({"value_b64":")" +
                           std::string(json_string_value(json_object_get(out, "value_b64"))) +
                           R"("})";
  EXPECT_EQ(message_ok(body).value, bytes);
}

TEST(TopicAnswerTest, PolledJsonStaysValidForDataItDidNotWrite) {
  StoredMessage bad;
  bad.topic = "t";
  bad.id = "1-0";
  bad.key = "\xff";
  bad.value = "{not json";
  bad.headers_json = "[1]";
  bad.published_at_ms = 0;
  const std::string text = polled_json({bad});
  EXPECT_EQ(
      text,
      R"({"messages":[{"topic":"t","partition":0,"id":"1-0","key":"","value_b64":"e25vdCBqc29u",)"
      R"("headers":{},"deliveries":0,"published_at":"1970-01-01T00:00:00.000Z"}]})");
  parse_json(text);
  bad.value = "";
  bad.headers_json = "";
  EXPECT_NE(polled_json({bad}).find(R"("value_b64":"","headers":{})"), std::string::npos);
}

// ---- poll query -----------------------------------------------------------

PollQuery poll_ok(std::string_view query, unsigned max_poll_records = 500) {
  return ok(parse_poll_query(query, max_poll_records), query);
}
std::string poll_error(std::string_view query, unsigned max_poll_records = 500) {
  const RequestError error = failed(parse_poll_query(query, max_poll_records), query);
  EXPECT_EQ(error.status, 400);
  return error.message;
}

TEST(TopicPollQueryTest, ConsumerIdAloneTakesTheDefaults) {
  const PollQuery q = poll_ok("consumer_id=c-1");
  EXPECT_EQ(q.consumer_id, "c-1");
  EXPECT_EQ(q.max, 100u);
  EXPECT_EQ(q.wait, milliseconds(0));
  EXPECT_EQ(poll_ok("consumer_id=c-1", 20).max, 20u);
  EXPECT_EQ(poll_ok("consumer_id=c-1", 0).max, 1u);
}

TEST(TopicPollQueryTest, ReadsMaxAndWait) {
  const PollQuery q = poll_ok("consumer_id=c-1&max=500&wait=5s");
  EXPECT_EQ(q.max, 500u);
  EXPECT_EQ(q.wait, seconds(5));
  EXPECT_EQ(poll_ok("wait=250&consumer_id=c-1&max=1").wait, milliseconds(250));
  EXPECT_EQ(poll_ok("consumer_id=c-1&wait=30s").wait, seconds(30));
  EXPECT_EQ(poll_ok("consumer_id=c-1&wait=30000").wait, seconds(30));
  EXPECT_EQ(poll_ok("consumer_id=c-1&wait=0").wait, milliseconds(0));
  EXPECT_EQ(poll_ok("consumer_id=c-1&wait=").wait, milliseconds(0));
  EXPECT_EQ(poll_ok("consumer_id=c-1&max=&wait=1s").max, 100u);
}

TEST(TopicPollQueryTest, DecodesRepeatsAndIgnoresUnknowns) {
  EXPECT_EQ(poll_ok("consumer%5Fid=c%2D1").consumer_id, "c-1");
  EXPECT_EQ(poll_ok("consumer_id=old&consumer_id=new&_=123&%zz=1").consumer_id, "new");
  EXPECT_EQ(poll_ok("consumer_id=c&wait=5%73").wait, seconds(5));
}

TEST(TopicPollQueryTest, RefusesBadValues) {
  EXPECT_EQ(poll_error(""), "consumer_id is required");
  EXPECT_EQ(poll_error("max=5"), "consumer_id is required");
  EXPECT_EQ(poll_error("consumer_id="), "consumer_id is required");
  const std::string id_rule = "consumer_id must be 1 to 64 characters of A-Z a-z 0-9 -";
  EXPECT_EQ(poll_error("consumer_id=a+b"), id_rule);
  EXPECT_EQ(poll_error("consumer_id=a%2"), id_rule);
  EXPECT_EQ(poll_error("consumer_id=" + repeat('c', 65)), id_rule);
  EXPECT_EQ(poll_ok("consumer_id=" + repeat('c', 64)).consumer_id.size(), 64u);

  for (const char* max : {"0", "501", "-1", "1.0", "1e2", "+5", "x", "99999999999999999999"}) {
    EXPECT_EQ(poll_error("consumer_id=c&max=" + std::string(max)),
              "max must be an integer from 1 to 500")
        << max;
  }
  EXPECT_EQ(poll_error("consumer_id=c&max=21", 20), "max must be an integer from 1 to 20");
  for (const char* wait :
       {"31s", "30001", "1m", "-1s", "5%20s", "5S", "x", "%", "99999999999999999999"}) {
    EXPECT_EQ(poll_error("consumer_id=c&wait=" + std::string(wait)),
              "wait must be a duration like \"5s\" or milliseconds, at most 30s")
        << wait;
  }
}

// ---- consumer bodies ------------------------------------------------------

TEST(TopicConsumerRefTest, ReadsAndChecksTheConsumerId) {
  EXPECT_EQ(ok(parse_consumer_ref(R"({"consumer_id":"c-1","extra":1})"), "").consumer_id, "c-1");
  EXPECT_EQ(failed(parse_consumer_ref("{}"), "").message, "consumer_id is required");
  EXPECT_EQ(failed(parse_consumer_ref(R"({"consumer_id":"c 1"})"), "").message,
            "consumer_id must be 1 to 64 characters of A-Z a-z 0-9 -");
  EXPECT_EQ(failed(parse_consumer_ref(R"({"consumer_id":5})"), "").message,
            "consumer_id must be 1 to 64 characters of A-Z a-z 0-9 -");
  EXPECT_EQ(failed(parse_consumer_ref("x"), "").message, "body is not a JSON object");
}

TEST(TopicJoinTest, TakesOneTo100DistinctNames) {
  EXPECT_EQ(ok(parse_join(R"({"topics":["a","b.dlq"]})"), "").topics,
            (std::vector<std::string>{"a", "b.dlq"}));
  std::string hundred = R"({"topics":[)";
  for (int i = 0; i < 100; ++i) hundred += (i ? ",\"t" : "\"t") + std::to_string(i) + "\"";
  EXPECT_EQ(ok(parse_join(hundred + "]}"), "").topics.size(), 100u);
  const std::string rule = "topics must be an array of 1 to 100 topic names";
  EXPECT_EQ(failed(parse_join(hundred + ",\"t100\"]}"), "").message, rule);
  EXPECT_EQ(failed(parse_join(R"({"topics":[]})"), "").message, rule);
  EXPECT_EQ(failed(parse_join(R"({"topics":"a"})"), "").message, rule);
  EXPECT_EQ(failed(parse_join("{}"), "").message, rule);
  EXPECT_EQ(failed(parse_join(R"({"topics":["a","b","a"]})"), "").message,
            "topics[2] is listed twice");
  EXPECT_EQ(failed(parse_join(R"({"topics":["a","b c"]})"), "").message,
            "topics[1] must be 1 to 200 characters of A-Z a-z 0-9 . _ -");
  EXPECT_EQ(failed(parse_join(R"({"topics":[1]})"), "").message,
            "topics[0] must be 1 to 200 characters of A-Z a-z 0-9 . _ -");
}

TEST(TopicAckTest, ReadsEveryReference) {
  const AckRequest ack = ok(parse_ack(R"({"consumer_id":"c-1","messages":[
      {"topic":"orders","partition":0,"id":"1-0"},{"topic":"orders","partition":255,"id":"2-1"}]})",
                                      false),
                            "");
  EXPECT_EQ(ack.consumer_id, "c-1");
  ASSERT_EQ(ack.messages.size(), 2u);
  EXPECT_EQ(ack.messages[1].topic, "orders");
  EXPECT_EQ(ack.messages[1].partition, 255u);
  EXPECT_EQ(ack.messages[1].id, "2-1");
  EXPECT_EQ(ack.delay, milliseconds(0));
}

TEST(TopicAckTest, DelayIsReadOnlyForNack) {
  const char* body = R"({"consumer_id":"c","messages":[{"topic":"t","partition":0,"id":"1-0"}],)"
                     R"("delay":"10s"})";
  EXPECT_EQ(ok(parse_ack(body, true), body).delay, seconds(10));
  EXPECT_EQ(ok(parse_ack(body, false), body).delay, milliseconds(0));
  const char* bad_delay = R"({"consumer_id":"c","messages":[{"topic":"t","partition":0,)"
                          R"("id":"1-0"}],"delay":"8d"})";
  EXPECT_EQ(failed(parse_ack(bad_delay, true), bad_delay).message,
            "delay must be a duration like \"5s\" or milliseconds, at most 7d");
  EXPECT_EQ(ok(parse_ack(bad_delay, false), bad_delay).delay, milliseconds(0));
}

TEST(TopicAckTest, ErrorsNameTheReference) {
  auto error = [](const std::string& messages) {
    const std::string body = R"({"consumer_id":"c","messages":)" + messages + "}";
    return failed(parse_ack(body, true), body).message;
  };
  EXPECT_EQ(error(R"([{"partition":0,"id":"1-0"}])"), "messages[0].topic is required");
  EXPECT_EQ(error(R"([{"topic":"t","partition":0,"id":"1-0"},{"topic":"t","id":"1-0"}])"),
            "messages[1].partition is required");
  EXPECT_EQ(error(R"([{"topic":"t","partition":0}])"), "messages[0].id is required");
  EXPECT_EQ(error(R"([{"topic":"t","partition":256,"id":"1-0"}])"),
            "messages[0].partition must be an integer from 0 to 255");
  EXPECT_EQ(error(R"([{"topic":"t","partition":-1,"id":"1-0"}])"),
            "messages[0].partition must be an integer from 0 to 255");
  EXPECT_EQ(error(R"([{"topic":"t","partition":0,"id":"1"}])"),
            "messages[0].id must be a stream id like \"1700000000000-0\"");
  EXPECT_EQ(error(R"([{"topic":"t","partition":0,"id":1}])"),
            "messages[0].id must be a stream id like \"1700000000000-0\"");
  EXPECT_EQ(error(R"([{"topic":"a/b","partition":0,"id":"1-0"}])"),
            "messages[0].topic must be 1 to 200 characters of A-Z a-z 0-9 . _ -");
  EXPECT_EQ(error(R"(["1-0"])"), "messages[0] must be an object");
  EXPECT_EQ(error("[]"), "messages must be an array of 1 to 1000 {\"topic\",\"partition\",\"id\"}");
  std::string many = "[";
  for (int i = 0; i <= 1000; ++i)
    many += (i ? "," : "") + std::string(R"({"topic":"t","partition":0,"id":"1-0"})");
  EXPECT_EQ(error(many + "]"),
            "messages must be an array of 1 to 1000 {\"topic\",\"partition\",\"id\"}");
  const std::string no_consumer = R"({"messages":[{"topic":"t","partition":0,"id":"1-0"}]})";
  EXPECT_EQ(failed(parse_ack(no_consumer, false), no_consumer).message, "consumer_id is required");
}

TEST(TopicCommitTest, ReadsTheOffset) {
  const CommitRequest commit =
      ok(parse_commit(R"({"consumer_id":"c","topic":"t","partition":3,"id":"17-2"})"), "");
  EXPECT_EQ(commit.consumer_id, "c");
  EXPECT_EQ(commit.upto.topic, "t");
  EXPECT_EQ(commit.upto.partition, 3u);
  EXPECT_EQ(commit.upto.id, "17-2");
  EXPECT_EQ(failed(parse_commit(R"({"consumer_id":"c","topic":"t","partition":3})"), "").message,
            "id is required");
  EXPECT_EQ(failed(parse_commit(R"({"topic":"t","partition":3,"id":"1-0"})"), "").message,
            "consumer_id is required");
  EXPECT_EQ(failed(parse_commit(R"({"consumer_id":"c","partition":3,"id":"1-0"})"), "").message,
            "topic is required");
}

}  // namespace
}  // namespace gpsrelay::topics
