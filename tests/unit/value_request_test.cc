// Tests for the write-behind values' inputs (value_request.h): POST /write
// bodies (every field's rule and boundary, the error naming the field),
// GET /read queries, and the record format the cache scripts and the
// consumer depend on (ts last, read back exactly).
#include "events/value_request.h"

#include <gtest/gtest.h>

#include <string>
#include <variant>

namespace gpsrelay::events {
namespace {

constexpr std::int64_t kNow = 1764489600000;

ValueRecord ok(std::string_view body) {
  ParsedValue parsed = parse_value_write(body, kNow);
  if (const auto* error = std::get_if<ValueError>(&parsed)) {
    ADD_FAILURE() << body << ": " << error->message;
    return {};
  }
  return std::get<ValueRecord>(parsed);
}

ValueError refused(std::string_view body) {
  ParsedValue parsed = parse_value_write(body, kNow);
  if (const auto* error = std::get_if<ValueError>(&parsed)) return *error;
  ADD_FAILURE() << body << " was accepted";
  return {};
}

TEST(ValueWrite, KeepsTheFieldsAndTheValueAsCompactJson) {
  EXPECT_EQ(ok(R"({"user_id":"u-1","value":{ "a" : [1, 2, {"b":null}] },"ts":1700000000123})"),
            (ValueRecord{"u-1", R"({"a":[1,2,{"b":null}]})", 1700000000123}));
  EXPECT_EQ(ok(R"({"user_id":"u","value":"text"})").value_json, R"("text")");
  EXPECT_EQ(ok(R"({"user_id":"u","value":null})").value_json, "null");
  EXPECT_EQ(ok(R"({"user_id":"u","value":2.5,"extra":true})").value_json, "2.5");
  EXPECT_EQ(ok(R"({"user_id":"ü-ß","value":"é"})").value_json, "\"é\"");
}

TEST(ValueWrite, AnIntegerUserIdIsItsDecimalText) {
  EXPECT_EQ(ok(R"({"user_id":42,"value":1})").user_id, "42");
  EXPECT_EQ(ok(R"({"user_id":-7,"value":1})").user_id, "-7");
}

TEST(ValueWrite, TsDefaultsToNowAndHasBounds) {
  EXPECT_EQ(ok(R"({"user_id":"u","value":1})").ts_ms, kNow);
  EXPECT_EQ(ok(R"({"user_id":"u","value":1,"ts":null})").ts_ms, kNow);
  EXPECT_EQ(ok(R"({"user_id":"u","value":1,"ts":0})").ts_ms, 0);
  EXPECT_EQ(ok(R"({"user_id":"u","value":1,"ts":253402300799999})").ts_ms, kMaxTsMs);
  for (const char* ts : {"-1", "253402300800000", "1.5", "\"1700000000000\"", "true", "{}"}) {
    const ValueError error = refused(std::string(R"({"user_id":"u","value":1,"ts":)") + ts + "}");
    EXPECT_EQ(error.field, "ts") << ts;
    EXPECT_EQ(error.message.rfind("ts must be an integer of Unix milliseconds", 0), 0u)
        << error.message;
  }
}

TEST(ValueWrite, UserIdRules) {
  EXPECT_EQ(ok(R"({"user_id":")" + std::string(255, 'x') + R"(","value":1})").user_id.size(), 255u);
  const std::string too_long = R"({"user_id":")" + std::string(256, 'x') + R"(","value":1})";
  for (const std::string& body :
       {too_long, std::string(R"({"user_id":"","value":1})"),
        std::string(R"({"user_id":"a\tb","value":1})"),
        std::string(R"({"user_id":"a\u007fb","value":1})"),
        std::string(R"({"user_id":1.5,"value":1})"), std::string(R"({"user_id":true,"value":1})"),
        std::string(R"({"user_id":["u"],"value":1})")}) {
    const ValueError error = refused(body);
    EXPECT_EQ(error.field, "user_id") << body;
    EXPECT_EQ(error.message.rfind("user_id must be a non-empty string", 0), 0u) << error.message;
  }
  EXPECT_EQ(refused(R"({"value":1})").message, "user_id is required");
  EXPECT_EQ(refused(R"({"user_id":null,"value":1})").field, "user_id");
}

TEST(ValueWrite, ValueIsRequiredAndBounded) {
  EXPECT_EQ(refused(R"({"user_id":"u"})").message, "value is required");
  // 65536 bytes of compact text is the most: a string of 65534 characters.
  EXPECT_EQ(ok(R"({"user_id":"u","value":")" + std::string(65534, 'v') + "\"}").value_json.size(),
            kMaxValueBytes);
  EXPECT_EQ(refused(R"({"user_id":"u","value":")" + std::string(65535, 'v') + "\"}").field,
            "value");
  std::string deep;
  for (std::size_t i = 0; i < kMaxValueDepth; ++i) deep += '[';
  for (std::size_t i = 0; i < kMaxValueDepth; ++i) deep += ']';
  EXPECT_EQ(ok(R"({"user_id":"u","value":)" + deep + "}").value_json, deep);
  EXPECT_EQ(refused(R"({"user_id":"u","value":[)" + deep + "]}").field, "value");
}

