// Counters of the location service, written by its consumer thread (and
// the history store's), read by /metrics scrapes and /health.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <string_view>

#include "core/metrics.h"

namespace gpsrelay::locations {

// Where a stream entry came from: the device endpoint that normalised it
// (the entry's "source" field), or a raw /api/gps/reports body.
enum class Source : std::uint8_t { kDriver, kOsmand, kOwnTracks, kRaw };
inline constexpr std::array<std::string_view, 4> kSourceNames = {"driver", "osmand", "owntracks",
                                                                 "raw"};
Source source_from_field(std::string_view field);

struct LocationMetrics {
  using BySource = std::array<std::atomic<std::uint64_t>, kSourceNames.size()>;
  BySource processed{};      // records that became the driver's current location
  BySource stale{};          // records older than the current one: history only
  BySource duplicates{};     // the current one again (a redelivered entry)
  BySource unparsable{};     // entries whose location was malformed
  BySource not_locations{};  // raw reports without a location
  // From the entry's XADD to its state update committed in Redis.
  core::LatencyHistogram processing_lag;
  std::atomic<std::uint64_t> state_errors{0};      // state updates Redis refused
  std::atomic<std::uint64_t> history_deferred{0};  // entries left pending: history backlog full
  std::atomic<std::int64_t> drivers_active{-1};    // with a current location; -1 = not known yet
  std::atomic<std::int64_t> group_pending{-1};
  std::atomic<std::int64_t> group_lag{-1};
  std::atomic<std::uint64_t> reclaimed{0};
  std::atomic<bool> redis_up{false};
  core::HistoryMetrics history;
};

}  // namespace gpsrelay::locations
