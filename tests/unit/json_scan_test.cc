// Unit tests for the JSON well-formedness scanner: grammar, UTF-8, escapes,
// numbers, nesting limits and error positions.
#include "http/json_scan.h"

#include <gtest/gtest.h>

#include <string>
#include <string_view>

namespace gpsrelay::http {
namespace {

using namespace std::string_literals;

constexpr std::string_view kGpsReport =
    R"({"device_id":"tracker-00417","timestamp":"2024-05-17T08:31:12.250Z",)"
    R"("lat":52.520008,"lon":13.404954,"alt_m":34.5,"speed_kmh":0,"heading":-1.5e-2,)"
    R"("satellites":11,"fix":true,"hdop":0.9,"battery":null,"note":"Stra\u00dfe \"7\" – ok"})";

bool accepts(std::string_view text) { return scan_json(text).ok; }

// Long inputs are cut in failure messages so a failing deep-nesting test
// stays readable.
std::string shown(std::string_view text) {
  return text.size() <= 80
             ? std::string(text)
             : std::string(text.substr(0, 80)) + "... (" + std::to_string(text.size()) + " bytes)";
}

// Expects a rejection at a given offset with a given reason, and explains
// the actual result when it differs.
void expect_rejected(std::string_view text, std::size_t offset, std::string_view reason,
                     std::size_t max_depth = kDefaultMaxJsonDepth) {
  const JsonScanResult result = scan_json(text, max_depth);
  EXPECT_FALSE(result.ok) << "accepted: " << shown(text);
  EXPECT_EQ(result.offset, offset) << "input: " << shown(text) << " reason: " << result.reason;
  EXPECT_EQ(result.reason, reason) << "input: " << shown(text);
}

std::string nested_arrays(std::size_t depth) {
  return std::string(depth, '[') + std::string(depth, ']');
}

TEST(JsonScanTest, AcceptsEveryKindOfValueAtTopLevel) {
  for (const std::string_view text :
       {"{}", "[]", "\"\"", "\"text\"", "0", "-0", "12", "-1.5e3", "true", "false", "null",
        R"({"a":[1,2,{"b":null}],"c":"d"})", "[[[]],{}]"}) {
    EXPECT_TRUE(accepts(text)) << text;
  }
}

TEST(JsonScanTest, SuccessReportsZeroOffsetAndEmptyReason) {
  const JsonScanResult result = scan_json("[1]");
  EXPECT_TRUE(result.ok);
  EXPECT_EQ(result.offset, 0u);
  EXPECT_TRUE(result.reason.empty());
}

TEST(JsonScanTest, AcceptsRealGpsReportObjectAndArray) {
  ASSERT_GT(kGpsReport.size(), 180u);
  EXPECT_TRUE(accepts(kGpsReport));
  const std::string array = "[" + std::string(kGpsReport) + ",\n " + std::string(kGpsReport) + "]";
  EXPECT_TRUE(accepts(array));
}

TEST(JsonScanTest, AcceptsAllFourWhitespaceCharactersEverywhere) {
  EXPECT_TRUE(accepts(" \t\r\n{ \t\r\n\"a\" \t\r\n: \t\r\n[ 1 , 2 ] \t\r\n} \t\r\n"));
}

TEST(JsonScanTest, RejectsOtherWhitespaceLikeBytes) {
  expect_rejected("\v1", 0, "expected a JSON value");
  expect_rejected("\f1", 0, "expected a JSON value");
  expect_rejected("1\xc2\xa0", 1, "unexpected data after JSON text");
  expect_rejected("[1,\f2]", 3, "expected a JSON value");
}

TEST(JsonScanTest, RejectsEmptyAndWhitespaceOnlyInput) {
  expect_rejected("", 0, "unexpected end of input");
  expect_rejected(" \t\r\n", 4, "unexpected end of input");
}

TEST(JsonScanTest, RejectsTrailingGarbage) {
  expect_rejected("{} x", 3, "unexpected data after JSON text");
  expect_rejected("{}{}", 2, "unexpected data after JSON text");
  expect_rejected("1 2", 2, "unexpected data after JSON text");
  expect_rejected("truefalse", 4, "unexpected data after JSON text");
  expect_rejected("[]]", 2, "unexpected data after JSON text");
  expect_rejected("\"a\"\"b\"", 3, "unexpected data after JSON text");
}

