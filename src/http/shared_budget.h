// SharedBudget: a quantity several threads draw from, with an upper bound —
// the open connections of one listener (shared by every worker's socket of
// it), or the bytes of requests held in memory by the whole process.
//
// Plain atomics, no libevent: the edge (client_connections.h) decides what
// to draw and when; this only counts. Deliberately not a quota per client:
// it bounds the daemon, the rate limiter bounds clients.
#pragma once

#include <algorithm>
#include <atomic>
#include <cstdint>

namespace gpsrelay::http {

class SharedBudget {
 public:
  explicit SharedBudget(std::uint64_t limit) : limit_(limit) {}
  SharedBudget(const SharedBudget&) = delete;
  SharedBudget& operator=(const SharedBudget&) = delete;

  // Takes `amount` if the total stays within the limit; else takes nothing.
  bool try_acquire(std::uint64_t amount) {
    std::uint64_t used = used_.load(std::memory_order_relaxed);
    do {
      if (amount > limit_ || used > limit_ - amount) return false;
    } while (!used_.compare_exchange_weak(used, used + amount, std::memory_order_relaxed));
    return true;
  }

  // Takes `amount` even past the limit — for what is already in memory and
  // must be counted until it is released. Returns whether the total is
  // still within the limit.
  bool acquire_anyway(std::uint64_t amount) {
    const std::uint64_t used = used_.fetch_add(amount, std::memory_order_relaxed) + amount;
    std::uint64_t peak = peak_.load(std::memory_order_relaxed);
    while (used > peak && !peak_.compare_exchange_weak(peak, used, std::memory_order_relaxed)) {
    }
    return used <= limit_;
  }

  void release(std::uint64_t amount) { used_.fetch_sub(amount, std::memory_order_relaxed); }

  std::uint64_t used() const { return used_.load(std::memory_order_relaxed); }

  // The most used (through acquire_anyway) since the previous call; starts
  // the next period at what is used now. A sampler sees every burst, also
  // one that came and went between two samples.
  std::uint64_t take_peak() {
    return std::max(peak_.exchange(used(), std::memory_order_relaxed), used());
  }
  std::uint64_t limit() const { return limit_; }

 private:
  const std::uint64_t limit_;
  std::atomic<std::uint64_t> used_{0};
  std::atomic<std::uint64_t> peak_{0};
};

}  // namespace gpsrelay::http
