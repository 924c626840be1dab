// gpsrelayctl: parses the command line, loads the daemon's configuration,
// runs one command and maps what went wrong to an exit code and one line
// on stderr (see command_line.h for the codes).
#include <curl/curl.h>

#include <chrono>
#include <cstdio>
#include <exception>
#include <iostream>
#include <string>
#include <vector>

#include "core/config.h"
#include "ctl/command_line.h"
#include "ctl/commands.h"
#include "ctl/redis_session.h"

namespace {

using namespace gpsrelay::ctl;

int run(const Invocation& invocation, const gpsrelay::core::Config& config) {
  const std::int64_t now_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                                  std::chrono::system_clock::now().time_since_epoch())
                                  .count();
  const CommandContext context{config, invocation, std::cout, now_ms};
  switch (invocation.command) {
    case Command::kStatus:
      return run_status(context);
    case Command::kFailedList:
      return run_failed_list(context);
    case Command::kFailedShow:
      return run_failed_show(context);
    case Command::kFailedReplay:
      return run_failed_replay(context);
    case Command::kFailedPurge:
      return run_failed_purge(context);
    case Command::kLocation:
      return run_location(context);
    case Command::kRoute:
      return run_route(context);
    case Command::kTopicsList:
      return run_topics_list(context);
    case Command::kTopicsCreate:
      return run_topics_create(context);
    case Command::kTopicsDelete:
      return run_topics_delete(context);
    case Command::kTopicsLag:
      return run_topics_lag(context);
    case Command::kDlqList:
      return run_dlq_list(context);
    case Command::kDlqReplay:
      return run_dlq_replay(context);
    case Command::kHelp:
    case Command::kVersion:
      break;
  }
  return kExitOk;
}

}  // namespace

int main(int argc, char** argv) {
  Invocation invocation;
  try {
    invocation = parse_command_line(std::vector<std::string>(argv + 1, argv + argc));
  } catch (const UsageError& e) {
    std::fprintf(stderr, "gpsrelayctl: %s\n\n%s", e.what(), usage_text());
    return kExitUsage;
  }
  if (invocation.command == Command::kHelp) {
    std::fputs(usage_text(), stdout);
    return kExitOk;
  }
  if (invocation.command == Command::kVersion) {
    std::printf("gpsrelayctl %s\n", GPSRELAY_VERSION);
    return kExitOk;
  }

  gpsrelay::core::Config config;
  try {
    config =
        gpsrelay::core::load_config(invocation.config_path, gpsrelay::core::process_environment());
  } catch (const gpsrelay::core::ConfigError& e) {
    std::fprintf(stderr, "%s\n", e.what());
    return kExitUsage;
  }
  curl_global_init(CURL_GLOBAL_DEFAULT);
  try {
    const int code = run(invocation, config);
    std::cout.flush();
    return code;
  } catch (const UsageError& e) {
    std::fprintf(stderr, "gpsrelayctl: %s\n", e.what());
    return kExitUsage;
  } catch (const Unavailable& e) {
    std::fprintf(stderr, "gpsrelayctl: %s\n", e.what());
    return kExitUnavailable;
  } catch (const NotFound& e) {
    std::fprintf(stderr, "gpsrelayctl: %s\n", e.what());
    return kExitNotFound;
  } catch (const Conflict& e) {
    std::fprintf(stderr, "gpsrelayctl: %s\n", e.what());
    return kExitConflict;
  } catch (const std::exception& e) {
    // A reply we did not expect (say, from a future Redis): report it as a
    // runtime failure rather than abort.
    std::fprintf(stderr, "gpsrelayctl: unexpected error: %s\n", e.what());
    return kExitUnavailable;
  }
}
