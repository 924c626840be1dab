// Tests for RFC 7396 JSON Merge Patch (events/merge_patch.h): every row of
// the RFC's Appendix A and the example of its section 3, compared as JSON
// values; then what the RFC leaves to us: inputs left unchanged, member
// order, an absent target, and the text form's refusals.
#include "events/merge_patch.h"

#include <gtest/gtest.h>
#include <jansson.h>

#include <cstdlib>
#include <memory>
#include <optional>
#include <string>

#include "core/json_handle.h"

namespace gpsrelay::events {
namespace {

using core::JsonPtr;

JsonPtr parse(const std::string& text) {
  json_error_t error;
  JsonPtr value(json_loadb(text.data(), text.size(), JSON_DECODE_ANY, &error));
  EXPECT_NE(value, nullptr) << text << ": " << error.text;
  return value;
}

std::string dump(const json_t* value) {
  const std::unique_ptr<char, decltype(&std::free)> text(
      json_dumps(value, JSON_COMPACT | JSON_ENCODE_ANY), &std::free);
  return text ? std::string(text.get()) : std::string("<null>");
}

// Applies `patch` to `target` on jansson values and on text, and checks
// both against `expected` as JSON values (member order aside).
void expect_merge(const std::string& target, const std::string& patch,
                  const std::string& expected) {
  SCOPED_TRACE(target + " + " + patch);
  const JsonPtr want = parse(expected);
  const JsonPtr got = merge_patch(parse(target).get(), parse(patch).get());
  ASSERT_NE(got, nullptr);
  EXPECT_TRUE(json_equal(got.get(), want.get())) << dump(got.get()) << " != " << expected;

  const std::optional<std::string> text = merge_patch_text(target, patch);
  ASSERT_TRUE(text.has_value());
  EXPECT_TRUE(json_equal(parse(*text).get(), want.get())) << *text << " != " << expected;
}

// ---- RFC 7396, Appendix A ---------------------------------------------------

TEST(MergePatchRfc7396Test, AppendixAReplacesAMember) {
  expect_merge(R"({"a":"b"})", R"({"a":"c"})", R"({"a":"c"})");
}

TEST(MergePatchRfc7396Test, AppendixAAddsAMember) {
  expect_merge(R"({"a":"b"})", R"({"b":"c"})", R"({"a":"b","b":"c"})");
}

TEST(MergePatchRfc7396Test, AppendixANullRemovesTheOnlyMember) {
  expect_merge(R"({"a":"b"})", R"({"a":null})", R"({})");
}

TEST(MergePatchRfc7396Test, AppendixANullRemovesOneMemberOfTwo) {
  expect_merge(R"({"a":"b","b":"c"})", R"({"a":null})", R"({"b":"c"})");
}

TEST(MergePatchRfc7396Test, AppendixAStringReplacesAnArray) {
  expect_merge(R"({"a":["b"]})", R"({"a":"c"})", R"({"a":"c"})");
}

TEST(MergePatchRfc7396Test, AppendixAArrayReplacesAString) {
  expect_merge(R"({"a":"c"})", R"({"a":["b"]})", R"({"a":["b"]})");
}

TEST(MergePatchRfc7396Test, AppendixANestedObjectsMergeAndNullsDelete) {
  expect_merge(R"({"a":{"b":"c"}})", R"({"a":{"b":"d","c":null}})", R"({"a":{"b":"d"}})");
}

TEST(MergePatchRfc7396Test, AppendixAArraysAreReplacedNotMerged) {
  expect_merge(R"({"a":[{"b":"c"}]})", R"({"a":[1]})", R"({"a":[1]})");
}

TEST(MergePatchRfc7396Test, AppendixAArrayPatchReplacesArrayTarget) {
  expect_merge(R"(["a","b"])", R"(["c","d"])", R"(["c","d"])");
}

TEST(MergePatchRfc7396Test, AppendixAArrayPatchReplacesObjectTarget) {
  expect_merge(R"({"a":"b"})", R"(["c"])", R"(["c"])");
}

TEST(MergePatchRfc7396Test, AppendixANullPatchReplacesEverything) {
  expect_merge(R"({"a":"foo"})", "null", "null");
}

TEST(MergePatchRfc7396Test, AppendixAStringPatchReplacesEverything) {
  expect_merge(R"({"a":"foo"})", R"("bar")", R"("bar")");
}

TEST(MergePatchRfc7396Test, AppendixANullsInTheTargetAreKept) {
  expect_merge(R"({"e":null})", R"({"a":1})", R"({"e":null,"a":1})");
}

TEST(MergePatchRfc7396Test, AppendixAObjectPatchOnArrayTargetStartsFromEmpty) {
  expect_merge("[1,2]", R"({"a":"b","c":null})", R"({"a":"b"})");
}

TEST(MergePatchRfc7396Test, AppendixANullsInsideNewObjectsAreDropped) {
  expect_merge("{}", R"({"a":{"bb":{"ccc":null}}})", R"({"a":{"bb":{}}})");
}

// ---- RFC 7396, section 3 ----------------------------------------------------

TEST(MergePatchRfc7396Test, SectionThreeExample) {
  expect_merge(R"({
      "title": "Goodbye!",
      "author": {"givenName": "John", "familyName": "Doe"},
      "tags": ["example", "sample"],
      "content": "This will be unchanged"})",
               R"({
      "title": "Hello!",
      "phoneNumber": "+01-123-456-7890",
      "author": {"familyName": null},
      "tags": ["example"]})",
               R"({
      "title": "Hello!",
      "author": {"givenName": "John"},
      "tags": ["example"],
      "content": "This will be unchanged",
      "phoneNumber": "+01-123-456-7890"})");
}

