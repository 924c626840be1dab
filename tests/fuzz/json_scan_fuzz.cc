// libFuzzer target for scan_json: checks the result's own invariants and
// cross-checks the verdict against jansson where both define the same
// language. Known, intended differences (skipped, not reported):
//  - Depth: jansson stops at JSON_PARSER_MAX_DEPTH (2048, counting scalars);
//    we compare only inputs whose verdict does not depend on a depth limit
//    (scan_json gives the same answer with max_depth 1000 and unlimited).
//  - Lone or mismatched surrogate escapes ("\uD800"): the RFC 8259 grammar
//    accepts them, jansson rejects them ("invalid Unicode ...").
//  - "\u0000" inside object keys: grammatical, but jansson cannot represent
//    it (json_error_null_byte_in_key). JSON_ALLOW_NUL covers string values.
//  - Numbers outside double/int64 range: grammatical, jansson reports
//    json_error_numeric_overflow.
//  - Raw NUL bytes: jansson 2.14's buffer stream skips them (it accepts
//    "[1\0]" and "8\0"), while RFC 8259 allows no NUL outside strings and
//    none unescaped inside. Inputs containing a NUL byte are not compared.
#include <jansson.h>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <memory>
#include <string_view>

#include "http/json_scan.h"

namespace {

using gpsrelay::http::JsonScanResult;
using gpsrelay::http::scan_json;

struct JsonDecref {
  void operator()(json_t* json) const { json_decref(json); }
};
using JsonPtr = std::unique_ptr<json_t, JsonDecref>;

[[noreturn]] void die(const char* what, std::string_view input) {
  std::fprintf(stderr, "%s (input %zu bytes)\n", what, input.size());
  std::abort();
}

bool jansson_difference_is_intended(const json_error_t& error) {
  const enum json_error_code code = json_error_code(&error);
  return code == json_error_numeric_overflow || code == json_error_null_byte_in_key ||
         std::strstr(error.text, "invalid Unicode") != nullptr;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  const JsonScanResult bounded = scan_json(input, 1000);
  const JsonScanResult unlimited = scan_json(input, std::numeric_limits<std::size_t>::max());
  const JsonScanResult by_default = scan_json(input);

  for (const JsonScanResult& result : {bounded, unlimited, by_default}) {
    if (result.ok && (result.offset != 0 || !result.reason.empty())) die("ok with error", input);
    if (!result.ok && result.reason.empty()) die("error without reason", input);
    if (result.offset > size) die("offset beyond input", input);
  }
  // A larger limit can only turn "nesting too deep" into another verdict.
  if (by_default.ok && !bounded.ok) die("accepted at 512 but not at 1000", input);
  if (bounded.ok && !unlimited.ok) die("accepted at 1000 but not unlimited", input);
  if (!unlimited.ok && (bounded.ok || bounded.reason != "nesting too deep") &&
      (bounded.offset != unlimited.offset || bounded.reason != unlimited.reason)) {
    die("limit changed an unrelated error", input);
  }
  if (!bounded.ok && bounded.reason == "nesting too deep") return 0;
  if (input.find('\0') != std::string_view::npos) return 0;

  json_error_t error;
  const JsonPtr parsed(json_loadb(input.data(), size, JSON_DECODE_ANY | JSON_ALLOW_NUL, &error));
  if (bounded.ok && parsed == nullptr) {
    if (jansson_difference_is_intended(error)) return 0;
    std::fprintf(stderr, "scan_json accepted, jansson rejected: %s at %d\n", error.text,
                 error.position);
    die("verdicts differ", input);
  }
  if (!bounded.ok && parsed != nullptr) {
    std::fprintf(stderr, "scan_json rejected at %zu (%.*s), jansson accepted\n", bounded.offset,
                 static_cast<int>(bounded.reason.size()), bounded.reason.data());
    die("verdicts differ", input);
  }
  return 0;
}
