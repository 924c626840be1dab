// Durations and byte sizes as operators write them in gpsrelay.conf.
//
// Owns the one grammar for "250ms"/"5s"/"10m"/"2h"/"30d" and
// "1048576"/"512k"/"1m", and its inverse for --check-config output. It does
// not know which keys take which unit or what range a key allows; that is
// config.cc's business.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace gpsrelay::core {

// Parses a non-negative integer followed by exactly one unit: ms, s, m
// (minutes), h, d. The unit is required: a bare "30" is rejected because
// seconds and milliseconds are both plausible readings, and a timeout off by
// a factor of 1000 is the kind of mistake that is only found in production.
// Returns nullopt for anything else: no sign, no fraction, no spaces, no
// upper case, no compound forms ("1h30m"), nothing that overflows the
// millisecond count.
std::optional<std::chrono::milliseconds> parse_duration(std::string_view text);

// Parses a non-negative integer of bytes, optionally followed by k or m
// (either case), meaning 1024 and 1024*1024. Returns nullopt for anything
// else, including overflow of 64 bits.
std::optional<std::uint64_t> parse_size(std::string_view text);

// Parses a non-negative integer of metres followed by "m" or "km" (the
// unit is required, as for durations). nullopt for anything else.
std::optional<std::uint64_t> parse_distance(std::string_view text);

// The shortest text parse_distance() reads back: "50km", "1500m".
std::string format_distance(std::uint64_t metres);

// The shortest text parse_duration() reads back as `d`: the largest unit
// that divides it exactly (5000ms -> "5s", 250ms -> "250ms", 0 -> "0s").
// A negative `d` (which parse_duration never yields) is written as "-Nms"
// so that logging it still tells the truth, though it does not parse.
std::string format_duration(std::chrono::milliseconds d);

// The shortest text parse_size() reads back as `bytes`: "1m", "512k", or
// the plain number when neither suffix divides it exactly.
std::string format_size(std::uint64_t bytes);

}  // namespace gpsrelay::core