// ---- beyond the RFC's table -------------------------------------------------

TEST(MergePatchTest, AbsentTargetStartsFromAnEmptyObject) {
  const JsonPtr patch = parse(R"({"speed":12,"driver":null,"pos":{"lat":1,"lon":null}})");
  const JsonPtr got = merge_patch(nullptr, patch.get());
  ASSERT_NE(got, nullptr);
  EXPECT_EQ(dump(got.get()), R"({"speed":12,"pos":{"lat":1}})");
  EXPECT_EQ(merge_patch_text("", R"({"a":null,"b":[null]})"), R"({"b":[null]})");
  EXPECT_EQ(merge_patch_text("", "[1]"), "[1]");
  EXPECT_EQ(merge_patch_text("", "null"), "null");
}

TEST(MergePatchTest, NonObjectMembersOfTheTargetAreReplacedByMergedObjects) {
  expect_merge(R"({"a":5})", R"({"a":{"b":null,"c":1}})", R"({"a":{"c":1}})");
  expect_merge(R"({"a":[1,2]})", R"({"a":{"0":3}})", R"({"a":{"0":3}})");
}

TEST(MergePatchTest, DeepNestingMergesAtEveryLevel) {
  expect_merge(R"({"a":{"b":{"c":{"d":1,"e":2},"f":3},"g":4}})",
               R"({"a":{"b":{"c":{"d":null,"x":true}}}})",
               R"({"a":{"b":{"c":{"e":2,"x":true},"f":3},"g":4}})");
}

TEST(MergePatchTest, EmptyPatchObjectLeavesAnObjectAsItIs) {
  expect_merge(R"({"a":{"b":[1,{"c":null}]},"d":null})", "{}",
               R"({"a":{"b":[1,{"c":null}]},"d":null})");
  expect_merge(R"("text")", "{}", "{}");
}

TEST(MergePatchTest, ValuesKeepTheirTypes) {
  expect_merge(R"({"i":1,"r":1.5,"t":true,"s":"x"})", R"({"i":2.5,"r":3,"t":false,"s":"ü"})",
               R"({"i":2.5,"r":3,"t":false,"s":"ü"})");
  EXPECT_EQ(merge_patch_text(R"({"n":1})", R"({"n":9223372036854775807})"),
            R"({"n":9223372036854775807})");
}

