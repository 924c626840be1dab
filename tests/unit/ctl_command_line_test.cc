// gpsrelayctl's command line: every command, option placement, and every
// usage error; and the route's time range.
#include <gtest/gtest.h>

#include "ctl/command_line.h"

namespace gpsrelay::ctl {
namespace {

Invocation parse(const std::vector<std::string>& args) { return parse_command_line(args); }

std::string error_of(const std::vector<std::string>& args) {
  try {
    parse_command_line(args);
  } catch (const UsageError& e) {
    return e.what();
  }
  return "no error";
}

TEST(CtlCommandLineTest, StatusWithConfigAndJsonInAnyOrder) {
  const Invocation a = parse({"-c", "/tmp/x.conf", "status", "--json"});
  EXPECT_EQ(a.command, Command::kStatus);
  EXPECT_EQ(a.config_path, "/tmp/x.conf");
  EXPECT_TRUE(a.json);
  const Invocation b = parse({"status", "--config=/tmp/y.conf"});
  EXPECT_EQ(b.config_path, "/tmp/y.conf");
  EXPECT_FALSE(b.json);
  EXPECT_EQ(parse({"status"}).config_path, "/etc/gpsrelay/gpsrelay.conf");
}

TEST(CtlCommandLineTest, FailedListDefaultsAndOptions) {
  const Invocation plain = parse({"failed", "list"});
  EXPECT_EQ(plain.command, Command::kFailedList);
  EXPECT_EQ(plain.limit, 50u);
  EXPECT_FALSE(plain.since.has_value());
  const Invocation opts = parse({"failed", "list", "--since", "2h", "--limit=7"});
  EXPECT_EQ(opts.since, "2h");
  EXPECT_EQ(opts.limit, 7u);
}

TEST(CtlCommandLineTest, FailedShowTakesAnId) {
  const Invocation show = parse({"failed", "show", "1700000000000-3"});
  EXPECT_EQ(show.command, Command::kFailedShow);
  EXPECT_EQ(show.id, "1700000000000-3");
  EXPECT_EQ(error_of({"failed", "show"}), "'failed show' needs an ID");
  EXPECT_EQ(error_of({"failed", "show", "1", "2"}), "unexpected argument '2'");
}

TEST(CtlCommandLineTest, FailedReplayNeedsExactlyOneSelector) {
  EXPECT_TRUE(parse({"failed", "replay", "--all"}).all);
  EXPECT_EQ(parse({"failed", "replay", "--id", "12"}).id, "12");
  EXPECT_EQ(parse({"failed", "replay", "--since", "2026-11-01"}).since, "2026-11-01");
  const std::string expected = "'failed replay' needs exactly one of --id ID, --since TIME, --all";
  EXPECT_EQ(error_of({"failed", "replay"}), expected);
  EXPECT_EQ(error_of({"failed", "replay", "--all", "--id", "3"}), expected);
  EXPECT_EQ(error_of({"failed", "replay", "--since", "1h", "--all"}), expected);
}

TEST(CtlCommandLineTest, FailedPurgeNeedsAValidDuration) {
  const Invocation purge = parse({"failed", "purge", "--older-than", "7d"});
  EXPECT_EQ(purge.command, Command::kFailedPurge);
  EXPECT_EQ(purge.older_than, std::chrono::hours(24 * 7));
  EXPECT_EQ(error_of({"failed", "purge"}), "'failed purge' needs --older-than DURATION");
  EXPECT_EQ(parse({"failed", "purge", "--older-than=90m"}).older_than, std::chrono::minutes(90));
  EXPECT_EQ(error_of({"failed", "purge", "--older-than", "1h30m"}),
            "--older-than takes a duration such as 12h or 30d, not '1h30m'");
  EXPECT_EQ(error_of({"failed", "purge", "--older-than", "7"}),
            "--older-than takes a duration such as 12h or 30d, not '7'");
}

TEST(CtlCommandLineTest, HelpAndVersionWinOverEverythingElse) {
  EXPECT_EQ(parse({"failed", "--help"}).command, Command::kHelp);
  EXPECT_EQ(parse({"-h"}).command, Command::kHelp);
  EXPECT_EQ(parse({"--version", "bogus"}).command, Command::kVersion);
}

TEST(CtlCommandLineTest, UsageErrorsSayWhatIsWrong) {
  EXPECT_EQ(error_of({}), "no command given");
  EXPECT_EQ(error_of({"stats"}), "unknown command 'stats'");
  EXPECT_EQ(error_of({"failed"}), "'failed' needs one of: list, show, replay, purge");
  EXPECT_EQ(error_of({"failed", "drop"}), "unknown command 'failed drop'");
  EXPECT_EQ(error_of({"status", "--verbose"}), "unknown option '--verbose'");
  EXPECT_EQ(error_of({"status", "-c"}), "-c needs a value");
  EXPECT_EQ(error_of({"failed", "list", "--limit", "0"}),
            "--limit takes a positive number, not '0'");
  EXPECT_EQ(error_of({"failed", "list", "--limit", "5x"}),
            "--limit takes a positive number, not '5x'");
  EXPECT_EQ(error_of({"status", "extra"}), "unexpected argument 'extra'");
}

TEST(CtlCommandLineTest, EveryOptionWithAValueSaysWhenItIsMissing) {
  EXPECT_EQ(error_of({"status", "--config"}), "--config needs a value");
  EXPECT_EQ(error_of({"failed", "list", "--since"}), "--since needs a value");
  EXPECT_EQ(error_of({"failed", "list", "--limit"}), "--limit needs a value");
  EXPECT_EQ(error_of({"failed", "replay", "--id"}), "--id needs a value");
  EXPECT_EQ(error_of({"failed", "purge", "--older-than"}), "--older-than needs a value");
  // "--opt=" is a value, even if an empty one.
  EXPECT_EQ(error_of({"failed", "list", "--limit="}), "--limit takes a positive number, not ''");
}

TEST(CtlCommandLineTest, LimitMustFitAndBeANumber) {
  EXPECT_EQ(parse({"failed", "list", "--limit", "18446744073709551615"}).limit,
            18446744073709551615u);
  EXPECT_EQ(error_of({"failed", "list", "--limit", "18446744073709551616"}),
            "--limit takes a positive number, not '18446744073709551616'");
  EXPECT_EQ(error_of({"failed", "list", "--limit", "-1"}),
            "--limit takes a positive number, not '-1'");
}

TEST(CtlCommandLineTest, ExtraWordsAfterEveryCommandAreErrors) {
  EXPECT_EQ(error_of({"failed", "list", "now"}), "unexpected argument 'now'");
  EXPECT_EQ(error_of({"failed", "replay", "--all", "now"}), "unexpected argument 'now'");
  EXPECT_EQ(error_of({"failed", "purge", "--older-than", "1d", "x"}), "unexpected argument 'x'");
}

TEST(CtlCommandLineTest, PacketIdsAreRowIdsOrMessageIds) {
  EXPECT_TRUE(is_packet_id("42"));
  EXPECT_TRUE(is_packet_id("1795595200000-0"));
  for (const char* bad : {"", "-", "12-", "-3", "1-2-3", "12a", "1 2", "1;DROP TABLE x", "0x10"}) {
    EXPECT_FALSE(is_packet_id(bad)) << bad;
  }
  EXPECT_EQ(error_of({"failed", "show", "abc"}),
            "ID must be a row id (digits) or a message id (<ms>-<seq>), not 'abc'");
  EXPECT_EQ(error_of({"failed", "replay", "--id", "1'"}),
            "ID must be a row id (digits) or a message id (<ms>-<seq>), not '1''");
}

TEST(CtlCommandLineTest, SinceIsCheckedBeforeAnyConnection) {
  EXPECT_EQ(parse({"failed", "list", "--since", "2026-11-25 08:00"}).since, "2026-11-25 08:00");
  const std::string error = error_of({"failed", "list", "--since", "yesterday"});
  EXPECT_EQ(error, "--since takes " + std::string(kTimeForms) + ", not 'yesterday'");
  EXPECT_NE(error.find("YYYY-MM-DDTHH:MM[:SS][Z]"), std::string::npos);
  EXPECT_EQ(error_of({"failed", "replay", "--since", "7"}),
            "--since takes " + std::string(kTimeForms) + ", not '7'");
}

TEST(CtlCommandLineTest, OptionsACommandWouldIgnoreAreErrors) {
  EXPECT_EQ(error_of({"status", "--since", "1h"}),
            "--since applies to failed list/replay and route");
  EXPECT_EQ(error_of({"failed", "list", "--all"}), "--all applies to failed replay and dlq replay");
  EXPECT_EQ(error_of({"failed", "list", "--id", "1"}),
            "--id applies to failed replay and dlq replay");
  EXPECT_EQ(error_of({"status", "--older-than", "1d"}), "--older-than applies to failed purge");
  EXPECT_EQ(error_of({"status", "--all"}), "--all applies to failed replay and dlq replay");
  EXPECT_EQ(error_of({"failed", "show", "1", "--id", "2"}),
            "--id applies to failed replay and dlq replay");
  EXPECT_EQ(error_of({"failed", "purge", "--older-than", "1d", "--since", "1h"}),
            "--since applies to failed list/replay and route");
  EXPECT_EQ(error_of({"location", "d1", "--since", "1h"}),
            "--since applies to failed list/replay and route");
  EXPECT_EQ(error_of({"failed", "list", "--until", "1h"}), "--until applies to route");
  EXPECT_EQ(error_of({"status", "--limit", "5"}),
            "--limit applies to failed list, route and dlq list");
  EXPECT_EQ(error_of({"location", "d1", "--limit", "5"}),
            "--limit applies to failed list, route and dlq list");
  EXPECT_EQ(error_of({"route", "d1", "--all"}), "--all applies to failed replay and dlq replay");
  EXPECT_EQ(error_of({"route", "d1", "--id", "3"}), "--id applies to failed replay and dlq replay");
}

TEST(CtlCommandLineTest, UsageTextNamesEveryCommandAndExitCode) {
  const std::string usage = usage_text();
  for (const char* word : {"status",
                           "failed list",
                           "failed show",
                           "failed replay",
                           "failed purge",
                           "location DRIVER_ID",
                           "route DRIVER_ID",
                           "--until",
                           "locations.group",
                           "driver_locations",
                           "--json",
                           "--older-than",
                           "--since",
                           "--limit",
                           "--id",
                           "--all",
                           "--config",
                           "--version",
                           "--help",
                           "GPSRELAY_<SECTION>_<KEY>",
                           "at-least-once",
                           "max_queue_length",
                           "FILE:LINE",
                           "topics list",
                           "topics create TOPIC",
                           "--partitions",
                           "--retention",
                           "topics delete TOPIC",
                           "--force",
                           "topics lag",
                           "dlq list TOPIC",
                           "dlq replay TOPIC",
                           "  3  ",
                           "  4  "}) {
    EXPECT_NE(usage.find(word), std::string::npos) << word;
  }
}

TEST(CtlCommandLineTest, LocationTakesOneValidDriverId) {
  const Invocation location = parse({"location", "driver-1.a_b~C", "--json"});
  EXPECT_EQ(location.command, Command::kLocation);
  EXPECT_EQ(location.driver_id, "driver-1.a_b~C");
  EXPECT_TRUE(location.json);
  EXPECT_EQ(error_of({"location"}), "'location' needs a DRIVER_ID");
  EXPECT_EQ(error_of({"location", "a", "b"}), "unexpected argument 'b'");
  // What the daemon would never accept can have no location; ':' and '*'
  // would also reach into other Redis keys.
  for (const char* bad : {"a:b", "a*", "a b", ".", "..", "d/1", "\xc3\xa9"}) {
    EXPECT_EQ(error_of({"location", bad}),
              std::string("DRIVER_ID is 1 to 128 of A-Z a-z 0-9 - . _ ~, not '") + bad + "'");
  }
  EXPECT_EQ(parse({"location", std::string(128, 'x')}).driver_id, std::string(128, 'x'));
  EXPECT_NE(error_of({"location", std::string(129, 'x')}), "no error");
  EXPECT_NE(error_of({"route", ""}), "no error");
}

TEST(CtlCommandLineTest, RouteDefaultsAndOptions) {
  const Invocation plain = parse({"route", "d1"});
  EXPECT_EQ(plain.command, Command::kRoute);
  EXPECT_EQ(plain.driver_id, "d1");
  EXPECT_EQ(plain.limit, kRouteLimit);
  EXPECT_EQ(kRouteLimit, 1000u);
  EXPECT_FALSE(plain.since.has_value());
  EXPECT_FALSE(plain.until.has_value());
  const Invocation opts = parse(
      {"--json", "route", "--since=2026-11-25T08:00Z", "d1", "--until", "30m", "--limit", "5"});
  EXPECT_EQ(opts.since, "2026-11-25T08:00Z");
  EXPECT_EQ(opts.until, "30m");
  EXPECT_EQ(opts.limit, 5u);
  EXPECT_TRUE(opts.json);
  // failed list keeps its own default.
  EXPECT_EQ(parse({"failed", "list"}).limit, 50u);
  EXPECT_EQ(error_of({"route"}), "'route' needs a DRIVER_ID");
  EXPECT_EQ(error_of({"route", "d1", "--until"}), "--until needs a value");
  EXPECT_EQ(error_of({"route", "d1", "--limit", "0"}), "--limit takes a positive number, not '0'");
  EXPECT_EQ(error_of({"route", "d1", "--until", "tomorrow"}),
            "--until takes " + std::string(kTimeForms) + ", not 'tomorrow'");
  EXPECT_EQ(error_of({"route", "d1", "--since", "7"}),
            "--since takes " + std::string(kTimeForms) + ", not '7'");
}

TEST(CtlCommandLineTest, TopicsListAndLagTakeNoArguments) {
  EXPECT_EQ(parse({"topics", "list"}).command, Command::kTopicsList);
  const Invocation lag = parse({"--json", "topics", "lag"});
  EXPECT_EQ(lag.command, Command::kTopicsLag);
  EXPECT_TRUE(lag.json);
  EXPECT_EQ(error_of({"topics"}), "'topics' needs one of: list, create, delete, lag");
  EXPECT_EQ(error_of({"topics", "show"}), "unknown command 'topics show'");
  EXPECT_EQ(error_of({"topics", "list", "jobs"}), "unexpected argument 'jobs'");
  EXPECT_EQ(error_of({"topics", "lag", "--limit", "3"}),
            "--limit applies to failed list, route and dlq list");
}

TEST(CtlCommandLineTest, TopicsCreateDefaultsAndOptions) {
  const Invocation plain = parse({"topics", "create", "jobs"});
  EXPECT_EQ(plain.command, Command::kTopicsCreate);
  EXPECT_EQ(plain.topic, "jobs");
  EXPECT_EQ(plain.partitions, 1u);
  EXPECT_FALSE(plain.retention.has_value());  // topics.retention applies
  const Invocation opts =
      parse({"topics", "--partitions=4", "create", "jobs.v2_a-b", "--retention", "36h"});
  EXPECT_EQ(opts.topic, "jobs.v2_a-b");
  EXPECT_EQ(opts.partitions, 4u);
  EXPECT_EQ(opts.retention, std::chrono::hours(36));
  EXPECT_EQ(parse({"topics", "create", "t", "--partitions", "256"}).partitions, 256u);
  EXPECT_EQ(parse({"topics", "create", "t", "--retention", "3650d"}).retention,
            std::chrono::hours(24 * 3650));
}

TEST(CtlCommandLineTest, TopicsCreateRefusesWhatTheApiRefuses) {
  EXPECT_EQ(error_of({"topics", "create"}), "'topics create' needs a TOPIC");
  EXPECT_EQ(error_of({"topics", "create", "a", "b"}), "unexpected argument 'b'");
  for (const std::string& bad : {std::string("a:b"), std::string("a*"), std::string("."),
                                 std::string(".."), std::string("a b"), std::string(201, 'x')}) {
    EXPECT_EQ(error_of({"topics", "create", bad}),
              "TOPIC is 1 to 200 of A-Z a-z 0-9 . _ - (not . or ..), not '" + bad + "'");
  }
  EXPECT_EQ(parse({"topics", "create", std::string(200, 'x')}).topic, std::string(200, 'x'));
  for (const char* bad : {"0", "257", "-1", "2x", ""}) {
    EXPECT_EQ(error_of({"topics", "create", "t", "--partitions", bad}),
              std::string("--partitions takes a number from 1 to 256, not '") + bad + "'");
  }
  for (const char* bad : {"0s", "7", "1h30m", "3651d", "forever"}) {
    EXPECT_EQ(error_of({"topics", "create", "t", "--retention", bad}),
              std::string("--retention takes a duration above 0 such as 12h or 7d, at most ") +
                  "3650d, not '" + bad + "'");
  }
  EXPECT_EQ(error_of({"topics", "create", "t", "--partitions"}), "--partitions needs a value");
  EXPECT_EQ(error_of({"topics", "create", "t", "--retention"}), "--retention needs a value");
}

TEST(CtlCommandLineTest, TopicsDeleteTakesForce) {
  const Invocation plain = parse({"topics", "delete", "jobs"});
  EXPECT_EQ(plain.command, Command::kTopicsDelete);
  EXPECT_EQ(plain.topic, "jobs");
  EXPECT_FALSE(plain.force);
  EXPECT_TRUE(parse({"--force", "topics", "delete", "jobs"}).force);
  EXPECT_EQ(error_of({"topics", "delete"}), "'topics delete' needs a TOPIC");
  EXPECT_EQ(error_of({"topics", "delete", "a/b"}),
            "TOPIC is 1 to 200 of A-Z a-z 0-9 . _ - (not . or ..), not 'a/b'");
}

TEST(CtlCommandLineTest, TopicOptionsApplyToTheirCommandsOnly) {
  EXPECT_EQ(error_of({"topics", "list", "--force"}), "--force applies to topics delete");
  EXPECT_EQ(error_of({"status", "--force"}), "--force applies to topics delete");
  EXPECT_EQ(error_of({"topics", "delete", "t", "--partitions", "2"}),
            "--partitions applies to topics create");
  EXPECT_EQ(error_of({"dlq", "list", "t", "--retention", "1d"}),
            "--retention applies to topics create");
  EXPECT_EQ(error_of({"topics", "create", "t", "--force"}), "--force applies to topics delete");
  EXPECT_EQ(error_of({"topics", "create", "t", "--all"}),
            "--all applies to failed replay and dlq replay");
  EXPECT_EQ(error_of({"topics", "list", "--id", "1-0"}),
            "--id applies to failed replay and dlq replay");
}

TEST(CtlCommandLineTest, DlqListTakesATopicAndALimit) {
  const Invocation plain = parse({"dlq", "list", "jobs"});
  EXPECT_EQ(plain.command, Command::kDlqList);
  EXPECT_EQ(plain.topic, "jobs");
  EXPECT_EQ(plain.limit, 50u);
  EXPECT_EQ(parse({"dlq", "list", "jobs", "--limit", "5"}).limit, 5u);
  EXPECT_EQ(error_of({"dlq"}), "'dlq' needs one of: list, replay");
  EXPECT_EQ(error_of({"dlq", "purge", "jobs"}), "unknown command 'dlq purge'");
  EXPECT_EQ(error_of({"dlq", "list"}), "'dlq list' needs a TOPIC");
  EXPECT_EQ(error_of({"dlq", "list", "jobs", "x"}), "unexpected argument 'x'");
  EXPECT_EQ(error_of({"dlq", "list", "jobs", "--all"}),
            "--all applies to failed replay and dlq replay");
  EXPECT_EQ(error_of({"dlq", "list", "jobs:0"}),
            "TOPIC is 1 to 200 of A-Z a-z 0-9 . _ - (not . or ..), not 'jobs:0'");
}

TEST(CtlCommandLineTest, DlqReplayTakesOneIdOrAll) {
  const Invocation all = parse({"dlq", "replay", "jobs"});
  EXPECT_EQ(all.command, Command::kDlqReplay);
  EXPECT_EQ(all.topic, "jobs");
  EXPECT_FALSE(all.id.has_value());
  EXPECT_FALSE(all.all);  // neither selector: every dead letter, as --all
  EXPECT_TRUE(parse({"dlq", "replay", "jobs", "--all"}).all);
  EXPECT_EQ(parse({"dlq", "replay", "jobs", "--id", "1795595200000-0"}).id, "1795595200000-0");
  EXPECT_EQ(error_of({"dlq", "replay", "jobs", "--id", "1-0", "--all"}),
            "'dlq replay' takes --id ID or --all, not both");
  // A DLQ entry has a stream id; a failed packet's row id is no such id.
  for (const char* bad : {"12", "1-", "-1", "a-b", "1-2-3"}) {
    EXPECT_EQ(error_of({"dlq", "replay", "jobs", "--id", bad}),
              std::string("ID must be a message id (<ms>-<seq>), not '") + bad + "'");
  }
  EXPECT_EQ(error_of({"dlq", "replay", "jobs", "--limit", "2"}),
            "--limit applies to failed list, route and dlq list");
}

constexpr std::int64_t kNow = 1795595200000;  // 2026-11-25 08:26:40 UTC
constexpr std::int64_t kHourMs = 3600 * 1000;

TEST(CtlCommandLineTest, RouteWindowIsTheLastHourByDefault) {
  const RouteWindow window = route_window(parse({"route", "d1"}), kNow);
  EXPECT_EQ(window.until_ms, kNow);
  EXPECT_EQ(window.since_ms, kNow - kHourMs);
}

TEST(CtlCommandLineTest, RouteWindowEndsAtUntilAndStartsAnHourBeforeIt) {
  const RouteWindow until_only = route_window(parse({"route", "d1", "--until", "2h"}), kNow);
  EXPECT_EQ(until_only.until_ms, kNow - 2 * kHourMs);
  EXPECT_EQ(until_only.since_ms, kNow - 3 * kHourMs);
  const RouteWindow since_only = route_window(parse({"route", "d1", "--since", "1d"}), kNow);
  EXPECT_EQ(since_only.since_ms, kNow - 24 * kHourMs);
  EXPECT_EQ(since_only.until_ms, kNow);
  const RouteWindow both = route_window(
      parse({"route", "d1", "--since", "2026-11-25", "--until", "2026-11-25T01:00"}), kNow);
  EXPECT_EQ(both.since_ms, 1795564800000);
  EXPECT_EQ(both.until_ms, 1795564800000 + kHourMs);
  // A single instant is a valid range (both ends are inclusive).
  const RouteWindow instant =
      route_window(parse({"route", "d1", "--since", "2026-11-25", "--until", "2026-11-25"}), kNow);
  EXPECT_EQ(instant.since_ms, instant.until_ms);
}

TEST(CtlCommandLineTest, RouteWindowRefusesAnEndBeforeTheStart) {
  const Invocation reversed = parse({"route", "d1", "--since", "1h", "--until", "2h"});
  try {
    route_window(reversed, kNow);
    FAIL() << "no error";
  } catch (const UsageError& e) {
    EXPECT_EQ(std::string(e.what()),
              "--until (2026-11-25 06:26:40 UTC) is before --since (2026-11-25 07:26:40 UTC)");
  }
  // --until alone never is: --since follows it.
  EXPECT_NO_THROW(route_window(parse({"route", "d1", "--until", "2000-01-01"}), kNow));
}

}  // namespace
}  // namespace gpsrelay::ctl
