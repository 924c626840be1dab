// TIME arguments of gpsrelayctl (--since): "that long ago" as a duration,
// or an absolute UTC date/time. Pure, so every accepted form is unit-tested.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace gpsrelay::ctl {

// Unix milliseconds for `text` relative to `now_ms`, or nullopt when it is
// none of: a duration (30s, 10m, 2h, 7d), YYYY-MM-DD, YYYY-MM-DDTHH:MM,
// YYYY-MM-DDTHH:MM:SS (either with a trailing Z; a space instead of T).
std::optional<std::int64_t> parse_time_spec(std::string_view text, std::int64_t now_ms);

// "YYYY-MM-DD HH:MM:SS" (UTC) for Unix milliseconds.
std::string format_utc(std::int64_t unix_ms);

}  // namespace gpsrelay::ctl
