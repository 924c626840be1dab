// The gpsrelayctl command line: what the operator asked for, parsed and
// checked without touching Redis or MySQL, so every usage error is found
// (and unit-tested) before any connection is made.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace gpsrelay::ctl {

// A usage error: the message says what is wrong; the caller adds the usage.
class UsageError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

enum class Command {
  kHelp,
  kVersion,
  kStatus,
  kFailedList,
  kFailedShow,
  kFailedReplay,
  kFailedPurge,
  kLocation,
  kRoute,
  kTopicsList,
  kTopicsCreate,
  kTopicsDelete,
  kTopicsLag,
  kDlqList,
  kDlqReplay
};

struct Invocation {
  Command command = Command::kHelp;
  std::string config_path = "/etc/gpsrelay/gpsrelay.conf";
  bool json = false;
  // failed list: --since, --limit; failed replay: one of --id, --since, --all;
  // route: --since, --until, --limit; dlq list: --limit; dlq replay: --id or
  // --all (neither: all).
  std::optional<std::string> since;  // unparsed TIME (see time_spec.h)
  std::optional<std::string> until;  // route only; unparsed TIME
  std::uint64_t limit = 50;          // kRouteLimit for route when --limit is not given
  // failed show / replay --id: row id or message id; dlq replay --id: message id
  std::optional<std::string> id;
  bool all = false;
  std::chrono::milliseconds older_than{0};  // failed purge
  std::string driver_id;                    // location, route: a valid locations id
  // topics create/delete: the topic; dlq list/replay: the topic whose
  // dead letters (<topic>.dlq) are meant. Always a valid topic name.
  std::string topic;
  unsigned partitions = 1;                             // topics create --partitions
  std::optional<std::chrono::milliseconds> retention;  // topics create; none: topics.retention
  bool force = false;                                  // topics delete --force
};

// route's defaults: the hour before --until (itself default now), at most
// this many points, the earliest first (as GET .../route answers).
inline constexpr std::uint64_t kRouteLimit = 1000;
inline constexpr std::chrono::milliseconds kRouteSpan = std::chrono::hours(1);

// Parses argv[1..]. Options may come before or after the command words.
// Throws UsageError.
Invocation parse_command_line(const std::vector<std::string>& args);

// The time range of a route, in Unix milliseconds, both ends inclusive:
// --until or `now_ms`, --since or kRouteSpan before the end. Throws
// UsageError when a TIME does not parse or the end is before the start.
struct RouteWindow {
  std::int64_t since_ms = 0;
  std::int64_t until_ms = 0;
};
RouteWindow route_window(const Invocation& invocation, std::int64_t now_ms);

// True for a packet ID as `failed show` and `replay --id` take it: a row id
// (digits) or a message id ("<ms>-<seq>", digits on both sides).
bool is_packet_id(std::string_view text);

// What --since and --until accept, for error messages.
inline constexpr const char* kTimeForms =
    "a duration meaning that long ago (30s, 10m, 2h, 7d) or a UTC time (YYYY-MM-DD, "
    "YYYY-MM-DDTHH:MM[:SS][Z], \"YYYY-MM-DD HH:MM[:SS]\")";

// The --help text (options, commands, TIME forms, exit codes).
const char* usage_text();

// Exit codes.
inline constexpr int kExitOk = 0;
inline constexpr int kExitUsage = 1;        // usage or configuration error
inline constexpr int kExitUnavailable = 2;  // Redis or MySQL unreachable, or refused
// failed show/replay --id of an unknown packet; location of a driver
// without a current one; an unknown topic or dlq replay --id.
inline constexpr int kExitNotFound = 3;
// topics create of a name that is taken; topics delete while a consumer
// group has pending messages (without --force).
inline constexpr int kExitConflict = 4;

}  // namespace gpsrelay::ctl
