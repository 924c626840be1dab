// Query strings and application/x-www-form-urlencoded bodies split into
// decoded name/value pairs, as OsmAnd-protocol clients send them.
// percent_decode, which it uses, is public and declared in normalizer.h.
//
// Internal to the location normaliser; nothing outside src/locations/
// includes it. It does not interpret names or values: which parameter
// means what, and which of a repeated one counts, is the format's
// (osmand.cc).
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace gpsrelay::locations::normalizer_internal {

// Name/value pairs in the order they appeared, repeats kept.
using Params = std::vector<std::pair<std::string, std::string>>;

// Splits `text` at '&', then each pair at its first '=' (no '=': an empty
// value), percent-decoding both with '+' as a space; empty pairs are
// skipped. nullopt when any name or value is not valid percent-encoding.
std::optional<Params> split_params(std::string_view text);

}  // namespace gpsrelay::locations::normalizer_internal
