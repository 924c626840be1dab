// Well-formedness check for ingest bodies: decides whether a byte string is
// exactly one JSON text (RFC 8259) without building a DOM, so the relay can
// answer 400 early and then store and forward the original bytes untouched.
// It deliberately does not parse values, check any schema, reject duplicate
// keys, or limit number size: it is a syntax check only.
//
// Choices the HTTP layer relies on:
//  - Any value is accepted at top level (object, array, string, number,
//    literal), surrounded by optional JSON whitespace (space, tab, CR, LF).
//    Empty or whitespace-only input, trailing bytes, and a UTF-8 byte order
//    mark are rejected.
//  - Strings must be strict UTF-8 (no overlongs, no UTF-8-encoded surrogates,
//    nothing above U+10FFFF, no truncated sequences) and must not contain raw
//    control characters below 0x20.
//  - Escapes follow the RFC 8259 grammar: "\u0000" and lone or mismatched
//    surrogate escapes such as "\uD800" are accepted, because the grammar
//    allows them (RFC 8259 section 8.2 leaves their meaning to receivers).
//    jansson rejects both; a strict upstream may do the same.
//  - Nesting deeper than max_depth containers is rejected; the scanner is
//    iterative, so the limit protects receivers, not this process's stack.
#pragma once

#include <cstddef>
#include <string_view>

namespace gpsrelay::http {

struct JsonScanResult {
  bool ok;
  // On failure, the byte offset of the first byte that cannot continue a
  // valid JSON text (text.size() when the input ended too early); 0 when ok.
  std::size_t offset;
  // On failure, a static human-readable reason such as
  // "unexpected end of input"; empty when ok.
  std::string_view reason;
};

inline constexpr std::size_t kDefaultMaxJsonDepth = 512;

// Returns ok when text is exactly one well-formed JSON text whose containers
// nest at most max_depth deep (max_depth = 0 admits only scalars).
// Runs in O(text.size()) time and allocates only when max_depth > 512.
JsonScanResult scan_json(std::string_view text, std::size_t max_depth = kDefaultMaxJsonDepth);

}  // namespace gpsrelay::http
