// Bodies of the operator endpoints /health and /ready, built from a
// snapshot of the daemon's state. Pure: no HTTP types, so the JSON shape is
// unit-tested directly.
#pragma once

#include <string>
#include <vector>

namespace gpsrelay::http {

struct HealthSnapshot {
  bool redis_up = false;
  std::string redis_address;
  // Why Redis refuses appends ("oom", "readonly", "misconf", "other") while
  // it does; empty when writes are accepted.
  std::string redis_write_refusal;
  long long queue_length = -1;  // -1 = unknown
  bool serving = false;         // READY was reached and we are not stopping
  bool forwarding_configured = false;
  // The failure store is used whenever forwarding is configured.
  bool mysql_up = false;
  std::string mysql_address;
  struct Target {
    std::string url;
    std::string state;       // up, down, breaker_open, breaker_half_open
    std::string last_error;  // of the latest failed attempt; empty if none
  };
  std::vector<Target> targets;
  // The forwarding consumer group as Redis last reported it; -1 = unknown.
  std::string forward_group;
  long long forward_pending = -1;
  long long forward_lag = -1;
  // Each enabled module's own object (daemon/module.h), under its name.
  struct Module {
    std::string name;
    std::string json;  // a JSON object
    bool healthy = true;
  };
  std::vector<Module> modules;
};

struct StatusPage {
  int status_code;
  std::string json;
};

// 200 when every dependency in use answers (Redis, accepting writes; MySQL
// when forwarding is configured) and every module is healthy, else 503. Targets are listed with
// their state but do not change the status code: an upstream outage is what the queue is for.
StatusPage render_health(const HealthSnapshot& snapshot);
// 200 while the daemon accepts reports (started, not stopping, Redis up).
StatusPage render_ready(const HealthSnapshot& snapshot);

}  // namespace gpsrelay::http
