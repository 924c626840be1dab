// Where gpsrelayctl finds the running daemon's /health: derived from the
// daemon's own http.listen. Pure, so the address rules are unit-tested.
#pragma once

#include <string>

#include "core/config.h"

namespace gpsrelay::ctl {

// http://HOST:PORT/health for a listen address. A wildcard address (0.0.0.0,
// or :: for IPv6) means "every interface", which includes the loopback of
// its family, so that is where a local tool connects.
std::string health_url(const core::Endpoint& listen);

}  // namespace gpsrelay::ctl
