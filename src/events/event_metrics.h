// Counters of the entity-event API for /metrics: events by result (counted
// by the HTTP and gRPC front ends, which see every outcome including the
// refused ones) and the writer's transactions (store/entity_store.h).
#pragma once

#include <array>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <string>

#include "store/entity_store.h"

namespace gpsrelay::events {

enum class EventResultLabel { kApplied, kDuplicate, kInvalid, kUnavailable, kFailed };
inline constexpr std::array<const char*, 5> kEventResultNames = {"applied", "duplicate", "invalid",
                                                                 "unavailable", "failed"};

// The label of a store outcome.
EventResultLabel label_of(store::EventOutcome outcome);

class EventMetrics {
 public:
  void count(EventResultLabel result, std::uint64_t events = 1) {
    results_[static_cast<std::size_t>(result)].fetch_add(events, std::memory_order_relaxed);
  }
  store::EntityStoreMetrics& store() { return store_; }

  void render(std::string& out) const;

 private:
  std::array<std::atomic<std::uint64_t>, kEventResultNames.size()> results_{};
  store::EntityStoreMetrics store_;
};

}  // namespace gpsrelay::events
