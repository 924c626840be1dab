// Device timestamps as Unix milliseconds: ISO 8601 text, and Unix seconds
// or milliseconds as numbers or text (the rules are in normalizer.h).
// parse_timestamp_text, the text form, is public and declared in
// normalizer.h; this header adds the number form, for JSON numbers.
//
// Internal to the location normaliser; nothing outside src/locations/
// includes it. It only parses: the range check (2000-01-01 to a day after
// `now_ms`) and its error message are RecordBuilder's.
#pragma once

#include <cstdint>

namespace gpsrelay::locations::normalizer_internal {

// Unix milliseconds for a Unix time in seconds (below 1e11) or
// milliseconds. Any finite number is a time: the caller's range check
// refuses the absurd ones. Values beyond the int64 range become its
// limits, which fail it. REQUIRES: `value` is finite.
std::int64_t unix_number_to_ms(double value);

}  // namespace gpsrelay::locations::normalizer_internal
