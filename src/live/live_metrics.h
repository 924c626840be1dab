// Counters of the live updates (WebSocket/SSE subscribers), written by the
// hub's and the workers' threads, read by /metrics and /health.
#pragma once

#include <atomic>
#include <cstdint>

#include "core/metrics.h"

namespace gpsrelay::live {

struct LiveMetrics {
  std::atomic<bool> pubsub_up{false};
  std::atomic<std::int64_t> sse_clients{0};
  std::atomic<std::int64_t> websocket_clients{0};
  std::atomic<std::uint64_t> handshakes_refused{0};  // WebSocket handshakes answered 4xx
  std::atomic<std::uint64_t> messages_received{0};   // from Redis
  std::atomic<std::uint64_t> messages_pushed{0};     // frames written to clients
  std::atomic<std::uint64_t> slow_clients_dropped{0};
  std::atomic<std::uint64_t> clients_refused{0};  // over live_max_clients
  // From the report's XADD to its frame written to a client's socket buffer.
  core::LatencyHistogram fanout_latency;
};

}  // namespace gpsrelay::live
