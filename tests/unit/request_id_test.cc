// Unit tests for request id sanitising and generation.
#include "http/request_id.h"

#include <gtest/gtest.h>

#include <set>
#include <string>

namespace gpsrelay::http {
namespace {

using namespace std::string_literals;

bool is_lower_hex(const std::string& id) {
  return id.find_first_not_of("0123456789abcdef") == std::string::npos;
}

TEST(SanitizeRequestIdTest, KeepsAnIdMadeOfAllowedCharactersUnchanged) {
  for (const std::string id : {"550e8400-e29b-41d4-a716-446655440000", "01ARZ3NDEKTSV4RRFFQ69G5FAV",
                               "req_42.retry:1", "dGVzdA+/==", "a"}) {
    EXPECT_EQ(sanitize_request_id(id), id);
  }
}

TEST(SanitizeRequestIdTest, KeepsEveryAllowedCharacterAndNoOther) {
  for (int c = 0; c < 256; ++c) {
    const std::string input(1, static_cast<char>(c));
    const bool allowed = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
                         (c >= '0' && c <= '9') ||
                         std::string_view("._:/+=-").find(c) != std::string_view::npos;
    EXPECT_EQ(sanitize_request_id(input), allowed ? input : "") << "byte " << c;
  }
}

TEST(SanitizeRequestIdTest, DropsHeaderAndLogInjectionCharacters) {
  EXPECT_EQ(sanitize_request_id("abc\r\nX-Evil: 1"), "abcX-Evil:1");
  EXPECT_EQ(sanitize_request_id("id\"},{\"x\":\"y"), "idx:y");
  EXPECT_EQ(sanitize_request_id("a\0b"s), "ab");
  EXPECT_EQ(sanitize_request_id("\x1b[31mred"), "31mred");
  EXPECT_EQ(sanitize_request_id("caf\xc3\xa9"), "caf");
  EXPECT_EQ(sanitize_request_id(" padded\t"), "padded");
}

TEST(SanitizeRequestIdTest, ReturnsEmptyWhenNothingUsableRemains) {
  EXPECT_EQ(sanitize_request_id(""), "");
  EXPECT_EQ(sanitize_request_id("   "), "");
  EXPECT_EQ(sanitize_request_id("\r\n\t\"'<>{}"), "");
  EXPECT_EQ(sanitize_request_id("\xff\xfe\xc3\xa9"), "");
}

TEST(SanitizeRequestIdTest, TruncatesToTheMaximumLength) {
  const std::string long_id(1000, 'a');
  EXPECT_EQ(sanitize_request_id(long_id), std::string(kMaxRequestIdLength, 'a'));
  EXPECT_EQ(sanitize_request_id(std::string(kMaxRequestIdLength, 'b')),
            std::string(kMaxRequestIdLength, 'b'));
  EXPECT_EQ(sanitize_request_id(std::string(kMaxRequestIdLength + 1, 'c')).size(),
            kMaxRequestIdLength);
}

TEST(SanitizeRequestIdTest, CountsTheLimitAfterDroppingCharacters) {
  std::string input;
  for (int i = 0; i < 200; ++i) input += " x";
  EXPECT_EQ(sanitize_request_id(input), std::string(kMaxRequestIdLength, 'x'));
}

TEST(SanitizeRequestIdTest, IsIdempotent) {
  const std::string once = sanitize_request_id("a b\nc" + std::string(300, 'z'));
  EXPECT_EQ(sanitize_request_id(once), once);
}

TEST(RequestIdGeneratorTest, ProducesThirtyTwoLowercaseHexCharacters) {
  RequestIdGenerator generator(42);
  for (int i = 0; i < 100; ++i) {
    const std::string id = generator.next();
    EXPECT_EQ(id.size(), 32u);
    EXPECT_TRUE(is_lower_hex(id)) << id;
  }
}

TEST(RequestIdGeneratorTest, GeneratedIdsSurviveSanitizing) {
  RequestIdGenerator generator(7);
  const std::string id = generator.next();
  EXPECT_EQ(sanitize_request_id(id), id);
}

TEST(RequestIdGeneratorTest, NeverRepeatsWithinOneGenerator) {
  RequestIdGenerator generator(1);
  std::set<std::string> seen;
  for (int i = 0; i < 100000; ++i) ASSERT_TRUE(seen.insert(generator.next()).second) << i;
}

TEST(RequestIdGeneratorTest, SameSeedGivesTheSameSequence) {
  RequestIdGenerator first(12345);
  RequestIdGenerator second(12345);
  for (int i = 0; i < 10; ++i) EXPECT_EQ(first.next(), second.next());
}

TEST(RequestIdGeneratorTest, DistinctSeedsGiveDisjointIds) {
  RequestIdGenerator first(0);
  RequestIdGenerator second(1);
  std::set<std::string> seen;
  for (int i = 0; i < 10000; ++i) {
    ASSERT_TRUE(seen.insert(first.next()).second);
    ASSERT_TRUE(seen.insert(second.next()).second);
  }
}

TEST(RequestIdGeneratorTest, KeepsThePrefixAndVariesTheRest) {
  RequestIdGenerator generator(99);
  const std::string first = generator.next();
  const std::string second = generator.next();
  EXPECT_EQ(first.substr(0, 16), second.substr(0, 16));
  EXPECT_NE(first.substr(16), second.substr(16));
}

TEST(RequestIdGeneratorTest, SeedZeroStillLooksRandom) {
  RequestIdGenerator generator(0);
  EXPECT_NE(generator.next(), std::string(32, '0'));
}

}  // namespace
}  // namespace gpsrelay::http
