// What Redis Sentinel says, parsed: the primary's address in a reply to
// SENTINEL get-master-addr-by-name, and the +switch-master announcement.
// Pure functions over text, so they are unit-tested and fuzzed without a
// sentinel; the I/O is in sentinel_watcher.h and sentinel_query.h.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "core/config.h"

namespace gpsrelay::queue {

// A sentinel's host and port strings as an endpoint; nullopt when either is
// not something we would connect to (empty, spaces or control bytes in the
// host, a port outside 1..65535).
std::optional<core::Endpoint> sentinel_endpoint(std::string_view host, std::string_view port);

// SENTINEL MASTER <name> answers a flat list of field names and values. The
// config epoch orders the sentinels' opinions: after a failover the
// sentinels that took part have a higher epoch than one that has not heard
// of it yet, so the highest epoch seen names the real primary.
struct MasterInfo {
  core::Endpoint address;
  std::uint64_t config_epoch = 0;
  // False while the sentinel thinks the primary is down or fails it over
  // (flags s_down, o_down, failover_in_progress): the leader of a failover
  // already has the new epoch but still names the old, dead address until
  // the switch, so such an answer must not be followed.
  bool settled = true;
};
// nullopt when ip, port or config-epoch is missing or malformed.
std::optional<MasterInfo> parse_master_info(std::span<const std::string_view> fields);

// "+switch-master" carries "<master name> <old ip> <old port> <new ip> <new port>".
struct SwitchMaster {
  std::string master_name;
  core::Endpoint from;
  core::Endpoint to;
};
std::optional<SwitchMaster> parse_switch_master(std::string_view payload);

}  // namespace gpsrelay::queue
