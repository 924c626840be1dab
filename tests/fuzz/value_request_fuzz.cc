// libFuzzer target for the write-behind values' inputs (events/value_request.h).
//
// Any bytes as a POST /write body, a GET /read query and a stored record:
// none may crash. An accepted body must keep every promise of the rules
// (user_id and value bounds, ts range), its record must read back as the
// same value, and that record must end with its ts (what the cache scripts
// rely on). It does not check which bodies are accepted; the unit tests do.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>
#include <variant>

#include "events/value_request.h"

namespace {

using gpsrelay::events::ValueError;
using gpsrelay::events::ValueRecord;

[[noreturn]] void fail(const char* what, std::string_view input) {
  std::fprintf(stderr, "value_request_fuzz: %s: '%.*s'\n", what, static_cast<int>(input.size()),
               input.data());
  std::abort();
}

void check_record(const ValueRecord& record, std::string_view input) {
  if (record.user_id.empty() || record.user_id.size() > gpsrelay::events::kMaxUserIdBytes) {
    fail("accepted user_id out of bounds", input);
  }
  for (const char c : record.user_id) {
    const auto byte = static_cast<unsigned char>(c);
    if (byte < 0x20 || byte == 0x7F) fail("accepted user_id with a control character", input);
  }
  if (record.value_json.empty() || record.value_json.size() > gpsrelay::events::kMaxValueBytes) {
    fail("accepted value out of bounds", input);
  }
  if (record.ts_ms < 0 || record.ts_ms > gpsrelay::events::kMaxTsMs) fail("ts out of range", input);
  const std::string text = gpsrelay::events::format_value_record(record);
  const std::string tail = ",\"ts\":" + std::to_string(record.ts_ms) + "}";
  if (text.size() < tail.size() ||
      text.compare(text.size() - tail.size(), tail.size(), tail) != 0) {
    fail("record does not end with its ts", input);
  }
  const auto back = gpsrelay::events::parse_value_record(text);
  if (!back || !(*back == record)) fail("record does not read back", input);
  if (!gpsrelay::events::with_source(text, "cache")) fail("record takes no source", input);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  const auto parsed = gpsrelay::events::parse_value_write(input, 1764489600000);
  if (const auto* record = std::get_if<ValueRecord>(&parsed)) {
    check_record(*record, input);
  } else if (std::get<ValueError>(parsed).message.empty()) {
    fail("error without a message", input);
  }
  const auto read = gpsrelay::events::parse_value_read(input);
  if (const auto* id = std::get_if<std::string>(&read)) {
    if (id->empty() || id->size() > gpsrelay::events::kMaxUserIdBytes) {
      fail("read user_id out of bounds", input);
    }
  }
  if (const auto stored = gpsrelay::events::parse_value_record(input)) {
    check_record(*stored, input);
  }
  return 0;
}
