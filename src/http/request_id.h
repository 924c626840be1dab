// Request ids for X-Request-ID, log fields and the queue entry: cleaning a
// client-supplied id so it is safe to echo, and generating ids when the
// client sent none. It does not decide which one to use (the ingest worker
// does) and does not guarantee uniqueness of client-supplied ids.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace gpsrelay::http {

inline constexpr std::size_t kMaxRequestIdLength = 128;

// Keeps only the characters [A-Za-z0-9._:/+=-] of client_value, in order,
// and the first kMaxRequestIdLength of those. The set covers UUIDs, ULIDs,
// trace ids and base64 ids while needing no quoting or escaping in an HTTP
// header, a JSON string, a journal field or a plain log line. Other bytes are
// dropped, not replaced. Returns an empty string when nothing usable remains;
// the caller then generates an id.
std::string sanitize_request_id(std::string_view client_value);

// Generates 32-character lowercase hex ids (a UUID's length without the
// dashes): 16 hex digits derived from the seed, then 16 from a counter passed
// through a bijective mix, so ids from one generator never repeat within
// 2^64 calls and ids from generators with distinct seeds never collide.
// Seed it from a random source in production and from a constant in tests.
// Not thread-safe by design: one instance per event-loop thread.
class RequestIdGenerator {
 public:
  explicit RequestIdGenerator(std::uint64_t seed);

  std::string next();

 private:
  std::uint64_t prefix_;
  std::uint64_t counter_offset_;
  std::uint64_t counter_ = 0;
};

}  // namespace gpsrelay::http
