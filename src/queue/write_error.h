// WriteError: why Redis refused a write, from its error reply. Pure, so the
// classification is unit-tested; the queue counts refusals by kind and
// /health names the kind.
#pragma once

#include <array>
#include <cstdint>
#include <string_view>

namespace gpsrelay::queue {

enum class WriteError {
  kOutOfMemory,  // -OOM: maxmemory reached with a no-eviction policy
  kReadOnly,     // -READONLY: we are talking to a replica (a failover happened)
  kMisconf,      // -MISCONF: Redis refuses writes after a failed RDB save
  kOther,        // any other error reply to an append
};

inline constexpr std::size_t kWriteErrorKinds = 4;
using WriteErrorCounts = std::array<std::uint64_t, kWriteErrorKinds>;

WriteError classify_write_error(std::string_view error_reply);

// Their label values and /health text are core::kRedisWriteErrorNames, in
// this order (checked in write_error.cc).

}  // namespace gpsrelay::queue
