// core::compact_json: the text gpsrelay stores and answers for parsed JSON
// (entity attributes, values) — reals in their shortest round-trip form,
// escapes as jansson writes them, members in order.
#include "core/json_text.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <string>

#include "core/json_handle.h"

namespace gpsrelay::core {
namespace {

std::string compact(const char* text) {
  json_error_t error;
  const JsonPtr value(json_loads(text, JSON_DECODE_ANY, &error));
  EXPECT_TRUE(value) << text << ": " << error.text;
  return compact_json(value.get());
}

TEST(JsonText, RealsAreShortestAndStillReals) {
  EXPECT_EQ(compact("0.1"), "0.1");
  EXPECT_EQ(compact("0.3"), "0.3");
  EXPECT_EQ(compact("12.300"), "12.3");
  EXPECT_EQ(compact("1e2"), "100.0");
  EXPECT_EQ(compact("-0.0"), "-0.0");
  EXPECT_EQ(compact("1.7976931348623157e308"), "1.7976931348623157e+308");
  EXPECT_EQ(compact("5e-324"), "5e-324");
  EXPECT_EQ(compact("[0.1,2,3.5]"), "[0.1,2,3.5]");
}

TEST(JsonText, RealsReadBackAsTheSameDouble) {
  for (const double value : {0.1, 1.0 / 3.0, 2.5e-8, 123456789.125, -7.0e22}) {
    std::string text;
    append_json_real(text, value);
    EXPECT_EQ(std::strtod(text.c_str(), nullptr), value) << text;
  }
}

TEST(JsonText, ObjectsKeepTheirOrderAndStringsEscapeWhatJsonRequires) {
  EXPECT_EQ(compact(R"({ "b" : 1, "a" : { "z" : [ true, false, null ] } })"),
            R"({"b":1,"a":{"z":[true,false,null]}})");
  EXPECT_EQ(compact(R"("q\" b\\ n\n t\t c\u0001 d\u007f é /")"),
            "\"q\\\" b\\\\ n\\n t\\t c\\u0001 d\x7f \xc3\xa9 /\"");
  EXPECT_EQ(compact("-9223372036854775808"), "-9223372036854775808");
  EXPECT_EQ(compact("{}"), "{}");
  EXPECT_EQ(compact("[]"), "[]");
}

}  // namespace
}  // namespace gpsrelay::core
