// The running daemon's own view (GET /health on http.listen), which is
// where live target states live: they are not stored anywhere else.
#pragma once

#include <optional>
#include <string>

namespace gpsrelay::ctl {

// The /health body (any status: 503 still carries the JSON), or nullopt
// when the daemon does not answer within 2 s.
std::optional<std::string> fetch_health(const std::string& url);

}  // namespace gpsrelay::ctl
