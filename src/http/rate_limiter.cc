// GCRA over a lock-free slot table (see rate_limiter.h). Times are int64
// nanoseconds; the only floating point is in the constructor.
#include "http/rate_limiter.h"

#include <algorithm>
#include <bit>
#include <cmath>
#include <limits>
#include <stdexcept>

namespace gpsrelay::http {
namespace {

// An empty slot: far enough in the past that max(tat, now) is always now.
constexpr std::int64_t kNeverSeen = std::numeric_limits<std::int64_t>::min();

// Caps interval and tolerance at about 36 years so that now + tolerance +
// interval cannot overflow for any plausible monotonic clock value.
constexpr double kMaxDurationNs = 1.0 * (std::int64_t{1} << 60);

std::int64_t to_duration_ns(double ns) {
  return static_cast<std::int64_t>(std::clamp(std::ceil(ns), 1.0, kMaxDurationNs));
}

// FNV-1a 64: fast on short keys such as IP address text. Not keyed, so a
// client who can choose many source addresses could aim for a victim's slot;
// such a client can evade per-IP limits by rotating addresses anyway.
std::uint64_t hash_key(std::string_view key) {
  std::uint64_t hash = 0xcbf29ce484222325ULL;
  for (const char c : key) {
    hash ^= static_cast<unsigned char>(c);
    hash *= 0x100000001b3ULL;
  }
  // FNV's low bits mix poorly for the last bytes; fold the high half in
  // because the slot index uses the low bits.
  return hash ^ (hash >> 32);
}

}  // namespace

ClientRateLimiter::ClientRateLimiter(double rate_per_second, double burst, std::size_t slots) {
  if (!(rate_per_second > 0) || !std::isfinite(rate_per_second)) {
    throw std::invalid_argument("rate_per_second must be a positive finite number");
  }
  if (!(burst >= 1) || !std::isfinite(burst)) {
    throw std::invalid_argument("burst must be a finite number >= 1");
  }
  // Rounding the interval up errs on the strict side; the tolerance is
  // derived from the rounded interval so that the burst stays exact even
  // when the interval is only a few nanoseconds.
  interval_ns_ = to_duration_ns(1e9 / rate_per_second);
  tolerance_ns_ = std::max(to_duration_ns(static_cast<double>(interval_ns_) * burst), interval_ns_);
  const std::size_t slot_count = std::bit_ceil(std::max<std::size_t>(slots, 1));
  slot_mask_ = slot_count - 1;
  tats_ = std::make_unique<std::atomic<std::int64_t>[]>(slot_count);
  for (std::size_t i = 0; i < slot_count; ++i)
    tats_[i].store(kNeverSeen, std::memory_order_relaxed);
}

RateDecision ClientRateLimiter::admit(std::string_view client_key, std::int64_t now_ns) {
  std::atomic<std::int64_t>& slot = tats_[hash_key(client_key) & slot_mask_];
  // Relaxed ordering is enough: the TAT is the whole state and publishes
  // nothing else; the CAS alone makes concurrent updates linearisable.
  std::int64_t tat = slot.load(std::memory_order_relaxed);
  for (;;) {
    const std::int64_t new_tat = std::max(tat, now_ns) + interval_ns_;
    const std::int64_t ahead_ns = new_tat - now_ns;
    if (ahead_ns > tolerance_ns_) {
      const std::int64_t wait_ns = ahead_ns - tolerance_ns_;
      return {false, (wait_ns + 999'999) / 1'000'000};
    }
    if (slot.compare_exchange_weak(tat, new_tat, std::memory_order_relaxed)) return {true, 0};
  }
}

}  // namespace gpsrelay::http
