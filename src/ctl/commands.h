// The gpsrelayctl commands. Each prints a table (or JSON with --json) to
// `out` and returns the exit code; Unavailable (redis_session.h), NotFound
// and Conflict propagate to main, which turns them into a message and a code.
#pragma once

#include <cstdint>
#include <ostream>
#include <stdexcept>

#include "core/config.h"
#include "ctl/command_line.h"

namespace gpsrelay::ctl {

class NotFound : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// What was asked contradicts the state (a topic exists; a delete would drop
// pending messages): exit kExitConflict.
class Conflict : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

struct CommandContext {
  const core::Config& config;
  const Invocation& invocation;
  std::ostream& out;
  std::int64_t now_ms;  // Unix ms, for TIME arguments
};

int run_status(const CommandContext& context);
int run_failed_list(const CommandContext& context);
int run_failed_show(const CommandContext& context);
int run_failed_replay(const CommandContext& context);
int run_failed_purge(const CommandContext& context);
int run_location(const CommandContext& context);
int run_route(const CommandContext& context);
int run_topics_list(const CommandContext& context);
int run_topics_create(const CommandContext& context);
int run_topics_delete(const CommandContext& context);
int run_topics_lag(const CommandContext& context);
int run_dlq_list(const CommandContext& context);
int run_dlq_replay(const CommandContext& context);

}  // namespace gpsrelay::ctl
