// gpsrelayctl's command line: every command, option placement, and every
// usage error.
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
  EXPECT_EQ(error_of({"status", "--since", "1h"}), "--since applies to failed list/replay");
  EXPECT_EQ(error_of({"failed", "list", "--all"}), "--all applies to failed replay");
  EXPECT_EQ(error_of({"failed", "list", "--id", "1"}), "--id applies to failed replay");
  EXPECT_EQ(error_of({"status", "--older-than", "1d"}), "--older-than applies to failed purge");
  EXPECT_EQ(error_of({"status", "--all"}), "--all applies to failed replay");
  EXPECT_EQ(error_of({"failed", "show", "1", "--id", "2"}), "--id applies to failed replay");
  EXPECT_EQ(error_of({"failed", "purge", "--older-than", "1d", "--since", "1h"}),
            "--since applies to failed list/replay");
}

TEST(CtlCommandLineTest, UsageTextNamesEveryCommandAndExitCode) {
  const std::string usage = usage_text();
  for (const char* word :
       {"status", "failed list", "failed show", "failed replay", "failed purge", "--json",
        "--older-than", "--since", "--limit", "--id", "--all", "--config", "--version", "--help",
        "GPSRELAY_<SECTION>_<KEY>", "at-least-once", "max_queue_length", "FILE:LINE", "  3  "}) {
    EXPECT_NE(usage.find(word), std::string::npos) << word;
  }
}

}  // namespace
}  // namespace gpsrelay::ctl
