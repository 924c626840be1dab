// Unit tests of topics/request_fields.h: the gRPC API's requests go through
// the same rules as the HTTP bodies.
#include "topics/request_fields.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace gpsrelay::topics {
namespace {

template <class T>
std::string error_message(const Parsed<T>& parsed) {
  const RequestError* error = error_of(parsed);
  return error != nullptr ? error->message : "";
}

TEST(MessageFromFields, KeepsJsonValuesCompact) {
  const std::vector<HeaderField> headers = {{"trace", "abc"}, {"x", "y"}};
  const auto parsed = message_from_fields({"k1", R"( {"a": [1, 2.5, "s"]} )", false, headers, 250});
  ASSERT_EQ(error_message(parsed), "");
  const Message& m = std::get<Message>(parsed);
  EXPECT_EQ(m.key, "k1");
  EXPECT_EQ(m.value, R"({"a":[1,2.5,"s"]})");
  EXPECT_FALSE(m.binary);
  EXPECT_EQ(m.headers_json, R"({"trace":"abc","x":"y"})");
  EXPECT_EQ(m.delay.count(), 250);
}

TEST(MessageFromFields, KeepsBinaryBytesAsTheyCame) {
  const std::string bytes("\x00\xff{not json", 11);
  const auto parsed = message_from_fields({"", bytes, true, {}, 0});
  ASSERT_EQ(error_message(parsed), "");
  EXPECT_EQ(std::get<Message>(parsed).value, bytes);
  EXPECT_TRUE(std::get<Message>(parsed).binary);
  EXPECT_EQ(std::get<Message>(parsed).headers_json, "{}");
}

TEST(MessageFromFields, RefusesWhatTheHttpBodyRefuses) {
  EXPECT_NE(error_message(message_from_fields({"", "", false, {}, 0})), "");
  EXPECT_NE(error_message(message_from_fields({"", "1, \"key\": 2", false, {}, 0})), "");
  EXPECT_NE(error_message(message_from_fields({"", "{\"a\":1,\"a\":2}", false, {}, 0})), "");
  EXPECT_NE(error_message(message_from_fields({std::string(2000, 'k'), "1", false, {}, 0})), "");
  const std::vector<HeaderField> unnamed = {{"", "v"}};
  EXPECT_NE(error_message(message_from_fields({"", "1", false, unnamed, 0})), "");
  EXPECT_NE(error_message(message_from_fields({"", "1", false, {}, 8ULL * 24 * 3600 * 1000})), "");
  EXPECT_NE(error_message(message_from_fields({"", "1", false, {}, ~0ULL})), "");
  const std::string deep = std::string(200, '[') + std::string(200, ']');
  EXPECT_NE(error_message(message_from_fields({"", deep, false, {}, 0})), "");
}

TEST(CreateFromFields, AppliesDefaultsAndLimits) {
  const auto parsed = create_from_fields("orders", 0, 0);
  ASSERT_EQ(error_message(parsed), "");
  EXPECT_EQ(std::get<CreateTopic>(parsed).partitions, 1u);
  EXPECT_FALSE(std::get<CreateTopic>(parsed).retention);
  const auto sized = create_from_fields("orders", 4, 60000);
  ASSERT_EQ(error_message(sized), "");
  EXPECT_EQ(std::get<CreateTopic>(sized).partitions, 4u);
  EXPECT_EQ(std::get<CreateTopic>(sized).retention->count(), 60000);
  EXPECT_NE(error_message(create_from_fields("bad name", 1, 0)), "");
  EXPECT_NE(error_message(create_from_fields("", 1, 0)), "");
  EXPECT_NE(error_message(create_from_fields("..", 1, 0)), "");
  EXPECT_NE(error_message(create_from_fields("ok", 257, 0)), "");
  EXPECT_NE(error_message(create_from_fields(std::string("a\xff", 2), 1, 0)), "");
}

TEST(JoinFromFields, NeedsValidDistinctNames) {
  const std::vector<std::string_view> topics = {"a", "b.dlq"};
  ASSERT_EQ(error_message(join_from_fields(topics)), "");
  EXPECT_EQ(std::get<Join>(join_from_fields(topics)).topics.size(), 2u);
  EXPECT_NE(error_message(join_from_fields({})), "");
  const std::vector<std::string_view> twice = {"a", "a"};
  EXPECT_NE(error_message(join_from_fields(twice)), "");
  const std::vector<std::string_view> bad = {"a/b"};
  EXPECT_NE(error_message(join_from_fields(bad)), "");
}

TEST(AckFromFields, ChecksIdsAndReferences) {
  const std::vector<RefFields> refs = {{"t", 0, "1-0"}, {"t", 3, "17-2"}};
  const auto parsed = ack_from_fields("abc123", refs);
  ASSERT_EQ(error_message(parsed), "");
  EXPECT_EQ(std::get<AckRequest>(parsed).messages.size(), 2u);
  EXPECT_EQ(std::get<AckRequest>(parsed).messages[1].partition, 3u);
  EXPECT_NE(error_message(ack_from_fields("", refs)), "");
  EXPECT_NE(error_message(ack_from_fields("abc", {})), "");
  const std::vector<RefFields> bad_id = {{"t", 0, "x"}};
  EXPECT_NE(error_message(ack_from_fields("abc", bad_id)), "");
  const std::vector<RefFields> bad_partition = {{"t", 256, "1-0"}};
  EXPECT_NE(error_message(ack_from_fields("abc", bad_partition)), "");
}

TEST(CommitFromFields, ChecksTheOffset) {
  const auto parsed = commit_from_fields("abc", {"t", 1, "5-0"});
  ASSERT_EQ(error_message(parsed), "");
  EXPECT_EQ(std::get<CommitRequest>(parsed).upto.id, "5-0");
  EXPECT_NE(error_message(commit_from_fields("abc", {"t", 1, ""})), "");
  EXPECT_NE(error_message(commit_from_fields("abc", {"", 1, "5-0"})), "");
}

TEST(HeadersFromJson, ReadsStringMembersInOrder) {
  const auto headers = headers_from_json(R"({"b":"2","a":"1","n":3})");
  ASSERT_EQ(headers.size(), 2u);
  EXPECT_EQ(headers[0], (std::pair<std::string, std::string>{"b", "2"}));
  EXPECT_EQ(headers[1], (std::pair<std::string, std::string>{"a", "1"}));
  EXPECT_TRUE(headers_from_json("[]").empty());
  EXPECT_TRUE(headers_from_json("not json").empty());
}

}  // namespace
}  // namespace gpsrelay::topics
