// Pure header policy for ingest: Content-Type acceptance and Retry-After
// formatting. It does not read headers from a request or decide status
// codes; the ingest worker does. Credentials (Bearer, X-API-Key) are
// auth/token_store.h's.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace gpsrelay::http {

// True when header_value names the media type application/json, compared
// case-insensitively, with optional parameters after ';' (their content is
// not checked: RFC 8259 defines none, and "charset=utf-8" is common) and
// optional spaces or tabs around the type. False for an empty value and for
// other types such as "application/jsonx", "text/json",
// "application/json-seq" or "application/vnd.x+json". A missing header is
// the caller's case (pass nothing; answer 415).
bool is_json_content_type(std::string_view header_value);

// Whether the values of every Content-Length header of one request name
// one length. RFC 9112 6.3: differing values make the message's framing
// ambiguous (a request-smuggling shape) and must be refused; repeats of the
// same value may be accepted. Surrounding spaces/tabs do not count.
bool content_lengths_agree(const std::vector<std::string_view>& values);

// Whether an Idempotency-Key header value may be used: 1 to 128 visible
// ASCII characters (0x21-0x7E). It becomes part of a Redis key name.
bool is_valid_idempotency_key(std::string_view key);

// The Retry-After header value in whole seconds for a wait of
// retry_after_ms: rounded up, at least "1" (also for zero or negative input),
// so a client that obeys it is not refused again for the same reason.
std::string retry_after_seconds(std::int64_t retry_after_ms);

}  // namespace gpsrelay::http
