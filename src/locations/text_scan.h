// Scanning of device text that every location format shares: trimming
// blanks, and reading a whole string as one finite number the way device
// clients write numbers.
//
// Internal to the location normaliser (normalizer.h); nothing outside
// src/locations/ includes it.
#pragma once

#include <optional>
#include <string_view>

namespace gpsrelay::locations::normalizer_internal {

// `text` without leading and trailing spaces, tabs, CRs and LFs.
std::string_view trim(std::string_view text);

// A whole string that is one finite decimal number ("12", "-3.5", "1e3",
// "+4" as Java's parseDouble allows); nothing else, no blanks, no "nan".
std::optional<double> parse_number_text(std::string_view text);

}  // namespace gpsrelay::locations::normalizer_internal
