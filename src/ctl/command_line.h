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
  kFailedPurge
};

struct Invocation {
  Command command = Command::kHelp;
  std::string config_path = "/etc/gpsrelay/gpsrelay.conf";
  bool json = false;
  // failed list: --since, --limit; failed replay: one of --id, --since, --all.
  std::optional<std::string> since;  // unparsed TIME (see time_spec.h)
  std::uint64_t limit = 50;
  std::optional<std::string> id;  // failed show / replay --id: row id or message id
  bool all = false;
  std::chrono::milliseconds older_than{0};  // failed purge
};

// Parses argv[1..]. Options may come before or after the command words.
// Throws UsageError.
Invocation parse_command_line(const std::vector<std::string>& args);

// True for a packet ID as `failed show` and `replay --id` take it: a row id
// (digits) or a message id ("<ms>-<seq>", digits on both sides).
bool is_packet_id(std::string_view text);

// What --since accepts, for error messages.
inline constexpr const char* kTimeForms =
    "a duration meaning that long ago (30s, 10m, 2h, 7d) or a UTC time (YYYY-MM-DD, "
    "YYYY-MM-DDTHH:MM[:SS][Z], \"YYYY-MM-DD HH:MM[:SS]\")";

// The --help text (options, commands, TIME forms, exit codes).
const char* usage_text();

// Exit codes.
inline constexpr int kExitOk = 0;
inline constexpr int kExitUsage = 1;        // usage or configuration error
inline constexpr int kExitUnavailable = 2;  // Redis or MySQL unreachable, or refused
inline constexpr int kExitNotFound = 3;     // failed show/replay --id of an unknown packet

}  // namespace gpsrelay::ctl
