// Asking the sentinels once, blocking: for gpsrelayctl and --check-config,
// which run outside any event loop and want one answer now. The daemon
// follows failovers with sentinel_watcher.h instead.
#pragma once

#include <chrono>
#include <stdexcept>
#include <string>

#include "core/config.h"

namespace gpsrelay::queue {

struct ResolvedPrimary {
  core::Endpoint address;
  core::Endpoint sentinel;  // the one that named it
};

class SentinelQueryError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// Asks every sentinel (SENTINEL MASTER) and takes the address of the
// newest configuration epoch whose server answers ROLE with "master". Throws
// SentinelQueryError saying what every sentinel answered when none works.
// REQUIRES: redis.sentinels is not empty.
ResolvedPrimary resolve_primary(const core::RedisConfig& redis,
                                std::chrono::milliseconds timeout = std::chrono::seconds(2));

// Where gpsrelayctl connects: the resolved primary with sentinels, else
// redis.address.
core::Endpoint primary_address(const core::RedisConfig& redis);

}  // namespace gpsrelay::queue
