// The modules gpsrelayd knows, and which of them a configuration enables.
// The one place that names them; everything else sees daemon::Module.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "auth/token_store.h"
#include "core/config.h"
#include "core/metrics.h"
#include "core/shared_slot.h"
#include "daemon/module.h"
#include "queue/lease.h"

namespace gpsrelay::daemon {

// Report ingest always, forwarding when forward.targets is set, locations
// when [locations] enabled, entity events when [events] enabled, topics
// when [topics] enabled, and the gRPC server (serving the services of the
// last two) when [grpc] listen is set too; in that order (the order of their
// routes and of their parts of /health). `consumer_name`: this instance's
// stable name in consumer groups. `tokens`/`read_tokens`: the daemon's
// token stores (nullptr when not configured) for front ends that check
// tokens themselves (gRPC). `leases`: where modules with once-per-fleet
// jobs get their leases (queue/lease.h).
std::vector<std::unique_ptr<Module>> make_modules(
    const core::Config& config, const std::string& consumer_name, core::MetricsRegistry& metrics,
    const core::SharedSlot<const auth::TokenStore>* tokens,
    const core::SharedSlot<const auth::TokenStore>* read_tokens, queue::LeaseKeeper& leases);

}  // namespace gpsrelay::daemon
