// MemoryReturn: when to hand freed heap back to the kernel.
//
// glibc keeps freed memory in its arenas for reuse; after a burst of large
// request bodies (up to http.max_inflight_bytes) the daemon's RSS would stay
// at the burst's peak although nothing uses it. malloc_trim(0) returns it,
// but walks every arena: worth it once after a burst, not every tick. This
// decides from the bytes in flight only (no clock, no allocator: tested
// directly); the daemon calls malloc_trim when it says so.
#pragma once

#include <algorithm>
#include <cstdint>

namespace gpsrelay::core {

class MemoryReturn {
 public:
  // A burst counts once the in-flight bytes reached `burst_bytes`.
  explicit MemoryReturn(std::uint64_t burst_bytes) : burst_bytes_(burst_bytes) {}

  // Fed periodically with the most bytes in flight since the previous call
  // (a burst between two calls counts) and the bytes in flight now. True
  // when a burst is over: in flight fell below the burst size and to a
  // quarter of the peak since the last trim.
  bool should_trim(std::uint64_t peak_since_last_call, std::uint64_t in_flight) {
    peak_ = std::max({peak_, peak_since_last_call, in_flight});
    if (peak_ < burst_bytes_ || in_flight >= burst_bytes_ || in_flight > peak_ / 4) return false;
    peak_ = in_flight;
    return true;
  }

 private:
  std::uint64_t burst_bytes_;
  std::uint64_t peak_ = 0;
};

}  // namespace gpsrelay::core