TEST(JsonScanTest, RejectsNulByteOutsideStrings) {
  expect_rejected("\0"s, 0, "expected a JSON value");
  expect_rejected("{}\0"s, 2, "unexpected data after JSON text");
  expect_rejected("[1,\0 2]"s, 3, "expected a JSON value");
  expect_rejected("{\"a\"\0:1}"s, 4, "expected ':' after object key");
  expect_rejected("tr\0e"s, 2, "invalid literal");
  expect_rejected("1\0"s, 1, "unexpected data after JSON text");
  // Found by the jansson cross-check: jansson 2.14 skips raw NULs and
  // accepts these; the grammar does not.
  expect_rejected("8\0"s, 1, "unexpected data after JSON text");
  expect_rejected("[1\0]"s, 2, "expected ',' or ']' in array");
}

TEST(JsonScanTest, RejectsByteOrderMark) {
  expect_rejected("\xef\xbb\xbf{}", 0, "expected a JSON value");
}

TEST(JsonScanTest, RejectsEveryProperPrefixOfValidDocuments) {
  const std::string documents[] = {
      std::string(kGpsReport),
      R"([1,-2.5E+10,"a\n\u00e9\ud83d\ude00",true,false,null,{"k":{}},[]])",
      "\"\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80\"",
      "-12.75e-3",
  };
  for (const std::string& document : documents) {
    ASSERT_TRUE(accepts(document)) << document;
    for (std::size_t length = 0; length < document.size(); ++length) {
      const std::string_view prefix(document.data(), length);
      const JsonScanResult result = scan_json(prefix);
      // A number prefix such as "-12" is itself a complete JSON text.
      if (document == "-12.75e-3" &&
          (length == 2 || length == 3 || length == 5 || length == 6 || length == 9)) {
        continue;
      }
      EXPECT_FALSE(result.ok) << "accepted prefix of length " << length << ": " << prefix;
      EXPECT_LE(result.offset, length);
    }
  }
}

TEST(JsonScanTest, TruncatedContainersReportEndOfInputAtTheEnd) {
  for (const std::string_view text : {"[", "{", "[1", "[1,", "{\"a\"", "{\"a\":", "{\"a\":1",
                                      "{\"a\":1,", "\"abc", "\"a\\", "\"\\u12", "tru", "[[[[]]]"}) {
    expect_rejected(text, text.size(), "unexpected end of input");
  }
}

TEST(JsonScanTest, RejectsMalformedArrays) {
  expect_rejected("[1,]", 3, "expected a JSON value");
  expect_rejected("[,1]", 1, "expected a JSON value");
  expect_rejected("[1 2]", 3, "expected ',' or ']' in array");
  expect_rejected("[1}", 2, "expected ',' or ']' in array");
  expect_rejected("[1,,2]", 3, "expected a JSON value");
  expect_rejected("]", 0, "expected a JSON value");
}

TEST(JsonScanTest, RejectsMalformedObjects) {
  expect_rejected("{,}", 1, "expected a string as object key");
  expect_rejected("{\"a\":1,}", 7, "expected a string as object key");
  expect_rejected("{a:1}", 1, "expected a string as object key");
  expect_rejected("{1:1}", 1, "expected a string as object key");
  expect_rejected("{\"a\" 1}", 5, "expected ':' after object key");
  expect_rejected("{\"a\":}", 5, "expected a JSON value");
  expect_rejected("{\"a\":1 \"b\":2}", 7, "expected ',' or '}' in object");
  expect_rejected("{\"a\":1]", 6, "expected ',' or '}' in object");
  expect_rejected("{\"a\"}", 4, "expected ':' after object key");
  expect_rejected("}", 0, "expected a JSON value");
}

TEST(JsonScanTest, AcceptsDuplicateKeysBecauseTheGrammarDoes) {
  EXPECT_TRUE(accepts(R"({"a":1,"a":2})"));
}

TEST(JsonScanTest, AcceptsValidNumbers) {
  for (const std::string_view text :
       {"0", "-0", "7", "-7", "10", "1234567890", "0.0", "-0.5", "3.14159", "1e5", "1E5", "1e+5",
        "1e-5", "1E+05", "0e0", "-0E-0", "2.5e10", "1.0e-007", "[0,-0,0.1,1e1]"}) {
    EXPECT_TRUE(accepts(text)) << text;
  }
}

