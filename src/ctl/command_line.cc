// parse_command_line and the usage text (see command_line.h).
#include "ctl/command_line.h"

#include <algorithm>
#include <charconv>

#include "core/units.h"
#include "ctl/time_spec.h"
#include "locations/location_record.h"
#include "topics/topic_requests.h"

namespace gpsrelay::ctl {
namespace {

std::uint64_t parse_limit(const std::string& text) {
  std::uint64_t value = 0;
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (error != std::errc() || end != text.data() + text.size() || value == 0) {
    throw UsageError("--limit takes a positive number, not '" + text + "'");
  }
  return value;
}

unsigned parse_partitions(const std::string& text) {
  unsigned value = 0;
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (error != std::errc() || end != text.data() + text.size() || value < 1 ||
      value > topics::kMaxPartitions) {
    throw UsageError("--partitions takes a number from 1 to " +
                     std::to_string(topics::kMaxPartitions) + ", not '" + text + "'");
  }
  return value;
}

// As POST /v1/topics takes "retention": above 0, at most kMaxRetention.
std::chrono::milliseconds parse_retention(const std::string& text) {
  const auto duration = core::parse_duration(text);
  if (!duration || duration->count() <= 0 || *duration > topics::kMaxRetention) {
    throw UsageError("--retention takes a duration above 0 such as 12h or 7d, at most " +
                     core::format_duration(topics::kMaxRetention) + ", not '" + text + "'");
  }
  return *duration;
}

// The TOPIC word of `command`: a name the daemon accepts, which also keeps
// it from reaching into other Redis keys.
std::string topic_word(const std::vector<std::string>& words, const std::string& command) {
  if (words.size() < 3) throw UsageError("'" + command + "' needs a TOPIC");
  if (!topics::is_valid_name(words[2])) {
    throw UsageError("TOPIC is 1 to " + std::to_string(topics::kMaxTopicName) +
                     " of A-Z a-z 0-9 . _ - (not . or ..), not '" + words[2] + "'");
  }
  return words[2];
}

bool all_digits(std::string_view text) {
  return !text.empty() &&
         std::all_of(text.begin(), text.end(), [](char c) { return c >= '0' && c <= '9'; });
}

}  // namespace

bool is_packet_id(std::string_view text) {
  const std::size_t dash = text.find('-');
  if (dash == std::string_view::npos) return all_digits(text);
  return all_digits(text.substr(0, dash)) && all_digits(text.substr(dash + 1));
}

Invocation parse_command_line(const std::vector<std::string>& args) {
  Invocation out;
  std::vector<std::string> words;
  std::optional<std::string> older_than;
  std::optional<std::uint64_t> limit;
  std::optional<std::string> partitions;
  std::optional<std::string> retention;
  for (std::size_t i = 0; i < args.size(); ++i) {
    const std::string& arg = args[i];
    // Options with a value accept "--opt value" and "--opt=value".
    const auto value = [&](const std::string& name) -> std::string {
      if (arg.size() > name.size() && arg.compare(0, name.size() + 1, name + "=") == 0) {
        return arg.substr(name.size() + 1);
      }
      if (i + 1 >= args.size()) throw UsageError(name + " needs a value");
      return args[++i];
    };
    const auto is = [&](const std::string& name) {
      return arg == name || arg.rfind(name + "=", 0) == 0;
    };
    // --help and --version answer at once, whatever else is on the line.
    if (arg == "-h" || arg == "--help") {
      out.command = Command::kHelp;
      return out;
    }
    if (arg == "--version") {
      out.command = Command::kVersion;
      return out;
    }
    if (arg == "--json") {
      out.json = true;
    } else if (arg == "--all") {
      out.all = true;
    } else if (arg == "--force") {
      out.force = true;
    } else if (arg == "-c" || is("--config")) {
      out.config_path = arg == "-c" ? value("-c") : value("--config");
    } else if (is("--since")) {
      out.since = value("--since");
    } else if (is("--until")) {
      out.until = value("--until");
    } else if (is("--limit")) {
      limit = parse_limit(value("--limit"));
    } else if (is("--id")) {
      out.id = value("--id");
    } else if (is("--older-than")) {
      older_than = value("--older-than");
    } else if (is("--partitions")) {
      partitions = value("--partitions");
    } else if (is("--retention")) {
      retention = value("--retention");
    } else if (!arg.empty() && arg[0] == '-') {
      throw UsageError("unknown option '" + arg + "'");
    } else {
      words.push_back(arg);
    }
  }

  if (words.empty()) throw UsageError("no command given");
  const auto expect_words = [&](std::size_t n) {
    if (words.size() > n) throw UsageError("unexpected argument '" + words[n] + "'");
  };
  if (words[0] == "status") {
    expect_words(1);
    out.command = Command::kStatus;
  } else if (words[0] == "failed") {
    if (words.size() < 2) throw UsageError("'failed' needs one of: list, show, replay, purge");
    const std::string& sub = words[1];
    if (sub == "list") {
      expect_words(2);
      out.command = Command::kFailedList;
    } else if (sub == "show") {
      if (out.id) throw UsageError("--id applies to failed replay and dlq replay");
      if (words.size() < 3) throw UsageError("'failed show' needs an ID");
      expect_words(3);
      out.command = Command::kFailedShow;
      out.id = words[2];
    } else if (sub == "replay") {
      expect_words(2);
      out.command = Command::kFailedReplay;
      const int selectors = (out.id ? 1 : 0) + (out.since ? 1 : 0) + (out.all ? 1 : 0);
      if (selectors != 1) {
        throw UsageError("'failed replay' needs exactly one of --id ID, --since TIME, --all");
      }
    } else if (sub == "purge") {
      expect_words(2);
      out.command = Command::kFailedPurge;
      if (!older_than) throw UsageError("'failed purge' needs --older-than DURATION");
      const auto duration = core::parse_duration(*older_than);
      if (!duration) {
        throw UsageError("--older-than takes a duration such as 12h or 30d, not '" + *older_than +
                         "'");
      }
      out.older_than = *duration;
    } else {
      throw UsageError("unknown command 'failed " + sub + "'");
    }
  } else if (words[0] == "location" || words[0] == "route") {
    if (words.size() < 2) throw UsageError("'" + words[0] + "' needs a DRIVER_ID");
    expect_words(2);
    out.command = words[0] == "location" ? Command::kLocation : Command::kRoute;
    out.driver_id = words[1];
    // The daemon accepts no other ids, so no other id can have a location;
    // checking here also keeps the id safe in a Redis key.
    if (!locations::is_valid_id(out.driver_id)) {
      throw UsageError("DRIVER_ID is 1 to 128 of A-Z a-z 0-9 - . _ ~, not '" + out.driver_id + "'");
    }
  } else if (words[0] == "topics") {
    if (words.size() < 2) throw UsageError("'topics' needs one of: list, create, delete, lag");
    const std::string& sub = words[1];
    if (sub == "list" || sub == "lag") {
      expect_words(2);
      out.command = sub == "list" ? Command::kTopicsList : Command::kTopicsLag;
    } else if (sub == "create" || sub == "delete") {
      out.topic = topic_word(words, "topics " + sub);
      expect_words(3);
      out.command = sub == "create" ? Command::kTopicsCreate : Command::kTopicsDelete;
    } else {
      throw UsageError("unknown command 'topics " + sub + "'");
    }
  } else if (words[0] == "dlq") {
    if (words.size() < 2) throw UsageError("'dlq' needs one of: list, replay");
    const std::string& sub = words[1];
    if (sub != "list" && sub != "replay") throw UsageError("unknown command 'dlq " + sub + "'");
    out.topic = topic_word(words, "dlq " + sub);
    expect_words(3);
    out.command = sub == "list" ? Command::kDlqList : Command::kDlqReplay;
    if (out.command == Command::kDlqReplay && out.id && out.all) {
      throw UsageError("'dlq replay' takes --id ID or --all, not both");
    }
  } else {
    throw UsageError("unknown command '" + words[0] + "'");
  }
  // Arguments are checked here, before any connection, so a typo is a
  // usage error even when Redis or MySQL is down.
  const bool replays_dlq = out.command == Command::kDlqReplay;
  if (out.id && replays_dlq && !topics::is_valid_stream_id(*out.id)) {
    throw UsageError("ID must be a message id (<ms>-<seq>), not '" + *out.id + "'");
  }
  if (out.id && !replays_dlq && !is_packet_id(*out.id)) {
    throw UsageError("ID must be a row id (digits) or a message id (<ms>-<seq>), not '" + *out.id +
                     "'");
  }
  if (out.since && !parse_time_spec(*out.since, 0)) {
    throw UsageError("--since takes " + std::string(kTimeForms) + ", not '" + *out.since + "'");
  }
  if (out.until && !parse_time_spec(*out.until, 0)) {
    throw UsageError("--until takes " + std::string(kTimeForms) + ", not '" + *out.until + "'");
  }
  // Options that the chosen command would silently ignore are mistakes.
  const bool lists = out.command == Command::kFailedList;
  const bool replays = out.command == Command::kFailedReplay;
  const bool routes = out.command == Command::kRoute;
  if (out.since && !lists && !replays && !routes) {
    throw UsageError("--since applies to failed list/replay and route");
  }
  if (out.until && !routes) throw UsageError("--until applies to route");
  const bool lists_dlq = out.command == Command::kDlqList;
  const bool creates = out.command == Command::kTopicsCreate;
  if (limit && !lists && !routes && !lists_dlq) {
    throw UsageError("--limit applies to failed list, route and dlq list");
  }
  if (routes) out.limit = kRouteLimit;
  if (limit) out.limit = *limit;
  if (out.all && !replays && !replays_dlq) {
    throw UsageError("--all applies to failed replay and dlq replay");
  }
  if (out.id && out.command != Command::kFailedShow && !replays && !replays_dlq) {
    throw UsageError("--id applies to failed replay and dlq replay");
  }
  if (older_than && out.command != Command::kFailedPurge) {
    throw UsageError("--older-than applies to failed purge");
  }
  if (partitions && !creates) throw UsageError("--partitions applies to topics create");
  if (partitions) out.partitions = parse_partitions(*partitions);
  if (retention && !creates) throw UsageError("--retention applies to topics create");
  if (retention) out.retention = parse_retention(*retention);
  if (out.force && out.command != Command::kTopicsDelete) {
    throw UsageError("--force applies to topics delete");
  }
  return out;
}

RouteWindow route_window(const Invocation& invocation, std::int64_t now_ms) {
  const auto time_of = [&](const char* option, const std::string& text) {
    const auto ms = parse_time_spec(text, now_ms);
    if (!ms) {
      throw UsageError(std::string(option) + " takes " + kTimeForms + ", not '" + text + "'");
    }
    return *ms;
  };
  RouteWindow window;
  window.until_ms = invocation.until ? time_of("--until", *invocation.until) : now_ms;
  window.since_ms = invocation.since ? time_of("--since", *invocation.since)
                                     : window.until_ms - kRouteSpan.count();
  if (window.until_ms < window.since_ms) {
    throw UsageError("--until (" + format_utc(window.until_ms) + " UTC) is before --since (" +
                     format_utc(window.since_ms) + " UTC)");
  }
  return window;
}

const char* usage_text() {
  return R"(Usage: gpsrelayctl [-c PATH] [--json] COMMAND [ARGUMENTS]

Inspect gpsrelay's queue, manage packets that could not be delivered, look
up driver locations and manage topics and their dead letters. Reads the daemon's configuration file, with the
same GPSRELAY_<SECTION>_<KEY> environment overrides, to find Redis, MySQL
and the daemon itself. Options may be given before or after the command.

Commands:
  status
      The queue (stream length = undelivered backlog; the group's pending
      count, lag and last delivered id; each consumer's pending count and idle
      time), every consumer group of the stream (consumers, pending, lag, last
      delivered id, and whether this configuration enables it: redis.group,
      and locations.group with [locations] enabled), the configured targets
      with their live state as the running daemon reports it on
      http.listen's /health (state "unknown" when the daemon does not answer
      within 2 s, which is not an error), and the number of failed packets
      with the oldest one's time. With [locations] enabled also the location
      service: drivers with a current location, and the history writer's
      state and backlog as the daemon reports them.
  failed list [--since TIME] [--limit N]
      Failed packets, newest first: ID, MESSAGE_ID, CREATED_AT (UTC),
      RETRIES, TARGET, LAST_ERROR (cut to fit; complete with --json).
      --limit defaults to 50.
  failed show ID
      Every column of one failed packet, and its payload: as is when it is
      printable UTF-8, else with \xNN escapes. ID is the row id (digits) or
      the message id (<ms>-<seq>).
  failed replay (--id ID | --since TIME | --all)
      Puts failed packets back on the queue as new stream entries with the
      same payload bytes, received_at and request_id, plus replayed_from (the
      old message id); the daemon then delivers them under the new id. A row
      is deleted only after Redis stored its entry. If gpsrelayctl is
      interrupted between the two, a packet is both queued and still listed,
      and a later replay sends it again: delivery is at-least-once, as
      everywhere in gpsrelay. Refuses (exit 2) to grow the queue beyond
      redis.max_queue_length.
  failed purge --older-than DURATION
      Deletes failed packets created more than DURATION ago.
  location DRIVER_ID
      The driver's current location from Redis, one field a line (with its
      age and when it expires); --json prints the location record as
      GET /api/v1/drivers/DRIVER_ID/location answers it. Exit 3 when the
      driver has none (never reported, or older than locations.ttl).
  route DRIVER_ID [--since TIME] [--until TIME] [--limit N]
      The driver's points from the MySQL history (driver_locations), the
      earliest first: TIME (UTC), LATITUDE, LONGITUDE, SPEED (km/h),
      HEADING, ORDER; --json gives an array of location records. --until
      defaults to now, --since to an hour before --until, --limit to 1000
      (the earliest N points of the range).
  topics list
      The topics of the [topics] module (under topics.prefix): NAME,
      PARTITIONS, RETENTION, LENGTH (entries over all partitions) and GROUPS
      (how many consumer groups read it); --json adds each group's lag and
      pending count.
  topics create TOPIC [--partitions N] [--retention DURATION]
      Creates a topic as POST /v1/topics does: 1 to 256 partitions (default
      1, fixed from then on), retention default topics.retention. TOPIC is 1
      to 200 of A-Z a-z 0-9 . _ -. Exit 4 when the name is taken.
  topics delete TOPIC [--force]
      Deletes a topic and its messages as DELETE /v1/topics/TOPIC does.
      Refuses (exit 4) while a consumer group has pending messages
      (delivered, not acknowledged) on it; --force deletes them too.
  topics lag
      Per consumer group, topic and partition: LAG (messages the group has
      not received yet), PENDING (received, not acknowledged) and CONSUMERS
      (the group's live consumers, whose sessions have not expired).
  dlq list TOPIC [--limit N]
      The dead letters of TOPIC, oldest first: what its dead-letter topic
      TOPIC.dlq holds after max_retries deliveries without an ack. ID,
      ORIGINAL ID, DELIVERIES, REASON, LAST CONSUMER, PUBLISHED (UTC), KEY,
      VALUE (cut to fit; complete with --json). --limit defaults to 50.
  dlq replay TOPIC [--id ID | --all]
      Publishes dead letters back to TOPIC (every one, or the one whose id
      in TOPIC.dlq is ID) with their key, value and headers, less the x-
      headers the move added; a key's message goes to the key's partition,
      as on publish. A dead letter is deleted only after TOPIC stored it
      again: if gpsrelayctl is interrupted between the two, a later replay
      publishes it again (at-least-once). Exit 3 when TOPIC does not exist.

Options:
  -c, --config PATH   configuration file (default /etc/gpsrelay/gpsrelay.conf)
      --json          machine-readable JSON output instead of tables
  -h, --help          print this text and exit
      --version       print the version and exit

TIME is a duration meaning "that long ago" (30s, 10m, 2h, 7d) or a UTC time:
YYYY-MM-DD, YYYY-MM-DDTHH:MM[:SS][Z] or "YYYY-MM-DD HH:MM[:SS]".
DURATION takes the units of the configuration file: ms, s, m, h, d.

Exit status:
  0  success
  1  usage error, or an invalid configuration (reported as FILE:LINE: message)
  2  Redis or MySQL unreachable or failing, or a replay refused because the
     queue is full; status still prints what it could reach
  3  no such failed packet (failed show, failed replay --id), no current
     location of the driver (location), no such topic, or no such dead letter
     (dlq replay --id)
  4  topics create: the name is taken; topics delete: a consumer group has
     pending messages (without --force)
)";
}

}  // namespace gpsrelay::ctl