TEST(ValueWrite, BodyErrorsHaveNoField) {
  for (const char* body :
       {"", "{", "[1]", "\"x\"", "null", R"({"user_id":"u","value":1,"value":2})"}) {
    const ValueError error = refused(body);
    EXPECT_EQ(error.field, "") << body;
    EXPECT_FALSE(error.message.empty());
    for (const char c : error.message) EXPECT_TRUE(c >= 0x20 && c <= 0x7E) << error.message;
  }
  EXPECT_EQ(refused("[]").message, "body must be a JSON object");
  // Checked in order: user_id before value before ts.
  EXPECT_EQ(refused(R"({"ts":-1})").field, "user_id");
  EXPECT_EQ(refused(R"({"user_id":"u","ts":-1})").field, "value");
}

TEST(ValueRead, TakesTheDecodedUserId) {
  EXPECT_EQ(std::get<std::string>(parse_value_read("user_id=u-1")), "u-1");
  EXPECT_EQ(std::get<std::string>(parse_value_read("x=1&user_id=a%20b+c&user_id=2")), "a b c");
  EXPECT_EQ(std::get<std::string>(parse_value_read("user_id=%C3%BC")), "\xC3\xBC");
  for (const char* query :
       {"", "user=1", "user_id=", "user_id", "user_id=%zz", "user_id=a%09b", "user_id=%FF"}) {
    const auto parsed = parse_value_read(query);
    ASSERT_TRUE(std::holds_alternative<ValueError>(parsed)) << query;
    EXPECT_EQ(std::get<ValueError>(parsed).field, "user_id") << query;
  }
  EXPECT_EQ(std::get<ValueError>(parse_value_read("")).message, "user_id is required");
}

TEST(ValueRecordFormat, PutsTsLastAndReadsBack) {
  const ValueRecord record{"u \"1\"", R"({"k":[1,"x"]})", 1700000000123};
  const std::string text = format_value_record(record);
  EXPECT_EQ(text, R"({"user_id":"u \"1\"","value":{"k":[1,"x"]},"ts":1700000000123})");
  EXPECT_EQ(parse_value_record(text), record);
  EXPECT_EQ(parse_value_record(format_value_record({"u", "null", 0})),
            (ValueRecord{"u", "null", 0}));
}

TEST(ValueRecordFormat, RefusesWhatItCouldNotHaveWritten) {
  for (const char* text :
       {"", "{}", "[]", R"({"user_id":1,"value":1,"ts":1})", R"({"user_id":"u","ts":1})",
        R"({"user_id":"u","value":1})", R"({"user_id":"u","value":1,"ts":-1})",
        R"({"user_id":"","value":1,"ts":1})", R"({"user_id":"u","value":1,"ts":1,"ts":2})"}) {
    EXPECT_FALSE(parse_value_record(text)) << text;
  }
}

TEST(ValueRecordFormat, WithSourceAddsAMember) {
  EXPECT_EQ(with_source(R"({"user_id":"u","value":1,"ts":5})", "cache"),
            R"({"user_id":"u","value":1,"ts":5,"source":"cache"})");
  EXPECT_FALSE(with_source("", "cache"));
  EXPECT_FALSE(with_source("{}", "cache"));
  EXPECT_FALSE(with_source("[1]", "cache"));
}

}  // namespace
}  // namespace gpsrelay::events
