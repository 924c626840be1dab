// Unit tests for the pure request policy helpers.
#include "http/request_checks.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <limits>
#include <string>

namespace gpsrelay::http {
namespace {

using namespace std::string_literals;

TEST(IsJsonContentTypeTest, AcceptsThePlainMediaType) {
  EXPECT_TRUE(is_json_content_type("application/json"));
}

TEST(IsJsonContentTypeTest, IgnoresCase) {
  EXPECT_TRUE(is_json_content_type("Application/JSON"));
  EXPECT_TRUE(is_json_content_type("APPLICATION/JSON; CHARSET=UTF-8"));
}

TEST(IsJsonContentTypeTest, AcceptsParameters) {
  EXPECT_TRUE(is_json_content_type("application/json; charset=utf-8"));
  EXPECT_TRUE(is_json_content_type("application/json;charset=UTF-8"));
  EXPECT_TRUE(is_json_content_type("application/json ; charset=utf-8"));
  EXPECT_TRUE(is_json_content_type("application/json;"));
  EXPECT_TRUE(is_json_content_type("application/json; charset=utf-8; x=y"));
}

TEST(IsJsonContentTypeTest, AllowsSurroundingSpacesAndTabs) {
  EXPECT_TRUE(is_json_content_type("  application/json  "));
  EXPECT_TRUE(is_json_content_type("\tapplication/json\t"));
  EXPECT_TRUE(is_json_content_type(" application/json\t; charset=utf-8 "));
}

TEST(IsJsonContentTypeTest, RejectsEmptyOrBlankValues) {
  EXPECT_FALSE(is_json_content_type(""));
  EXPECT_FALSE(is_json_content_type("   "));
  EXPECT_FALSE(is_json_content_type(";charset=utf-8"));
}

TEST(IsJsonContentTypeTest, RejectsOtherMediaTypes) {
  for (const std::string_view value :
       {"application/jsonx", "text/json", "application/json-seq", "application/vnd.api+json",
        "application/x-json", "application/javascript", "text/plain", "application/", "application",
        "json", "application /json", "application/ json", "application\\json", "xapplication/json",
        "application/json x", "application/json, text/plain", "*/*", "application/*"}) {
    EXPECT_FALSE(is_json_content_type(value)) << value;
  }
}

TEST(IsJsonContentTypeTest, RejectsControlAndNulBytes) {
  EXPECT_FALSE(is_json_content_type("application/json\0"s));
  EXPECT_FALSE(is_json_content_type("application/json\r\n"));
  EXPECT_FALSE(is_json_content_type("\vapplication/json"));
}

TEST(RetryAfterSecondsTest, RoundsUpToWholeSeconds) {
  EXPECT_EQ(retry_after_seconds(1), "1");
  EXPECT_EQ(retry_after_seconds(999), "1");
  EXPECT_EQ(retry_after_seconds(1000), "1");
  EXPECT_EQ(retry_after_seconds(1001), "2");
  EXPECT_EQ(retry_after_seconds(2000), "2");
  EXPECT_EQ(retry_after_seconds(2500), "3");
  EXPECT_EQ(retry_after_seconds(60'000), "60");
}

TEST(RetryAfterSecondsTest, IsAtLeastOneSecond) {
  EXPECT_EQ(retry_after_seconds(0), "1");
  EXPECT_EQ(retry_after_seconds(-5), "1");
  EXPECT_EQ(retry_after_seconds(std::numeric_limits<std::int64_t>::min()), "1");
}

TEST(RetryAfterSecondsTest, DoesNotOverflowAtTheTopOfTheRange) {
  EXPECT_EQ(retry_after_seconds(std::numeric_limits<std::int64_t>::max()), "9223372036854776");
}

TEST(IdempotencyKeyTest, AcceptsOneTo128VisibleCharacters) {
  EXPECT_TRUE(is_valid_idempotency_key("a"));
  EXPECT_TRUE(is_valid_idempotency_key("order-4711:retry"));
  EXPECT_TRUE(is_valid_idempotency_key(std::string(128, 'k')));
}

TEST(IdempotencyKeyTest, RefusesEmptyLongAndInvisible) {
  EXPECT_FALSE(is_valid_idempotency_key(""));
  EXPECT_FALSE(is_valid_idempotency_key(std::string(129, 'k')));
  EXPECT_FALSE(is_valid_idempotency_key("two words"));
  EXPECT_FALSE(is_valid_idempotency_key("tab\there"));
  EXPECT_FALSE(is_valid_idempotency_key("caf\xc3\xa9"));
}

TEST(ContentLengthsAgreeTest, AcceptsOneValueAndRepeatsOfIt) {
  EXPECT_TRUE(content_lengths_agree({"42"}));
  EXPECT_TRUE(content_lengths_agree({"42", " 42 "}));
}

TEST(ContentLengthsAgreeTest, RefusesDifferingValues) {
  EXPECT_FALSE(content_lengths_agree({"42", "43"}));
  EXPECT_FALSE(content_lengths_agree({"5", "5", "50"}));
}

}  // namespace
}  // namespace gpsrelay::http
