// ISO 8601 date-times read into Unix milliseconds, for every API that takes
// a time as text (device timestamps in locations/, event dates in events/).
//
// Pure text in, a number out. It owns no range policy: each caller decides
// which times are sane (locations: 2000 to a day ahead; events: 1970 to
// 9999) and words its own error message.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

namespace gpsrelay::core {

// Unix milliseconds for an ISO 8601 / RFC 3339 date-time:
//   YYYY-MM-DD, then 'T', 't' or ' ', then HH:MM[:SS[(.|,)fraction]],
//   then 'Z', 'z', +HH:MM, +HHMM, +HH (or '-') or nothing.
// Without an offset the time is read as UTC. Fraction digits beyond the
// third are dropped (truncated, not rounded); second 60 (a leap second)
// reads as the next second. Years are four digits (0000 to 9999), so the
// result lies between about -62.2e12 and 253.4e12 and never overflows.
// nullopt for anything else, including a date without a time, a calendar
// date that does not exist (2023-02-29), an offset beyond 23:59, and
// leading or trailing blanks.
std::optional<std::int64_t> parse_iso8601_ms(std::string_view text);

}  // namespace gpsrelay::core