TEST(MergePatchTest, MembersKeepTheTargetsOrderAndNewOnesAreAppended) {
  EXPECT_EQ(merge_patch_text(R"({"z":1,"y":2,"x":3,"w":4})", R"({"v":0,"x":30,"y":null,"a":9})"),
            R"({"z":1,"x":30,"w":4,"v":0,"a":9})");
  EXPECT_EQ(merge_patch_text(R"({"o":{"b":1,"a":2}})", R"({"o":{"c":3,"b":10}})"),
            R"({"o":{"b":10,"a":2,"c":3}})");
}

TEST(MergePatchTest, LeavesBothInputsUnchangedAndSharesNoNodeWithThem) {
  const JsonPtr target = parse(R"({"a":{"b":1,"c":[1,2]},"d":"x"})");
  const JsonPtr patch = parse(R"({"a":{"b":null,"e":{"f":1}},"g":[3]})");
  const std::string target_before = dump(target.get());
  const std::string patch_before = dump(patch.get());

  const JsonPtr result = merge_patch(target.get(), patch.get());
  ASSERT_NE(result, nullptr);
  EXPECT_EQ(dump(result.get()), R"({"a":{"c":[1,2],"e":{"f":1}},"d":"x","g":[3]})");
  EXPECT_EQ(dump(target.get()), target_before);
  EXPECT_EQ(dump(patch.get()), patch_before);

  // Changing the result in place reaches neither input.
  json_array_append_new(json_object_get(json_object_get(result.get(), "a"), "c"), json_integer(9));
  json_object_set_new(json_object_get(json_object_get(result.get(), "a"), "e"), "f",
                      json_integer(2));
  json_array_append_new(json_object_get(result.get(), "g"), json_integer(4));
  EXPECT_EQ(dump(target.get()), target_before);
  EXPECT_EQ(dump(patch.get()), patch_before);

  // The same for a patch that replaces the target outright.
  const JsonPtr array_patch = parse("[[1]]");
  const JsonPtr replaced = merge_patch(target.get(), array_patch.get());
  ASSERT_NE(replaced, nullptr);
  json_array_append_new(json_array_get(replaced.get(), 0), json_integer(2));
  EXPECT_EQ(dump(array_patch.get()), "[[1]]");
}

TEST(MergePatchTest, ApplyingAPatchTwiceGivesTheSameResult) {
  const std::string target = R"({"a":{"b":1},"c":[1],"d":null})";
  for (const char* patch : {R"({"a":{"b":null,"x":{"y":null}}})", R"({"c":{"d":null}})",
                            R"({"d":1,"e":null})", "[1]", "{}"}) {
    const std::optional<std::string> once = merge_patch_text(target, patch);
    ASSERT_TRUE(once.has_value()) << patch;
    EXPECT_EQ(merge_patch_text(*once, patch), once) << patch;
  }
}

TEST(MergePatchTest, TextFormRefusesInvalidJsonAndDuplicateKeys) {
  EXPECT_EQ(merge_patch_text(R"({"a":1})", ""), std::nullopt);
  EXPECT_EQ(merge_patch_text(R"({"a":1})", "{"), std::nullopt);
  EXPECT_EQ(merge_patch_text(R"({"a":1})", R"({"a":1,"a":2})"), std::nullopt);
  EXPECT_EQ(merge_patch_text(R"({"a":1,"a":2})", R"({"b":1})"), std::nullopt);
  EXPECT_EQ(merge_patch_text("{} x", R"({"b":1})"), std::nullopt);
  EXPECT_EQ(merge_patch_text(" ", R"({"b":1})"), std::nullopt);
  EXPECT_EQ(merge_patch_text(std::string_view("{}\0", 3), R"({"b":1})"), std::nullopt);
  EXPECT_EQ(merge_patch_text(R"({"a":1})", "\xff"), std::nullopt);
}

TEST(MergePatchTest, TextFormIsCompact) {
  EXPECT_EQ(merge_patch_text(" { \"a\" : [ 1 , 2 ] } ", " { \"b\" : { \"c\" : \"d\" } } "),
            R"({"a":[1,2],"b":{"c":"d"}})");
}

}  // namespace
}  // namespace gpsrelay::events
