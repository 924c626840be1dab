// The running daemon's own view (GET /health on http.listen), which is
// where live target states live: they are not stored anywhere else.
#pragma once

#include <optional>
#include <string>

#include "core/config.h"

namespace gpsrelay::ctl {

// http://HOST:PORT/health for a listen address (a wildcard address becomes
// the loopback of its family).
std::string health_url(const core::Endpoint& listen);

// The /health body (any status: 503 still carries the JSON), or nullopt
// when the daemon does not answer within 2 s.
std::optional<std::string> fetch_health(const std::string& url);

}  // namespace gpsrelay::ctl
