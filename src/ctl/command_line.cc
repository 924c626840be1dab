// parse_command_line and the usage text (see command_line.h).
#include "ctl/command_line.h"

#include <charconv>

#include "core/units.h"

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

}  // namespace

Invocation parse_command_line(const std::vector<std::string>& args) {
  Invocation out;
  std::vector<std::string> words;
  std::optional<std::string> older_than;
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
    if (arg == "-h" || arg == "--help") {
      out.command = Command::kHelp;
      return out;
    } else if (arg == "--version") {
      out.command = Command::kVersion;
      return out;
    } else if (arg == "--json") {
      out.json = true;
    } else if (arg == "--all") {
      out.all = true;
    } else if (arg == "-c" || is("--config")) {
      out.config_path = arg == "-c" ? value("-c") : value("--config");
    } else if (is("--since")) {
      out.since = value("--since");
    } else if (is("--limit")) {
      out.limit = parse_limit(value("--limit"));
    } else if (is("--id")) {
      out.id = value("--id");
    } else if (is("--older-than")) {
      older_than = value("--older-than");
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
  } else {
    throw UsageError("unknown command '" + words[0] + "'");
  }
  // Options that the chosen command would silently ignore are mistakes.
  const bool lists = out.command == Command::kFailedList;
  const bool replays = out.command == Command::kFailedReplay;
  if (out.since && !lists && !replays) throw UsageError("--since applies to failed list/replay");
  if (out.all && !replays) throw UsageError("--all applies to failed replay");
  if (out.id && out.command != Command::kFailedShow && !replays) {
    throw UsageError("--id applies to failed replay");
  }
  if (older_than && out.command != Command::kFailedPurge) {
    throw UsageError("--older-than applies to failed purge");
  }
  return out;
}

const char* usage_text() {
  return R"(Usage: gpsrelayctl [-c PATH] [--json] COMMAND

Inspect gpsrelay's queue and manage packets that could not be delivered.
Reads the daemon's configuration file (and its GPSRELAY_<SECTION>_<KEY>
environment overrides) to find Redis, MySQL and the daemon.

Commands:
  status                          queue length, pending entries, consumers,
                                  targets with their live state, failed packets
  failed list [--since TIME] [--limit N]
                                  failed packets, newest first (default 50)
  failed show ID                  one failed packet with its payload; ID is the
                                  row id or the message id
  failed replay (--id ID | --since TIME | --all)
                                  put failed packets back on the queue; each row
                                  is deleted only after Redis stored the entry
                                  (if interrupted in between, a packet can be
                                  both queued and still listed: delivery is
                                  at-least-once anyway)
  failed purge --older-than DURATION
                                  delete failed packets older than DURATION

Options:
  -c, --config PATH   configuration file (default /etc/gpsrelay/gpsrelay.conf)
      --json          machine-readable output
  -h, --help          this text
      --version       print the version

TIME is a duration meaning "that long ago" (30s, 10m, 2h, 7d) or a UTC time:
YYYY-MM-DD, YYYY-MM-DDTHH:MM[:SS][Z] or "YYYY-MM-DD HH:MM[:SS]".

Exit status: 0 success, 1 usage or configuration error, 2 Redis or MySQL
unreachable (or the queue is full), 3 no such failed packet.
)";
}

}  // namespace gpsrelay::ctl
