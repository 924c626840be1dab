// Bodies of the operator endpoints /health and /ready, built from a
// snapshot of the daemon's state. Pure: no HTTP types, so the JSON shape is
// unit-tested directly.
#pragma once

#include <string>

namespace gpsrelay::http {

struct HealthSnapshot {
  bool redis_up = false;
  std::string redis_address;
  long long queue_length = -1;  // -1 = unknown
  bool serving = false;         // READY was reached and we are not stopping
};

struct StatusPage {
  int status_code;
  std::string json;
};

// 200 when every dependency in use answers, else 503. MySQL and targets are
// reported as "not_configured" until the forwarder uses them.
StatusPage render_health(const HealthSnapshot& snapshot);
// 200 while the daemon accepts reports (started, not stopping, Redis up).
StatusPage render_ready(const HealthSnapshot& snapshot);

}  // namespace gpsrelay::http
