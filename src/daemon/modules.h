// The modules gpsrelayd knows, and which of them a configuration enables.
// The one place that names them; everything else sees daemon::Module.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "core/config.h"
#include "core/metrics.h"
#include "daemon/module.h"

namespace gpsrelay::daemon {

// Report ingest always, forwarding when forward.targets is set, locations
// when [locations] enabled; in that order (the order of their routes and
// of their parts of /health). `consumer_name`: this instance's stable name
// in consumer groups.
std::vector<std::unique_ptr<Module>> make_modules(const core::Config& config,
                                                  const std::string& consumer_name,
                                                  core::MetricsRegistry& metrics);

}  // namespace gpsrelay::daemon
