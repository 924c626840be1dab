// The enabled consumer groups of the report stream (see stream_groups.h).
#include "queue/stream_groups.h"

namespace gpsrelay::queue {

std::vector<std::string> enabled_groups(const core::Config& config) {
  std::vector<std::string> groups = {config.redis.group};
  if (config.locations.enabled && config.locations.group != config.redis.group) {
    groups.push_back(config.locations.group);
  }
  return groups;
}

}  // namespace gpsrelay::queue