TEST(JsonScanTest, RejectsNumbersOutsideTheGrammar) {
  expect_rejected("01", 1, "leading zero in number");
  expect_rejected("-01", 2, "leading zero in number");
  expect_rejected("00", 1, "leading zero in number");
  expect_rejected("[007]", 2, "leading zero in number");
  expect_rejected("+1", 0, "expected a JSON value");
  expect_rejected(".5", 0, "expected a JSON value");
  expect_rejected("-.5", 1, "invalid number");
  expect_rejected("-", 1, "unexpected end of input");
  expect_rejected("- 1", 1, "invalid number");
  expect_rejected("--1", 1, "invalid number");
  expect_rejected("1.", 2, "unexpected end of input");
  expect_rejected("[1.]", 3, "expected digit after decimal point");
  expect_rejected("1.e5", 2, "expected digit after decimal point");
  expect_rejected("1e", 2, "unexpected end of input");
  expect_rejected("1e+", 3, "unexpected end of input");
  expect_rejected("[1e]", 3, "expected digit in exponent");
  expect_rejected("1e+-1", 3, "expected digit in exponent");
  expect_rejected("1.5.2", 3, "unexpected data after JSON text");
  expect_rejected("1e5e5", 3, "unexpected data after JSON text");
  expect_rejected("0x1F", 1, "unexpected data after JSON text");
  expect_rejected("NaN", 0, "expected a JSON value");
  expect_rejected("Infinity", 0, "expected a JSON value");
  expect_rejected("-Infinity", 1, "invalid number");
  expect_rejected("1_000", 1, "unexpected data after JSON text");
}

TEST(JsonScanTest, AcceptsArbitrarilyLongNumbers) {
  const std::string digits(100000, '9');
  EXPECT_TRUE(accepts(digits));
  EXPECT_TRUE(accepts("-" + digits + "." + digits + "e-" + digits));
  EXPECT_TRUE(accepts("[1e999999999999999999999,-1e-999999999999999999]"));
}

TEST(JsonScanTest, RejectsLiteralsThatAreMisspelledOrWrongCase) {
  expect_rejected("True", 0, "expected a JSON value");
  expect_rejected("nul", 3, "unexpected end of input");
  expect_rejected("nulL", 3, "invalid literal");
  expect_rejected("fals", 4, "unexpected end of input");
  expect_rejected("trUe", 2, "invalid literal");
  expect_rejected("[t]", 2, "invalid literal");
  expect_rejected("undefined", 0, "expected a JSON value");
}

