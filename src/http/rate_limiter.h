// Per-client request rate limiting for ingest (http.rate_limit and
// http.rate_burst), shared by all event-loop threads without a lock. It owns
// only the admission decision; it does not read clocks, know about sockets,
// or format the 429 answer.
//
// Algorithm: GCRA, the token bucket expressed as one "theoretical arrival
// time" (TAT) per client. A request at `now` is admitted when
// max(TAT, now) + interval - now <= burst * interval, and then TAT advances by
// one interval; refused requests leave TAT alone. Each TAT is one
// std::atomic<int64_t> updated with a compare-and-swap loop, so concurrent
// admits for the same client never grant more than the budget.
//
// Approximation: the table has a fixed number of slots indexed by a hash of
// the client key, with no key stored. Two clients whose keys hash to the same
// slot share one budget (they may be refused early; never admitted beyond
// the shared budget). With 65536 slots and a few hundred active devices
// collisions are rare. Memory is fixed (8 bytes per slot); nothing is ever
// evicted because an idle slot's TAT simply falls into the past.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string_view>

namespace gpsrelay::http {

struct RateDecision {
  bool allowed;
  // When refused: milliseconds until the same client would be admitted,
  // rounded up, always > 0. When allowed: 0.
  std::int64_t retry_after_ms;
};

class ClientRateLimiter {
 public:
  // REQUIRES: rate_per_second > 0 and finite; burst >= 1 (the contract's
  // rate_burst = 0 means "same as rate": resolve that before calling).
  // Throws std::invalid_argument otherwise. slots is rounded up to a power of
  // two (minimum 1).
  ClientRateLimiter(double rate_per_second, double burst, std::size_t slots = 65536);

  // Decides one request from client_key (the peer IP as text) at now_ns on a
  // monotonic clock (REQUIRES: |now_ns| < 2^62, true for steady_clock).
  // Safe to call from any number of threads at once.
  RateDecision admit(std::string_view client_key, std::int64_t now_ns);

 private:
  std::int64_t interval_ns_;   // time one request costs
  std::int64_t tolerance_ns_;  // burst * interval: how far TAT may run ahead of now
  std::size_t slot_mask_;
  std::unique_ptr<std::atomic<std::int64_t>[]> tats_;
};

}  // namespace gpsrelay::http