TEST(JsonScanTest, AcceptsAllSimpleEscapes) {
  EXPECT_TRUE(accepts(R"("\"\\\/\b\f\n\r\t")"));
  EXPECT_TRUE(accepts(R"("\u0041\u00e9\uFFFF\uabcd\u0000")"));
}

TEST(JsonScanTest, RejectsInvalidEscapes) {
  expect_rejected(R"("\a")", 2, "invalid escape in string");
  expect_rejected(R"("\x41")", 2, "invalid escape in string");
  expect_rejected(R"("\U0041")", 2, "invalid escape in string");
  expect_rejected(R"("\')", 2, "invalid escape in string");
  expect_rejected("\"\\\0\""s, 2, "invalid escape in string");
  expect_rejected(R"("\u12G4")", 5, "invalid \\u escape in string");
  expect_rejected(R"("\u12")", 5, "invalid \\u escape in string");
  expect_rejected(R"("\u")", 3, "invalid \\u escape in string");
  expect_rejected(R"("\u-123")", 3, "invalid \\u escape in string");
}

// RFC 8259's grammar accepts any \uXXXX; see json_scan.h for the choice.
TEST(JsonScanTest, AcceptsLoneAndMismatchedSurrogateEscapesLikeTheGrammar) {
  EXPECT_TRUE(accepts(R"("\ud800")"));
  EXPECT_TRUE(accepts(R"("\udc00")"));
  EXPECT_TRUE(accepts(R"("\ude00\ud83d")"));
  EXPECT_TRUE(accepts(R"("\ud83d\ude00")"));
}

TEST(JsonScanTest, RejectsRawControlCharactersInStrings) {
  for (int c = 0; c < 0x20; ++c) {
    const std::string text = "\"a" + std::string(1, static_cast<char>(c)) + "b\"";
    expect_rejected(text, 2, "control character in string");
  }
  EXPECT_TRUE(accepts("\"\x7f\""));  // DEL is not a control character in JSON
}

TEST(JsonScanTest, AcceptsValidUtf8AtEveryBoundaryOfTable3_7) {
  for (const std::string_view text : {
           "\"\xc2\x80\"",          // U+0080, smallest two-byte
           "\"\xdf\xbf\"",          // U+07FF
           "\"\xe0\xa0\x80\"",      // U+0800, smallest three-byte
           "\"\xed\x9f\xbf\"",      // U+D7FF, just below surrogates
           "\"\xee\x80\x80\"",      // U+E000, just above surrogates
           "\"\xef\xbf\xbf\"",      // U+FFFF
           "\"\xf0\x90\x80\x80\"",  // U+10000, smallest four-byte
           "\"\xf3\xbf\xbf\xbf\"",  // U+FFFFF
           "\"\xf4\x8f\xbf\xbf\"",  // U+10FFFF, the last code point
           "\"\xe2\x82\xac \xf0\x9f\x9a\x97 \xd0\x9c\xd0\xbe\xd1\x81\xd0\xba\xd0\xb2\xd0\xb0\"",
       }) {
    EXPECT_TRUE(accepts(text)) << text;
  }
}

TEST(JsonScanTest, RejectsInvalidUtf8LeadBytes) {
  expect_rejected("\"\x80\"", 1, "invalid UTF-8 in string");  // lone continuation
  expect_rejected("\"\xbf\"", 1, "invalid UTF-8 in string");
  expect_rejected("\"\xc0\xaf\"", 1, "invalid UTF-8 in string");          // overlong '/'
  expect_rejected("\"\xc1\xbf\"", 1, "invalid UTF-8 in string");          // overlong
  expect_rejected("\"\xf5\x80\x80\x80\"", 1, "invalid UTF-8 in string");  // > U+10FFFF
  expect_rejected("\"\xf8\x88\x80\x80\x80\"", 1, "invalid UTF-8 in string");
  expect_rejected("\"\xfe\"", 1, "invalid UTF-8 in string");
  expect_rejected("\"\xff\"", 1, "invalid UTF-8 in string");
}

TEST(JsonScanTest, RejectsOverlongThreeAndFourByteEncodings) {
  expect_rejected("\"\xe0\x80\xaf\"", 2, "invalid UTF-8 in string");
  expect_rejected("\"\xe0\x9f\xbf\"", 2, "invalid UTF-8 in string");
  expect_rejected("\"\xf0\x80\x80\xaf\"", 2, "invalid UTF-8 in string");
  expect_rejected("\"\xf0\x8f\xbf\xbf\"", 2, "invalid UTF-8 in string");
}

TEST(JsonScanTest, RejectsSurrogatesEncodedInUtf8) {
  expect_rejected("\"\xed\xa0\x80\"", 2, "invalid UTF-8 in string");              // U+D800
  expect_rejected("\"\xed\xbf\xbf\"", 2, "invalid UTF-8 in string");              // U+DFFF
  expect_rejected("\"\xed\xa0\xbd\xed\xb8\x80\"", 2, "invalid UTF-8 in string");  // CESU-8
}

TEST(JsonScanTest, RejectsCodePointsAboveU10FFFF) {
  expect_rejected("\"\xf4\x90\x80\x80\"", 2, "invalid UTF-8 in string");
  expect_rejected("\"\xf4\xbf\xbf\xbf\"", 2, "invalid UTF-8 in string");
}

TEST(JsonScanTest, RejectsTruncatedUtf8Sequences) {
  expect_rejected("\"\xc3\"", 2, "invalid UTF-8 in string");
  expect_rejected("\"\xe2\x82\"", 3, "invalid UTF-8 in string");
  expect_rejected("\"\xf0\x9f\x98\"", 4, "invalid UTF-8 in string");
  expect_rejected("\"\xe2\x82x\"", 3, "invalid UTF-8 in string");
  expect_rejected("\"\xc3", 2, "unexpected end of input");
  expect_rejected("\"\xf0\x9f\x98", 4, "unexpected end of input");
  expect_rejected("\"\xc3\xa9\xc3\xc3\xa9\"", 4, "invalid UTF-8 in string");
}

TEST(JsonScanTest, RejectsInvalidUtf8InObjectKeys) {
  expect_rejected("{\"\xc0\x80\":1}", 2, "invalid UTF-8 in string");
}

TEST(JsonScanTest, RejectsNonAsciiBytesOutsideStrings) {
  expect_rejected("[\xc3\xa9]", 1, "expected a JSON value");
  expect_rejected("\xc3\xa9", 0, "expected a JSON value");
}

// The fast path reads 8 bytes at a time; put each kind of special byte at
// every position of a word, and at the tail, to cover both loops.
TEST(JsonScanTest, FindsSpecialBytesAtEveryPositionOfTheFastPath) {
  for (std::size_t position = 0; position < 24; ++position) {
    std::string body(25, 'x');  // the last 'x' follows every tested position
    body[position] = '\x01';
    expect_rejected("\"" + body + "\"", position + 1, "control character in string");
    body[position] = '"';
    expect_rejected("\"" + body + "\"", position + 2, "unexpected data after JSON text");
    body[position] = '\x80';
    expect_rejected("\"" + body + "\"", position + 1, "invalid UTF-8 in string");
    body[position] = '\\';
    expect_rejected("\"" + body + "\"", position + 2, "invalid escape in string");
    body[position] = '\x7f';
    EXPECT_TRUE(accepts("\"" + body + "\"")) << position;
    body[position] = ' ';
    EXPECT_TRUE(accepts("\"" + body + "\"")) << position;
  }
}

TEST(JsonScanTest, AcceptsLongPlainStrings) {
  const std::string text = "\"" + std::string(1 << 20, 'a') + "\"";
  EXPECT_TRUE(accepts(text));
}

TEST(JsonScanTest, AcceptsNestingUpToTheDefaultLimit) {
  EXPECT_TRUE(accepts(nested_arrays(kDefaultMaxJsonDepth)));
  std::string objects;
  for (std::size_t i = 0; i < kDefaultMaxJsonDepth; ++i) objects += "{\"k\":";
  objects += "1" + std::string(kDefaultMaxJsonDepth, '}');
  EXPECT_TRUE(accepts(objects));
}

TEST(JsonScanTest, RejectsNestingOneBeyondTheLimitAtTheOffendingBracket) {
  expect_rejected(nested_arrays(kDefaultMaxJsonDepth + 1), kDefaultMaxJsonDepth,
                  "nesting too deep");
}

TEST(JsonScanTest, RejectsHundredThousandLevelsWithoutCrashing) {
  const std::size_t depth = 100000;
  expect_rejected(std::string(depth, '['), kDefaultMaxJsonDepth, "nesting too deep");
  expect_rejected(nested_arrays(depth), kDefaultMaxJsonDepth, "nesting too deep");
  std::string objects;
  for (std::size_t i = 0; i < depth; ++i) objects += "{\"a\":";
  expect_rejected(objects, 5 * kDefaultMaxJsonDepth, "nesting too deep");
}

TEST(JsonScanTest, AcceptsHundredThousandLevelsWhenTheLimitAllowsIt) {
  const std::size_t depth = 100000;
  EXPECT_TRUE(scan_json(nested_arrays(depth), depth).ok);
  expect_rejected(std::string(depth, '['), depth, "unexpected end of input", depth);
}

TEST(JsonScanTest, TracksContainerKindsBeyondTheInlineStack) {
  // Alternating kinds past 512 levels must close with the matching bracket.
  std::string open;
  std::string close;
  for (int i = 0; i < 2000; ++i) {
    open += i % 3 == 0 ? "{\"k\":" : "[";
    close.insert(close.begin(), i % 3 == 0 ? '}' : ']');
  }
  EXPECT_TRUE(scan_json(open + "0" + close, 2000).ok);
  std::string swapped = close;
  std::swap(swapped[0], swapped[swapped.find('}')]);
  EXPECT_FALSE(scan_json(open + "0" + swapped, 2000).ok);
}

TEST(JsonScanTest, MaxDepthZeroAdmitsOnlyScalars) {
  EXPECT_TRUE(scan_json("1", 0).ok);
  EXPECT_TRUE(scan_json("\"a\"", 0).ok);
  EXPECT_FALSE(scan_json("[]", 0).ok);
  EXPECT_FALSE(scan_json("{}", 0).ok);
  EXPECT_TRUE(scan_json("[[]]", 2).ok);
  EXPECT_FALSE(scan_json("[[[]]]", 2).ok);
}

TEST(JsonScanTest, EmptyContainersAtDepthLimitCloseCorrectly) {
  EXPECT_TRUE(scan_json("[{},[],{\"a\":[]}]", 3).ok);
  EXPECT_FALSE(scan_json("[{},[],{\"a\":[[]]}]", 3).ok);
}

}  // namespace
}  // namespace gpsrelay::http
