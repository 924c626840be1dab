// Tests of gpsrelay.conf parsing, environment overrides, secrets and
// rendering (core/config.h). Files are written to a fresh temporary
// directory per test; the environment is a map, never the real one.
#include "core/config.h"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <string>

#include "temp_files_test_base.h"

#ifndef GPSRELAY_SOURCE_DIR
#error "GPSRELAY_SOURCE_DIR must name the source tree, to find etc/gpsrelay.conf"
#endif

namespace gpsrelay::core {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

EnvLookup environment(std::map<std::string, std::string> variables = {}) {
  return [variables = std::move(variables)](const std::string& name) -> std::optional<std::string> {
    const auto found = variables.find(name);
    if (found == variables.end()) return std::nullopt;
    return found->second;
  };
}

Config parse(std::string_view text, const EnvLookup& env = environment()) {
  return parse_config(text, "/etc/gpsrelay/gpsrelay.conf", env);
}

// The message of the ConfigError that parsing `text` throws, or a note that
// it threw none.
std::string error_of(std::string_view text, const EnvLookup& env = environment()) {
  try {
    parse_config(text, "gpsrelay.conf", env);
  } catch (const ConfigError& error) {
    return error.what();
  }
  return "(no error)";
}

// Tests that read real files.
using ConfigFilesTest = testing_support::TempFilesTest;

// ---- Defaults and the shipped file ----

TEST(ConfigDefaults, AnEmptyFileGivesTheContractDefaults) {
  const Config config = parse("");
  EXPECT_EQ(config, Config{});
  EXPECT_EQ(config.http.listen.to_string(), "0.0.0.0:8080");
  EXPECT_EQ(config.http.threads, default_thread_count());
  EXPECT_GE(config.http.threads, 1u);
  EXPECT_EQ(config.http.max_body_bytes, 1048576u);
  EXPECT_EQ(config.http.request_timeout, seconds(5));
  EXPECT_EQ(config.http.rate_limit, 0);
  EXPECT_EQ(config.http.rate_burst, 0);
  EXPECT_FALSE(config.http.tls_listen.has_value());
  EXPECT_EQ(config.http.tls_min_version, "1.2");
  EXPECT_EQ(config.auth.mode, AuthConfig::Mode::kNone);
  EXPECT_EQ(config.redis.address.to_string(), "127.0.0.1:6379");
  EXPECT_EQ(config.redis.db, 0);
  EXPECT_EQ(config.redis.stream, "gps:reports");
  EXPECT_EQ(config.redis.group, "gpsrelay");
  EXPECT_EQ(config.redis.max_queue_length, 1000000u);
  EXPECT_TRUE(config.forward.targets.empty());
  EXPECT_EQ(config.forward.concurrency, 256u);
  EXPECT_EQ(config.forward.batch_max, 1u);
  EXPECT_EQ(config.forward.timeout, seconds(30));
  EXPECT_EQ(
      config.forward.retry_delays,
      (std::vector<milliseconds>{seconds(5), seconds(10), seconds(10), seconds(10), seconds(10)}));
  EXPECT_EQ(config.forward.health_interval, seconds(10));
  EXPECT_EQ(config.forward.breaker_failures, 5u);
  EXPECT_EQ(config.forward.breaker_cooldown, seconds(30));
  EXPECT_EQ(config.forward.claim_idle, seconds(60));
  EXPECT_EQ(config.mysql.host, "127.0.0.1");
  EXPECT_EQ(config.mysql.port, 3306);
  EXPECT_EQ(config.mysql.user, "gpsrelay");
  EXPECT_EQ(config.mysql.database, "gpsrelay");
  EXPECT_EQ(config.mysql.retention, std::chrono::hours(24 * 30));
  EXPECT_EQ(config.log.level, LogConfig::Level::kInfo);
  EXPECT_EQ(config.log.target, LogConfig::Target::kAuto);
}

TEST(ShippedConfig, ParsesToADefaultConstructedConfig) {
  EXPECT_EQ(load_config(GPSRELAY_SOURCE_DIR "/etc/gpsrelay.conf", environment()), Config{});
}

TEST(ShippedConfig, SetsEveryKeyThatRenderConfigKnows) {
  std::ifstream file(GPSRELAY_SOURCE_DIR "/etc/gpsrelay.conf");
  std::stringstream shipped;
  shipped << file.rdbuf();
  std::istringstream rendered(render_config(Config{}));
  std::string line;
  std::string section;
  int keys = 0;
  while (std::getline(rendered, line)) {
    if (line.empty()) continue;
    if (line.front() == '[') {
      section = line;
      EXPECT_NE(shipped.str().find("\n" + section + "\n"), std::string::npos) << section;
      continue;
    }
    const std::string key = line.substr(0, line.find(' '));
    const std::size_t section_at = shipped.str().find("\n" + section + "\n");
    const std::size_t key_at = shipped.str().find("\n" + key + " =", section_at);
    const std::size_t next_section_at = shipped.str().find("\n[", section_at + 1);
    EXPECT_LT(key_at, next_section_at) << section << " " << key;
    ++keys;
  }
  EXPECT_EQ(keys, 80);
}

// ---- Values of every key ----

TEST(ConfigValues, EveryKeyIsParsedIntoItsField) {
  const Config config = parse(R"(
[http]
listen = 192.0.2.1:80
threads = 3
max_body_size = 64k
request_timeout = 250ms
rate_limit = 2.5
rate_burst = 10
tls_listen = [::]:8443
tls_cert = /etc/ssl/gpsrelay.pem
tls_key = key.pem
tls_min_version = 1.3
[auth]
mode = token
tokens_file = /etc/gpsrelay/tokens
[redis]
address = unix:/run/redis/redis.sock
password = hunter2
db = 3
stream = s
group = g
max_queue_length = 42
[forward]
targets = http://a.example:8080/in, https://b.example/in
concurrency = 8
batch_max = 50
batch_max_bytes = 64k
timeout = 2s
retry_delays = 1s, 2m
health_path = /health
health_interval = 1m
breaker_failures = 2
breaker_cooldown = 1h
claim_idle = 5m
ca_file = /etc/ssl/ca.pem
header = Authorization: Bearer abc
http2 = prior-knowledge
[mysql]
host = db.example
port = 3307
socket = /run/mysqld/mysqld.sock
user = u
password = p
database = d
retention = 7d
[log]
level = debug
target = stderr
)");
  EXPECT_EQ(config.http.listen, (Endpoint{"192.0.2.1", 80, ""}));
  EXPECT_EQ(config.http.threads, 3u);
  EXPECT_EQ(config.http.max_body_bytes, 65536u);
  EXPECT_EQ(config.http.request_timeout, milliseconds(250));
  EXPECT_EQ(config.http.rate_limit, 2.5);
  EXPECT_EQ(config.http.rate_burst, 10);
  EXPECT_EQ(config.http.tls_listen, (Endpoint{"::", 8443, ""}));
  EXPECT_EQ(config.http.tls_cert, "/etc/ssl/gpsrelay.pem");
  EXPECT_EQ(config.http.tls_key, "/etc/gpsrelay/key.pem");  // Relative to the file.
  EXPECT_EQ(config.http.tls_min_version, "1.3");
  EXPECT_EQ(config.auth.mode, AuthConfig::Mode::kToken);
  EXPECT_EQ(config.auth.tokens_file, "/etc/gpsrelay/tokens");
  EXPECT_EQ(config.redis.address, (Endpoint{"", 0, "/run/redis/redis.sock"}));
  EXPECT_EQ(config.redis.password, "hunter2");
  EXPECT_EQ(config.redis.db, 3);
  EXPECT_EQ(config.redis.stream, "s");
  EXPECT_EQ(config.redis.group, "g");
  EXPECT_EQ(config.redis.max_queue_length, 42u);
  EXPECT_EQ(config.forward.targets,
            (std::vector<std::string>{"http://a.example:8080/in", "https://b.example/in"}));
  EXPECT_EQ(config.forward.concurrency, 8u);
  EXPECT_EQ(config.forward.batch_max, 50u);
  EXPECT_EQ(config.forward.batch_max_bytes, 65536u);
  EXPECT_EQ(config.forward.timeout, seconds(2));
  EXPECT_EQ(config.forward.retry_delays, (std::vector<milliseconds>{seconds(1), seconds(120)}));
  EXPECT_EQ(config.forward.health_path, "/health");
  EXPECT_EQ(config.forward.health_interval, seconds(60));
  EXPECT_EQ(config.forward.breaker_failures, 2u);
  EXPECT_EQ(config.forward.breaker_cooldown, seconds(3600));
  EXPECT_EQ(config.forward.claim_idle, seconds(300));
  EXPECT_EQ(config.forward.ca_file, "/etc/ssl/ca.pem");
  EXPECT_EQ(config.forward.header, "Authorization: Bearer abc");
  EXPECT_EQ(config.forward.http2, ForwardConfig::Http2::kPriorKnowledge);
  EXPECT_EQ(config.mysql.host, "db.example");
  EXPECT_EQ(config.mysql.port, 3307);
  EXPECT_EQ(config.mysql.socket, "/run/mysqld/mysqld.sock");
  EXPECT_EQ(config.mysql.user, "u");
  EXPECT_EQ(config.mysql.password, "p");
  EXPECT_EQ(config.mysql.database, "d");
  EXPECT_EQ(config.mysql.retention, std::chrono::hours(24 * 7));
  EXPECT_EQ(config.log.level, LogConfig::Level::kDebug);
  EXPECT_EQ(config.log.target, LogConfig::Target::kStderr);
}

TEST(ConfigValues, ZeroThreadsMeansOnePerCpu) {
  EXPECT_EQ(parse("[http]\nthreads = 0\n").http.threads, default_thread_count());
}

TEST(ConfigValues, ZeroBurstMeansTheRateLimitButAtLeastOne) {
  EXPECT_EQ(parse("[http]\nrate_limit = 20\n").http.rate_burst, 20);
  EXPECT_EQ(parse("[http]\nrate_limit = 0.5\nrate_burst = 0\n").http.rate_burst, 1);
  EXPECT_EQ(parse("[http]\nrate_limit = 0\n").http.rate_burst, 0);
}

TEST(ConfigValues, EmptyRetryDelaysMeansNoRetries) {
  EXPECT_TRUE(parse("[forward]\nretry_delays =\n").forward.retry_delays.empty());
  EXPECT_EQ(parse("[forward]\nretry_delays = 0s\n").forward.retry_delays,
            std::vector<milliseconds>{milliseconds(0)});
}

TEST(ConfigValues, EmptyTlsListenMeansNoTlsListener) {
  EXPECT_FALSE(parse("[http]\ntls_listen =\n").http.tls_listen.has_value());
}

TEST(ConfigValues, EndpointsAcceptHostNamesIpv6AndZones) {
  EXPECT_EQ(parse("[http]\nlisten = localhost:1\n").http.listen, (Endpoint{"localhost", 1, ""}));
  EXPECT_EQ(parse("[http]\nlisten = [::1]:65535\n").http.listen, (Endpoint{"::1", 65535, ""}));
  const Endpoint zoned = parse("[redis]\naddress = [fe80::1%eth0]:6379\n").redis.address;
  EXPECT_EQ(zoned, (Endpoint{"fe80::1%eth0", 6379, ""}));
  EXPECT_EQ(zoned.to_string(), "[fe80::1%eth0]:6379");
  EXPECT_EQ((Endpoint{"", 0, "/run/r.sock"}).to_string(), "unix:/run/r.sock");
}

// ---- Lexical rules ----

TEST(ConfigSyntax, HashAndSemicolonCommentsAreStrippedAtLineStartAndAfterWhitespace) {
  const Config config = parse(
      "# full-line comment\n"
      "; another\n"
      "   # indented comment\n"
      "[redis]   # trailing comment after a header\n"
      "stream = a#b   # comment\n"
      "group = c;d ; comment\n"
      "password = p\t#tab then comment\n");
  EXPECT_EQ(config.redis.stream, "a#b");
  EXPECT_EQ(config.redis.group, "c;d");
  EXPECT_EQ(config.redis.password, "p");
}

TEST(ConfigSyntax, AHashOrSemicolonRightAfterTheEqualsSignStartsAComment) {
  // Otherwise "key =#x" would be "#x" while render_config's "key = #x" is
  // empty (found by config_fuzz).
  const Config config = parse("[http]\ntls_cert =#x\ntls_key =;y\n[redis]\npassword =#z\n");
  EXPECT_EQ(config.http.tls_cert, "");
  EXPECT_EQ(config.http.tls_key, "");
  EXPECT_EQ(config.redis.password, "");
}

TEST(ConfigSyntax, IndentedLinesAreKeysNotContinuationsOfThePreviousValue) {
  const Config config = parse("[mysql]\nhost = db\n    port = 3310\n\tuser = x\n");
  EXPECT_EQ(config.mysql.host, "db");
  EXPECT_EQ(config.mysql.port, 3310);
  EXPECT_EQ(config.mysql.user, "x");
}

TEST(ConfigSyntax, ValuesLongerThanLibinihsLineBufferAreKeptWhole) {
  const std::string token(1000, 'x');
  std::string targets;
  for (int i = 0; i < 40; ++i) targets += (i ? "," : "") + ("http://host" + std::to_string(i));
  const Config config = parse("[forward]\nheader = Authorization: Bearer " + token +
                              "\ntargets = " + targets + "\nconcurrency = 7\n");
  EXPECT_EQ(config.forward.header, "Authorization: Bearer " + token);
  EXPECT_EQ(config.forward.targets.size(), 40u);
  EXPECT_EQ(config.forward.concurrency, 7u);
}

TEST(ConfigSyntax, CrLfLineEndingsAByteOrderMarkAndNoFinalNewlineAreAccepted) {
  const Config config = parse("\xEF\xBB\xBF[log]\r\nlevel = error\r\ntarget = journal");
  EXPECT_EQ(config.log.level, LogConfig::Level::kError);
  EXPECT_EQ(config.log.target, LogConfig::Target::kJournal);
}

TEST(ConfigSyntax, SpacesInsideASectionHeaderAreIgnoredAndSectionsMayReopen) {
  const Config config = parse("[ log ]\nlevel = error\n[http]\n[log]\ntarget = stderr\n");
  EXPECT_EQ(config.log.level, LogConfig::Level::kError);
  EXPECT_EQ(config.log.target, LogConfig::Target::kStderr);
}

// ---- Errors name FILE:LINE ----

TEST(ConfigErrors, AnUnknownSectionNamesItsLine) {
  EXPECT_EQ(error_of("[http]\nthreads = 1\n[htp]\n"), "gpsrelay.conf:3: unknown section [htp]");
}

TEST(ConfigErrors, AnEmptyUnknownSectionIsStillAnError) {
  EXPECT_EQ(error_of("\n\n[metrics]\n"), "gpsrelay.conf:3: unknown section [metrics]");
}

TEST(ConfigErrors, AnUnknownKeyNamesItsLineAndSection) {
  EXPECT_EQ(error_of("[forward]\n# comment\n\nretries = 3\n"),
            "gpsrelay.conf:4: unknown key 'retries' in [forward]");
}

TEST(ConfigErrors, KeysAreCaseSensitive) {
  EXPECT_EQ(error_of("[http]\nListen = 1.2.3.4:80\n"),
            "gpsrelay.conf:2: unknown key 'Listen' in [http]");
}

TEST(ConfigErrors, AFileFormOfANonSecretKeyIsUnknown) {
  EXPECT_EQ(error_of("[redis]\nstream_file = /x\n"),
            "gpsrelay.conf:2: unknown key 'stream_file' in [redis]");
}

TEST(ConfigErrors, AKeyOutsideASectionNamesItsLine) {
  EXPECT_EQ(error_of("# top\nthreads = 4\n[http]\n"),
            "gpsrelay.conf:2: key 'threads' is outside of any [section]");
}

TEST(ConfigErrors, ADuplicateKeyNamesBothLines) {
  EXPECT_EQ(error_of("[http]\nthreads = 1\n[log]\n[http]\nthreads = 2\n"),
            "gpsrelay.conf:5: duplicate key 'threads' in [http], first set at line 2");
}

TEST(ConfigErrors, ALineWithoutEqualsSignNamesItsLine) {
  EXPECT_EQ(error_of("[http]\nlisten 0.0.0.0:8080\n"),
            "gpsrelay.conf:2: expected 'key = value' or '[section]'");
  EXPECT_EQ(error_of("[http]\nlisten: 0.0.0.0:8080\n"),
            "gpsrelay.conf:2: expected 'key = value' or '[section]'");
  EXPECT_EQ(error_of("[http]\n= 1\n"), "gpsrelay.conf:2: missing key before '='");
  EXPECT_EQ(error_of("[http\n"), "gpsrelay.conf:1: expected '[section]'");
  EXPECT_EQ(error_of("[http] x\n"), "gpsrelay.conf:1: expected '[section]'");
}

TEST(ConfigErrors, ANulByteNamesItsLine) {
  EXPECT_EQ(error_of(std::string_view("[http]\nthreads = 1\0\n", 20)),
            "gpsrelay.conf:2: NUL byte in line");
}

TEST(ConfigErrors, ABadDurationNamesItsLineKeyAndTheExpectedForm) {
  EXPECT_EQ(error_of("[forward]\ntimeout = 30\n"),
            "gpsrelay.conf:2: invalid value '30' for 'timeout' in [forward]: expected a duration "
            "with a unit: 250ms, 5s, 10m, 2h or 30d");
  EXPECT_EQ(
      error_of("[forward]\ntimeout = 0s\n"),
      "gpsrelay.conf:2: invalid value '0s' for 'timeout' in [forward]: must be greater than 0");
  EXPECT_EQ(error_of("[mysql]\nretention = 3651d\n"),
            "gpsrelay.conf:2: invalid value '3651d' for 'retention' in [mysql]: must be at most "
            "3650d");
  EXPECT_EQ(error_of("[forward]\nretry_delays = 5s,,10s\n"),
            "gpsrelay.conf:2: invalid value '5s,,10s' for 'retry_delays' in [forward]: empty entry "
            "in the comma-separated list");
  EXPECT_EQ(error_of("[forward]\nretry_delays = 5s,10\n"),
            "gpsrelay.conf:2: invalid value '5s,10' for 'retry_delays' in [forward]: expected a "
            "duration with a unit: 250ms, 5s, 10m, 2h or 30d");
}

TEST(ConfigErrors, ABadSizeNamesItsLine) {
  EXPECT_EQ(error_of("[http]\nmax_body_size = 1g\n"),
            "gpsrelay.conf:2: invalid value '1g' for 'max_body_size' in [http]: expected a size in "
            "bytes, optionally with k or m: 65536, 64k, 1m");
  EXPECT_EQ(error_of("[http]\nmax_body_size = 0\n"),
            "gpsrelay.conf:2: invalid value '0' for 'max_body_size' in [http]: must be between 1 "
            "and 512m");
  EXPECT_EQ(error_of("[http]\nmax_body_size = 513m\n"),
            "gpsrelay.conf:2: invalid value '513m' for 'max_body_size' in [http]: must be between "
            "1 and 512m");
}

TEST(ConfigErrors, ABadPortNamesItsLine) {
  const std::string port_message = "expected a port number between 1 and 65535 after ':'";
  EXPECT_EQ(error_of("[http]\nlisten = 1.2.3.4:0\n"),
            "gpsrelay.conf:2: invalid value '1.2.3.4:0' for 'listen' in [http]: " + port_message);
  EXPECT_EQ(
      error_of("[http]\nlisten = 1.2.3.4:65536\n"),
      "gpsrelay.conf:2: invalid value '1.2.3.4:65536' for 'listen' in [http]: " + port_message);
  EXPECT_EQ(error_of("[redis]\naddress = [::1]:x\n"),
            "gpsrelay.conf:2: invalid value '[::1]:x' for 'address' in [redis]: " + port_message);
  EXPECT_EQ(
      error_of("[mysql]\nport = 0\n"),
      "gpsrelay.conf:2: invalid value '0' for 'port' in [mysql]: must be between 1 and 65535");
}

TEST(ConfigErrors, MalformedEndpointsNameTheProblem) {
  EXPECT_EQ(error_of("[http]\nlisten = *:8080\n"),
            "gpsrelay.conf:2: invalid value '*:8080' for 'listen' in [http]: '*' is ambiguous; use "
            "0.0.0.0 (IPv4) or [::] (IPv6)");
  EXPECT_EQ(error_of("[http]\nlisten = ::1:8080\n"),
            "gpsrelay.conf:2: invalid value '::1:8080' for 'listen' in [http]: an IPv6 address "
            "needs brackets, e.g. [::1]:6379");
  EXPECT_EQ(
      error_of("[http]\nlisten = 8080\n"),
      "gpsrelay.conf:2: invalid value '8080' for 'listen' in [http]: expected host:port, e.g. "
      "127.0.0.1:6379");
  EXPECT_EQ(error_of("[http]\nlisten = :8080\n"),
            "gpsrelay.conf:2: invalid value ':8080' for 'listen' in [http]: missing host before "
            "':'");
  EXPECT_EQ(error_of("[http]\nlisten = unix:/run/x.sock\n"),
            "gpsrelay.conf:2: invalid value 'unix:/run/x.sock' for 'listen' in [http]: a Unix "
            "socket is not possible here; expected host:port");
  EXPECT_EQ(error_of("[redis]\naddress = unix:run/x.sock\n"),
            "gpsrelay.conf:2: invalid value 'unix:run/x.sock' for 'address' in [redis]: expected "
            "unix:/absolute/path");
  EXPECT_EQ(error_of("[redis]\naddress = [1.2.3.4]:1\n"),
            "gpsrelay.conf:2: invalid value '[1.2.3.4]:1' for 'address' in [redis]: not an IPv6 "
            "address inside [...]");
  EXPECT_EQ(error_of("[redis]\naddress = [::1%]:1\n"),
            "gpsrelay.conf:2: invalid value '[::1%]:1' for 'address' in [redis]: not an IPv6 "
            "address inside [...]");
}

TEST(ConfigErrors, ABadIntegerNamesItsLine) {
  for (const char* value : {"4x", "-1", "+1", "1.0", "", "0x10"}) {
    EXPECT_EQ(error_of(std::string("[http]\nthreads = ") + value + "\n"),
              "gpsrelay.conf:2: invalid value '" + std::string(value) +
                  "' for 'threads' in [http]: expected a whole number")
        << value;
  }
  EXPECT_EQ(error_of("[http]\nthreads = 1025\n"),
            "gpsrelay.conf:2: invalid value '1025' for 'threads' in [http]: must be between 0 and "
            "1024");
  EXPECT_EQ(error_of("[redis]\ndb = 99999999999999999999\n"),
            "gpsrelay.conf:2: invalid value '99999999999999999999' for 'db' in [redis]: must be "
            "between 0 and 2147483647");
  EXPECT_EQ(error_of("[redis]\nmax_queue_length = 0\n"),
            "gpsrelay.conf:2: invalid value '0' for 'max_queue_length' in [redis]: must be between "
            "1 and 18446744073709551615");
  EXPECT_EQ(error_of("[forward]\nbreaker_failures = 0\n"),
            "gpsrelay.conf:2: invalid value '0' for 'breaker_failures' in [forward]: must be "
            "between 1 and 1000000");
}

TEST(ConfigErrors, BatchMaxOutsideOneToAThousandNamesItsLine) {
  EXPECT_EQ(error_of("[forward]\n\nbatch_max = 0\n"),
            "gpsrelay.conf:3: invalid value '0' for 'batch_max' in [forward]: must be between 1 "
            "and 1000");
  EXPECT_EQ(error_of("[forward]\nbatch_max = 1001\n"),
            "gpsrelay.conf:2: invalid value '1001' for 'batch_max' in [forward]: must be between "
            "1 and 1000");
  EXPECT_EQ(error_of("[forward]\nbatch_max = ten\n"),
            "gpsrelay.conf:2: invalid value 'ten' for 'batch_max' in [forward]: expected a whole "
            "number");
  EXPECT_EQ(parse("[forward]\nbatch_max = 1000\n").forward.batch_max, 1000u);
  EXPECT_EQ(parse("[forward]\nbatch_max = 1\n").forward.batch_max, 1u);
  EXPECT_EQ(error_of("[forward]\nbatch_max_bytes = 0\n"),
            "gpsrelay.conf:2: invalid value '0' for 'batch_max_bytes' in [forward]: must be "
            "between 1 and 512m");
}

TEST(ConfigErrors, BadRatesNameTheirLine) {
  EXPECT_EQ(error_of("[http]\nrate_limit = -1\n"),
            "gpsrelay.conf:2: invalid value '-1' for 'rate_limit' in [http]: expected a "
            "non-negative decimal number, e.g. 10 or 2.5");
  EXPECT_EQ(error_of("[http]\nrate_limit = 1e3\n"),
            "gpsrelay.conf:2: invalid value '1e3' for 'rate_limit' in [http]: expected a "
            "non-negative decimal number, e.g. 10 or 2.5");
  EXPECT_EQ(error_of("[http]\nrate_limit = inf\n"),
            "gpsrelay.conf:2: invalid value 'inf' for 'rate_limit' in [http]: expected a "
            "non-negative decimal number, e.g. 10 or 2.5");
  EXPECT_EQ(error_of("[http]\nrate_burst = 0.5\n"),
            "gpsrelay.conf:2: invalid value '0.5' for 'rate_burst' in [http]: must be 0 or at "
            "least 1");
}

TEST(ConfigErrors, BadChoicesListTheAllowedValues) {
  EXPECT_EQ(error_of("[log]\nlevel = verbose\n"),
            "gpsrelay.conf:2: invalid value 'verbose' for 'level' in [log]: expected one of: "
            "debug, info, warning, error");
  EXPECT_EQ(error_of("[log]\ntarget = syslog\n"),
            "gpsrelay.conf:2: invalid value 'syslog' for 'target' in [log]: expected one of: auto, "
            "journal, stderr");
  EXPECT_EQ(error_of("[auth]\nmode = Token\n"),
            "gpsrelay.conf:2: invalid value 'Token' for 'mode' in [auth]: expected one of: none, "
            "token");
  EXPECT_EQ(error_of("[forward]\nhttp2 = on\n"),
            "gpsrelay.conf:2: invalid value 'on' for 'http2' in [forward]: expected one of: "
            "auto, off, prior-knowledge");
  EXPECT_EQ(error_of("[http]\ntls_min_version = 1.1\n"),
            "gpsrelay.conf:2: invalid value '1.1' for 'tls_min_version' in [http]: expected one "
            "of: 1.2, 1.3");
}

TEST(ConfigErrors, BadTargetsNameTheUrl) {
  EXPECT_EQ(error_of("[forward]\ntargets = http://a, ftp://b\n"),
            "gpsrelay.conf:2: invalid value 'http://a, ftp://b' for 'targets' in [forward]: "
            "'ftp://b' does not start with http:// or https://");
  EXPECT_EQ(error_of("[forward]\ntargets = https:///x\n"),
            "gpsrelay.conf:2: invalid value 'https:///x' for 'targets' in [forward]: 'https:///x' "
            "has no host");
  EXPECT_EQ(error_of("[forward]\ntargets = http://a,\n"),
            "gpsrelay.conf:2: invalid value 'http://a,' for 'targets' in [forward]: empty entry in "
            "the comma-separated list");
  EXPECT_EQ(error_of("[forward]\ntargets = http://a b\n"),
            "gpsrelay.conf:2: invalid value 'http://a b' for 'targets' in [forward]: 'http://a b' "
            "contains whitespace");
}

TEST(ConfigErrors, RequiredStringsMustNotBeEmptyButOptionalOnesMay) {
  EXPECT_EQ(error_of("[redis]\nstream =\n"),
            "gpsrelay.conf:2: invalid value '' for 'stream' in [redis]: must not be empty");
  EXPECT_EQ(error_of("[mysql]\nuser =\n"),
            "gpsrelay.conf:2: invalid value '' for 'user' in [mysql]: must not be empty");
  EXPECT_EQ(parse("[http]\ntls_cert =\n[forward]\nca_file =\nheader =\n"), Config{});
}

TEST(ConfigErrors, OtherMalformedStringsNameTheirLine) {
  EXPECT_EQ(error_of("[forward]\nhealth_path = health\n"),
            "gpsrelay.conf:2: invalid value 'health' for 'health_path' in [forward]: must start "
            "with '/', e.g. /health");
  EXPECT_EQ(error_of("[mysql]\nsocket = run/mysqld.sock\n"),
            "gpsrelay.conf:2: invalid value 'run/mysqld.sock' for 'socket' in [mysql]: must be an "
            "absolute path");
  EXPECT_EQ(error_of("[mysql]\nhost = a b\n"),
            "gpsrelay.conf:2: invalid value 'a b' for 'host' in [mysql]: contains whitespace");
}

TEST(ConfigErrors, ABadHeaderIsReportedWithoutEchoingTheSecret) {
  const std::string message = error_of("[forward]\nheader = Authorization Bearer s3cr3t\n");
  EXPECT_EQ(message,
            "gpsrelay.conf:2: invalid value for 'header' in [forward]: expected 'Name: value'");
  EXPECT_EQ(error_of("[forward]\nheader = X Y: z\n"),
            "gpsrelay.conf:2: invalid value for 'header' in [forward]: expected 'Name: value'; a "
            "name has letters, digits, '-', '_' or '.'");
  EXPECT_EQ(
      error_of("", environment({{"GPSRELAY_FORWARD_HEADER", "#Authorization: Bearer y"}})),
      "environment GPSRELAY_FORWARD_HEADER: invalid value for 'header' in [forward]: expected "
      "'Name: value'; a name has letters, digits, '-', '_' or '.'");
  EXPECT_EQ(error_of("[forward]\nheader = Content-Length: 0\n"),
            "gpsrelay.conf:2: invalid value for 'header' in [forward]: header 'Content-Length' is "
            "set by gpsrelay itself");
  EXPECT_EQ(error_of("[forward]\nheader = x-gpsrelay-attempt: 9\n"),
            "gpsrelay.conf:2: invalid value for 'header' in [forward]: header 'x-gpsrelay-attempt' "
            "is set by gpsrelay itself");
  // Batched delivery's id lists (forward.batch_max > 1).
  EXPECT_EQ(error_of("[forward]\nheader = X-GPSRelay-Message-IDs: 1\n"),
            "gpsrelay.conf:2: invalid value for 'header' in [forward]: header "
            "'X-GPSRelay-Message-IDs' is set by gpsrelay itself");
}

TEST(ConfigErrors, TlsListenWithoutCertificateNamesTheTlsListenLine) {
  EXPECT_EQ(error_of("[http]\n\ntls_listen = 0.0.0.0:8443\ntls_key = /k.pem\n"),
            "gpsrelay.conf:3: tls_listen is set, so [http] tls_cert is required");
  EXPECT_EQ(error_of("[http]\ntls_listen = 0.0.0.0:8443\ntls_cert = /c.pem\n"),
            "gpsrelay.conf:2: tls_listen is set, so [http] tls_key is required");
  const Config config =
      parse("[http]\ntls_listen = 0.0.0.0:8443\ntls_cert = /c.pem\ntls_key = /k.pem\n");
  EXPECT_EQ(config.http.tls_listen, (Endpoint{"0.0.0.0", 8443, ""}));
}

TEST(ConfigErrors, GrpcTlsWithoutCertificateNamesTheTlsLine) {
  EXPECT_EQ(error_of("[http]\ntls_key = /k.pem\n[grpc]\nlisten = 127.0.0.1:9090\ntls = true\n"),
            "gpsrelay.conf:5: tls = true needs [http] tls_cert");
  EXPECT_EQ(error_of("[http]\ntls_cert = /c.pem\n[grpc]\ntls = true\n"),
            "gpsrelay.conf:4: tls = true needs [http] tls_key");
  const Config config = parse(
      "[http]\ntls_cert = /c.pem\ntls_key = /k.pem\n[grpc]\nlisten = 127.0.0.1:9090\ntls = true\n");
  EXPECT_EQ(config.grpc.listen, (Endpoint{"127.0.0.1", 9090, ""}));
  EXPECT_TRUE(config.grpc.tls);
  EXPECT_FALSE(parse("[grpc]\nlisten =\n").grpc.listen);
}

TEST(ConfigErrors, InflightBudgetSmallerThanOneBodyNamesItsLine) {
  EXPECT_EQ(error_of("[http]\nmax_body_size = 2m\nmax_inflight_bytes = 1m\n"),
            "gpsrelay.conf:3: max_inflight_bytes must be at least max_body_size");
  const Config config = parse(
      "[http]\nkeepalive_timeout = 2s\nmax_connections = 7\nmax_inflight_bytes = 2m\n"
      "[redis]\ncommand_timeout = 250ms\nidempotency_ttl = 1h\n");
  EXPECT_EQ(config.http.keepalive_timeout, std::chrono::seconds(2));
  EXPECT_EQ(config.http.max_connections, 7U);
  EXPECT_EQ(config.http.max_inflight_bytes, 2U * 1024 * 1024);
  EXPECT_EQ(config.redis.command_timeout, std::chrono::milliseconds(250));
  EXPECT_EQ(config.redis.idempotency_ttl, std::chrono::hours(1));
}

TEST(ConfigErrors, TokenModeWithoutTokensFileNamesTheModeLine) {
  EXPECT_EQ(error_of("[auth]\nmode = token\n"),
            "gpsrelay.conf:2: mode = token needs [auth] tokens_file");
}

TEST_F(ConfigFilesTest, AMissingFileIsAnErrorNamingTheFile) {
  const std::string path = (dir_ / "absent.conf").string();
  try {
    load_config(path, environment());
    FAIL() << "no error";
  } catch (const ConfigError& error) {
    EXPECT_EQ(std::string(error.what()), path + ": cannot open: No such file or directory");
    EXPECT_EQ(error.where(), path);
  }
}

TEST_F(ConfigFilesTest, ErrorsInALoadedFileNameItsPathAndLine) {
  const std::string path = write("gpsrelay.conf", "[forward]\n\nretries = 3\n");
  try {
    load_config(path, environment());
    FAIL() << "no error";
  } catch (const ConfigError& error) {
    EXPECT_EQ(std::string(error.what()), path + ":3: unknown key 'retries' in [forward]");
    EXPECT_EQ(error.where(), path + ":3");
    EXPECT_EQ(error.message(), "unknown key 'retries' in [forward]");
  }
}

// ---- Secrets from files ----

TEST_F(ConfigFilesTest, PasswordFileIsReadWithOneTrailingNewlineStripped) {
  const std::string secret = write("redis.password", "s3cret #1 ;x\n");
  const std::string crlf = write("mysql.password", "pw\r\n");
  const std::string conf =
      write("gpsrelay.conf",
            "[redis]\npassword_file = " + secret + "\n[mysql]\npassword_file = mysql.password\n");
  const Config config = load_config(conf, environment());
  EXPECT_EQ(config.redis.password, "s3cret #1 ;x");
  EXPECT_EQ(config.mysql.password, "pw");  // Relative to the config file's directory.
}

TEST_F(ConfigFilesTest, HeaderFileIsReadAndValidated) {
  write("header", "Authorization: Bearer abc\n");
  EXPECT_EQ(load_config(write("a.conf", "[forward]\nheader_file = header\n"), environment())
                .forward.header,
            "Authorization: Bearer abc");
  write("bad_header", "Authorization: Bearer abc\nX-Injected: 1\n");
  try {
    load_config(write("b.conf", "[forward]\nheader_file = bad_header\n"), environment());
    FAIL() << "no error";
  } catch (const ConfigError& error) {
    EXPECT_EQ(
        std::string(error.what()),
        (dir_ / "b.conf").string() + ":2: invalid value for 'header' in [forward] (read from '" +
            (dir_ / "bad_header").string() + "'): contains a control character or line break");
  }
}

TEST_F(ConfigFilesTest, AnUnreadablePasswordFileNamesItsLine) {
  const std::string conf = write("gpsrelay.conf", "[redis]\n\npassword_file = missing\n");
  try {
    load_config(conf, environment());
    FAIL() << "no error";
  } catch (const ConfigError& error) {
    EXPECT_EQ(std::string(error.what()), conf + ":3: cannot use 'password_file' in [redis]: '" +
                                             (dir_ / "missing").string() +
                                             "' cannot open: No such file or directory");
  }
}

TEST_F(ConfigFilesTest, APasswordFileMustBeARegularFileOfOneLine) {
  std::filesystem::create_directory(dir_ / "subdir");
  EXPECT_EQ(error_of("[mysql]\npassword_file = " + (dir_ / "subdir").string() + "\n"),
            "gpsrelay.conf:2: cannot use 'password_file' in [mysql]: '" +
                (dir_ / "subdir").string() + "' is a directory");
  EXPECT_EQ(error_of("[mysql]\npassword_file = /dev/null\n"),
            "gpsrelay.conf:2: cannot use 'password_file' in [mysql]: '/dev/null' is not a regular "
            "file");
  const std::string two_lines = write("two_lines", "first\nsecond\n");
  EXPECT_EQ(error_of("[mysql]\npassword_file = " + two_lines + "\n"),
            "gpsrelay.conf:2: invalid value for 'password' in [mysql] (read from '" + two_lines +
                "'): contains a line break or NUL byte");
  const std::string huge = write("huge", std::string(64 * 1024 + 1, 'x'));
  EXPECT_EQ(error_of("[mysql]\npassword_file = " + huge + "\n"),
            "gpsrelay.conf:2: cannot use 'password_file' in [mysql]: '" + huge +
                "' is larger than 64k bytes");
}

TEST_F(ConfigFilesTest, SettingBothInlineAndFileFormsIsAnError) {
  const std::string secret = write("pw", "x\n");
  EXPECT_EQ(error_of("[redis]\npassword = a\npassword_file = " + secret + "\n"),
            "gpsrelay.conf:3: both 'password' and 'password_file' are set in [redis] (line 2); "
            "keep one");
  const std::string header = write("header", "X-A: b\n");
  EXPECT_EQ(error_of("[forward]\nheader_file = " + header + "\nheader = X-A: b\n"),
            "gpsrelay.conf:3: both 'header' and 'header_file' are set in [forward] (line 2); keep "
            "one");
}

TEST_F(ConfigFilesTest, AnEmptyFormOfASecretLeavesTheOtherInCharge) {
  const std::string secret = write("pw", "x\n");
  EXPECT_EQ(parse("[redis]\npassword =\npassword_file = " + secret + "\n").redis.password, "x");
  EXPECT_EQ(parse("[redis]\npassword_file =\npassword = y\n").redis.password, "y");
}

// ---- Environment overrides ----

TEST(ConfigEnvironment, AVariableWinsOverTheFile) {
  const Config config = parse("[redis]\naddress = 10.0.0.1:6379\n[http]\nmax_body_size = 64k\n",
                              environment({{"GPSRELAY_REDIS_ADDRESS", "10.0.0.2:6380"},
                                           {"GPSRELAY_HTTP_MAX_BODY_SIZE", " 2m "},
                                           {"GPSRELAY_LOG_LEVEL", "warning"}}));
  EXPECT_EQ(config.redis.address, (Endpoint{"10.0.0.2", 6380, ""}));
  EXPECT_EQ(config.http.max_body_bytes, 2u * 1024 * 1024);
  EXPECT_EQ(config.log.level, LogConfig::Level::kWarning);
}

TEST(ConfigEnvironment, EveryKeyHasAVariable) {
  const Config config = parse("", environment({{"GPSRELAY_HTTP_TLS_MIN_VERSION", "1.3"},
                                               {"GPSRELAY_FORWARD_RETRY_DELAYS", ""},
                                               {"GPSRELAY_FORWARD_BREAKER_COOLDOWN", "1m"},
                                               {"GPSRELAY_FORWARD_BATCH_MAX", "20"},
                                               {"GPSRELAY_MYSQL_RETENTION", "1d"},
                                               {"GPSRELAY_AUTH_MODE", "token"},
                                               {"GPSRELAY_AUTH_TOKENS_FILE", "/t"}}));
  EXPECT_EQ(config.http.tls_min_version, "1.3");
  EXPECT_TRUE(config.forward.retry_delays.empty());
  EXPECT_EQ(config.forward.breaker_cooldown, seconds(60));
  EXPECT_EQ(config.forward.batch_max, 20u);
  EXPECT_EQ(config.mysql.retention, std::chrono::hours(24));
  EXPECT_EQ(config.auth.tokens_file, "/t");
}

TEST(ConfigEnvironment, AnEmptyVariableClearsAnOptionalValue) {
  const Config config =
      parse("[http]\ntls_listen = 0.0.0.0:8443\n", environment({{"GPSRELAY_HTTP_TLS_LISTEN", ""}}));
  EXPECT_FALSE(config.http.tls_listen.has_value());
}

TEST(ConfigEnvironment, ABadValueNamesTheVariable) {
  EXPECT_EQ(error_of("", environment({{"GPSRELAY_FORWARD_TIMEOUT", "30"}})),
            "environment GPSRELAY_FORWARD_TIMEOUT: invalid value '30' for 'timeout' in [forward]: "
            "expected a duration with a unit: 250ms, 5s, 10m, 2h or 30d");
  EXPECT_EQ(error_of("", environment({{"GPSRELAY_HTTP_THREADS", ""}})),
            "environment GPSRELAY_HTTP_THREADS: invalid value '' for 'threads' in [http]: expected "
            "a whole number");
}

TEST(ConfigEnvironment, AValueTheFileWouldReadAsACommentIsRejected) {
  EXPECT_EQ(error_of("", environment({{"GPSRELAY_MYSQL_USER", "a #b"}})),
            "environment GPSRELAY_MYSQL_USER: invalid value 'a #b' for 'user' in [mysql]: contains "
            "'#' or ';' at the start or after a space, which starts a comment");
  EXPECT_EQ(error_of("", environment({{"GPSRELAY_REDIS_STREAM", "a\nb"}})),
            "environment GPSRELAY_REDIS_STREAM: invalid value 'a?b' for 'stream' in [redis]: "
            "contains a control character");
}

TEST(ConfigEnvironment, RequiredKeyErrorsNameTheVariableThatSetTheTrigger) {
  EXPECT_EQ(error_of("", environment({{"GPSRELAY_HTTP_TLS_LISTEN", "[::]:443"}})),
            "environment GPSRELAY_HTTP_TLS_LISTEN: tls_listen is set, so [http] tls_cert is "
            "required");
}

TEST(ConfigEnvironment, AFileBadValueIsAnErrorEvenIfAVariableOverridesIt) {
  EXPECT_EQ(error_of("[http]\nthreads = many\n", environment({{"GPSRELAY_HTTP_THREADS", "2"}})),
            "gpsrelay.conf:2: invalid value 'many' for 'threads' in [http]: expected a whole "
            "number");
}

TEST_F(ConfigFilesTest, ASecretVariableReplacesEitherFormFromTheFile) {
  const std::string from_file = write("file_pw", "from-file\n");
  const std::string from_env = write("env_pw", "from-env-file\n");
  const std::string conf =
      "[redis]\npassword_file = " + from_file + "\n[mysql]\npassword = inline\n";
  const Config config = parse(conf, environment({{"GPSRELAY_REDIS_PASSWORD", "from-env"},
                                                 {"GPSRELAY_MYSQL_PASSWORD_FILE", from_env}}));
  EXPECT_EQ(config.redis.password, "from-env");
  EXPECT_EQ(config.mysql.password, "from-env-file");
}

TEST_F(ConfigFilesTest, BothSecretVariablesAreAnError) {
  const std::string pw = write("pw", "x");
  EXPECT_EQ(error_of("", environment({{"GPSRELAY_REDIS_PASSWORD", "a"},
                                      {"GPSRELAY_REDIS_PASSWORD_FILE", pw}})),
            "environment GPSRELAY_REDIS_PASSWORD_FILE: both GPSRELAY_REDIS_PASSWORD and "
            "GPSRELAY_REDIS_PASSWORD_FILE are set; keep one");
}

TEST(ConfigEnvironment, AnUnreadableSecretFileVariableNamesTheVariable) {
  EXPECT_EQ(error_of("", environment({{"GPSRELAY_FORWARD_HEADER_FILE", "/nonexistent/h"}})),
            "environment GPSRELAY_FORWARD_HEADER_FILE: cannot use 'header_file' in [forward]: "
            "'/nonexistent/h' cannot open: No such file or directory");
}

TEST(ConfigEnvironment, ProcessEnvironmentReadsTheRealEnvironment) {
  setenv("GPSRELAY_TEST_PROCESS_ENVIRONMENT", "yes", 1);
  const EnvLookup env = process_environment();
  EXPECT_EQ(env("GPSRELAY_TEST_PROCESS_ENVIRONMENT"), "yes");
  unsetenv("GPSRELAY_TEST_PROCESS_ENVIRONMENT");
  EXPECT_EQ(env("GPSRELAY_TEST_PROCESS_ENVIRONMENT"), std::nullopt);
}

// ---- Rendering ----

TEST(RenderConfig, ListsEveryKeyOfEverySectionInOrder) {
  Config config;
  config.http.threads = 4;
  config.forward.threads = 4;
  EXPECT_EQ(render_config(config),
            "[http]\n"
            "listen = 0.0.0.0:8080\n"
            "threads = 4\n"
            "max_body_size = 1m\n"
            "request_timeout = 5s\n"
            "keepalive_timeout = 1m\n"
            "max_connections = 20000\n"
            "max_inflight_bytes = 256m\n"
            "rate_limit = 0\n"
            "rate_burst = 0\n"
            "tls_listen =\n"
            "tls_cert =\n"
            "tls_key =\n"
            "tls_min_version = 1.2\n"
            "\n"
            "[auth]\n"
            "mode = none\n"
            "tokens_file =\n"
            "read_tokens_file =\n"
            "\n"
            "[redis]\n"
            "address = 127.0.0.1:6379\n"
            "password =\n"
            "db = 0\n"
            "stream = gps:reports\n"
            "group = gpsrelay\n"
            "max_queue_length = 1000000\n"
            "command_timeout = 1s\n"
            "idempotency_ttl = 1d\n"
            "sentinels =\n"
            "master_name = mymaster\n"
            "sentinel_password =\n"
            "min_replicas_acked = 0\n"
            "replica_ack_timeout = 100ms\n"
            "\n"
            "[forward]\n"
            "targets =\n"
            "threads = 4\n"
            "concurrency = 256\n"
            "batch_max = 1\n"
            "batch_max_bytes = 1m\n"
            "timeout = 30s\n"
            "retry_delays = 5s,10s,10s,10s,10s\n"
            "health_path =\n"
            "health_interval = 10s\n"
            "breaker_failures = 5\n"
            "breaker_cooldown = 30s\n"
            "claim_idle = 1m\n"
            "ca_file =\n"
            "header =\n"
            "http2 = off\n"
            "\n"
            "[mysql]\n"
            "host = 127.0.0.1\n"
            "port = 3306\n"
            "socket =\n"
            "user = gpsrelay\n"
            "password =\n"
            "database = gpsrelay\n"
            "retention = 30d\n"
            "\n"
            "[locations]\n"
            "enabled = false\n"
            "group = locations\n"
            "ttl = 5m\n"
            "history = true\n"
            "history_retention = 90d\n"
            "batch_size = 500\n"
            "batch_interval = 1s\n"
            "max_radius = 50km\n"
            "max_route_range = 7d\n"
            "osmand_listen =\n"
            "live_max_clients = 20000\n"
            "live_origins =\n"
            "map_tiles =\n"
            "\n"
            "[topics]\n"
            "enabled = false\n"
            "prefix = gpsrelay:topic:\n"
            "retention = 7d\n"
            "visibility_timeout = 30s\n"
            "max_retries = 3\n"
            "max_poll_records = 500\n"
            "session_timeout = 30s\n"
            "\n"
            "[events]\n"
            "enabled = false\n"
            "values_stream = gpsrelay:values\n"
            "cache_ttl = 5m\n"
            "batch_size = 50\n"
            "batch_interval = 2s\n"
            "\n"
            "[grpc]\n"
            "listen =\n"
            "tls = false\n"
            "\n"
            "[log]\n"
            "level = info\n"
            "target = auto\n");
}

TEST(RenderConfig, MasksSecretsThatAreSet) {
  Config config;
  config.redis.password = "redis-secret";
  config.mysql.password = "mysql-secret";
  config.forward.header = "Authorization: Bearer header-secret";
  const std::string text = render_config(config);
  EXPECT_EQ(text.find("secret"), std::string::npos) << text;
  EXPECT_NE(text.find("[redis]\naddress = 127.0.0.1:6379\npassword = ********\n"),
            std::string::npos);
  EXPECT_NE(text.find("user = gpsrelay\npassword = ********\n"), std::string::npos);
  // The header's name is not secret, and shows which header is configured.
  EXPECT_NE(text.find("\nheader = Authorization: ********\n"), std::string::npos);
}

TEST(RenderConfig, ParsesBackToTheSameConfigApartFromMaskedSecrets) {
  const Config original = parse(R"(
[http]
listen = [::1]:80
rate_limit = 0.1
tls_listen = 127.0.0.1:443
tls_cert = /c
tls_key = /k
[redis]
address = unix:/run/r.sock
password = pw
[forward]
targets = http://a/x, https://b:1
retry_delays = 1500ms
header = X-Key: v
[mysql]
retention = 36h
)");
  const std::string rendered = render_config(original);
  const Config reparsed = parse(rendered);
  EXPECT_EQ(render_config(reparsed), rendered);
  Config expected = original;
  expected.redis.password = "********";
  expected.forward.header = "X-Key: ********";
  EXPECT_EQ(reparsed, expected);
  EXPECT_EQ(reparsed.http.rate_burst, 1);
  EXPECT_NE(rendered.find("rate_limit = 0.1\nrate_burst = 1\n"), std::string::npos) << rendered;
}

// ---- [locations] ----

TEST(LocationsConfig, ParsesEveryKey) {
  const Config config = parse_config(
      "[locations]\nenabled = true\ngroup = loc\nttl = 2m\nhistory = no\n"
      "history_retention = 7d\nbatch_size = 100\nbatch_interval = 250ms\n"
      "max_radius = 1500m\nmax_route_range = 1d\nosmand_listen = 127.0.0.1:5055\n",
      "test.conf", [](const std::string&) { return std::nullopt; });
  EXPECT_TRUE(config.locations.enabled);
  EXPECT_EQ(config.locations.group, "loc");
  EXPECT_EQ(config.locations.ttl, std::chrono::minutes(2));
  EXPECT_FALSE(config.locations.history);
  EXPECT_EQ(config.locations.history_retention, std::chrono::hours(24 * 7));
  EXPECT_EQ(config.locations.batch_size, 100u);
  EXPECT_EQ(config.locations.batch_interval, std::chrono::milliseconds(250));
  EXPECT_EQ(config.locations.max_radius_m, 1500u);
  EXPECT_EQ(config.locations.max_route_range, std::chrono::hours(24));
  ASSERT_TRUE(config.locations.osmand_listen);
  EXPECT_EQ(config.locations.osmand_listen->port, 5055);
}

TEST(LocationsConfig, RefusesWhatCannotWork) {
  const auto error_of = [](const std::string& text) {
    try {
      parse_config(text, "test.conf", [](const std::string&) { return std::nullopt; });
    } catch (const ConfigError& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  EXPECT_EQ(error_of("[locations]\nenabled = maybe\n"),
            "test.conf:2: invalid value 'maybe' for 'enabled' in [locations]: expected true or "
            "false");
  EXPECT_EQ(error_of("[locations]\nmax_radius = 50\n"),
            "test.conf:2: invalid value '50' for 'max_radius' in [locations]: expected a distance "
            "with a unit: 500m, 50km");
  EXPECT_EQ(error_of("[locations]\nhistory_retention = 12h\n"),
            "test.conf:2: invalid value '12h' for 'history_retention' in [locations]: must be at "
            "least 1d");
  EXPECT_EQ(error_of("[redis]\ngroup = g\n[locations]\nenabled = true\ngroup = g\n"),
            "test.conf:5: group must differ from [redis] group");
  EXPECT_EQ(error_of("[redis]\nstream = s\n[events]\nenabled = true\nvalues_stream = s\n"),
            "test.conf:5: values_stream must differ from [redis] stream");
  EXPECT_EQ(error_of("[http]\nlisten = 127.0.0.1:9000\n[locations]\nosmand_listen = "
                     "127.0.0.1:9000\n"),
            "test.conf:4: osmand_listen must differ from [http] listen and tls_listen");
  EXPECT_EQ(error_of("[locations]\nmap_tiles = https://tile.example/{z}/{x}.png\n"),
            "test.conf:2: invalid value 'https://tile.example/{z}/{x}.png' for 'map_tiles' in "
            "[locations]: 'https://tile.example/{z}/{x}.png' has no {y}");
  EXPECT_EQ(error_of("[locations]\nlive_origins = https://a.example/app\n"),
            "test.conf:2: invalid value 'https://a.example/app' for 'live_origins' in "
            "[locations]: 'https://a.example/app' is not an origin (http:// or https://, a host, "
            "an optional port)");
}

TEST(LocationsConfig, LiveOriginsAndTiles) {
  const Config config = parse_config(
      "[locations]\nlive_origins = https://Dispatch.example.com, http://localhost:8080\n"
      "map_tiles = https://tile.example/{z}/{x}/{y}.png\n",
      "test.conf", [](const std::string&) { return std::nullopt; });
  EXPECT_EQ(config.locations.live_origins,
            (std::vector<std::string>{"https://dispatch.example.com", "http://localhost:8080"}));
  EXPECT_EQ(config.locations.map_tiles, "https://tile.example/{z}/{x}/{y}.png");
}

// ---- [events] ----

TEST(EventsConfig, ValuesKeysHaveTheContractDefaults) {
  const Config config = parse("");
  EXPECT_FALSE(config.events.enabled);
  EXPECT_EQ(config.events.values_stream, "gpsrelay:values");
  EXPECT_EQ(config.events.cache_ttl, std::chrono::minutes(5));
  EXPECT_EQ(config.events.batch_size, 50u);
  EXPECT_EQ(config.events.batch_interval, std::chrono::seconds(2));
}

TEST(EventsConfig, ParsesEveryValuesKey) {
  const Config config = parse_config(
      "[events]\nenabled = true\nvalues_stream = app:values\ncache_ttl = 90s\n"
      "batch_size = 200\nbatch_interval = 500ms\n",
      "test.conf", [](const std::string&) { return std::nullopt; });
  EXPECT_TRUE(config.events.enabled);
  EXPECT_EQ(config.events.values_stream, "app:values");
  EXPECT_EQ(config.events.cache_ttl, std::chrono::seconds(90));
  EXPECT_EQ(config.events.batch_size, 200u);
  EXPECT_EQ(config.events.batch_interval, std::chrono::milliseconds(500));
}

TEST(EventsConfig, EnvironmentOverridesValuesKeys) {
  const Config config =
      parse_config("[events]\nbatch_size = 10\n", "test.conf", [](const std::string& name) {
        if (name == "GPSRELAY_EVENTS_BATCH_SIZE") return std::optional<std::string>("7");
        if (name == "GPSRELAY_EVENTS_CACHE_TTL") return std::optional<std::string>("1h");
        return std::optional<std::string>();
      });
  EXPECT_EQ(config.events.batch_size, 7u);
  EXPECT_EQ(config.events.cache_ttl, std::chrono::hours(1));
}

TEST(EventsConfig, RefusesValuesKeysThatCannotWork) {
  const auto error_of = [](const std::string& text) {
    try {
      parse_config(text, "test.conf", [](const std::string&) { return std::nullopt; });
    } catch (const ConfigError& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  EXPECT_NE(error_of("[events]\nvalues_stream =\n").find("test.conf:2:"), std::string::npos);
  EXPECT_NE(error_of("[events]\nvalues_stream =\n").find("'values_stream' in [events]"),
            std::string::npos);
  for (const char* line :
       {"cache_ttl = 0s", "cache_ttl = 5", "cache_ttl = soon", "batch_interval = 0ms",
        "batch_interval = -1s", "batch_size = 0", "batch_size = 10001", "batch_size = x"}) {
    const std::string error = error_of(std::string("[events]\n") + line + "\n");
    EXPECT_EQ(error.rfind("test.conf:2: invalid value", 0), 0u) << line << ": " << error;
    EXPECT_NE(error.find("in [events]"), std::string::npos) << error;
  }
}

TEST(EventsConfig, ValuesKeysRenderAndParseBack) {
  Config config;
  config.events.enabled = true;
  config.events.values_stream = "v:s";
  config.events.cache_ttl = std::chrono::seconds(30);
  config.events.batch_size = 5;
  config.events.batch_interval = std::chrono::milliseconds(250);
  const std::string rendered = render_config(config);
  EXPECT_NE(rendered.find("[events]\nenabled = true\nvalues_stream = v:s\ncache_ttl = 30s\n"
                          "batch_size = 5\nbatch_interval = 250ms\n"),
            std::string::npos)
      << rendered;
  EXPECT_EQ(parse(rendered), config);
}

TEST(ConfigValues, SentinelKeysDescribeTheHighAvailabilitySetup) {
  const Config defaults = parse("");
  EXPECT_TRUE(defaults.redis.sentinels.empty());
  EXPECT_EQ(defaults.redis.master_name, "mymaster");
  EXPECT_EQ(defaults.redis.min_replicas_acked, 0u);
  EXPECT_EQ(defaults.redis.replica_ack_timeout, std::chrono::milliseconds(100));
  EXPECT_EQ(defaults.redis.primary, nullptr);

  const Config config = parse(
      "[redis]\nsentinels = 10.0.0.1:26379, [fd00::2]:26379 ,sentinel-3:26380\n"
      "master_name = gps\nsentinel_password = s3cret\nmin_replicas_acked = 1\n"
      "replica_ack_timeout = 250ms\n");
  ASSERT_EQ(config.redis.sentinels.size(), 3u);
  EXPECT_EQ(config.redis.sentinels[0], (Endpoint{"10.0.0.1", 26379, ""}));
  EXPECT_EQ(config.redis.sentinels[1], (Endpoint{"fd00::2", 26379, ""}));
  EXPECT_EQ(config.redis.sentinels[2], (Endpoint{"sentinel-3", 26380, ""}));
  EXPECT_EQ(to_string(config.redis.sentinels), "10.0.0.1:26379,[fd00::2]:26379,sentinel-3:26380");
  EXPECT_EQ(config.redis.master_name, "gps");
  EXPECT_EQ(config.redis.sentinel_password, "s3cret");
  EXPECT_EQ(config.redis.min_replicas_acked, 1u);
  EXPECT_EQ(config.redis.replica_ack_timeout, std::chrono::milliseconds(250));
  // Rendered back, it parses to the same values; the password is masked.
  const std::string rendered = render_config(config);
  EXPECT_NE(rendered.find("sentinels = 10.0.0.1:26379,[fd00::2]:26379,sentinel-3:26380"),
            std::string::npos);
  EXPECT_EQ(rendered.find("s3cret"), std::string::npos);
}

TEST(ConfigErrors, BadSentinelKeysNameTheirLine) {
  EXPECT_EQ(error_of("[redis]\nsentinels = 10.0.0.1:26379,,10.0.0.2:26379\n"),
            "gpsrelay.conf:2: invalid value '10.0.0.1:26379,,10.0.0.2:26379' for 'sentinels' in "
            "[redis]: empty entry in the comma-separated list");
  EXPECT_NE(error_of("[redis]\n\nsentinels = unix:/run/sentinel.sock\n").find("gpsrelay.conf:3:"),
            std::string::npos);
  EXPECT_NE(error_of("[redis]\nsentinels = sentinel-1\n").find("gpsrelay.conf:2:"),
            std::string::npos);
  EXPECT_NE(error_of("[redis]\nmaster_name =\n").find("gpsrelay.conf:2:"), std::string::npos);
  EXPECT_NE(error_of("[redis]\nmin_replicas_acked = -1\n").find("gpsrelay.conf:2:"),
            std::string::npos);
  EXPECT_NE(error_of("[redis]\nreplica_ack_timeout = 0\n").find("gpsrelay.conf:2:"),
            std::string::npos);
}

TEST(ConfigValues, SentinelsComeFromTheEnvironmentToo) {
  const Config config = parse("[redis]\nsentinels = 10.0.0.1:26379\n",
                              environment({{"GPSRELAY_REDIS_SENTINELS", "127.0.0.1:1,127.0.0.1:2"},
                                           {"GPSRELAY_REDIS_MIN_REPLICAS_ACKED", "2"}}));
  ASSERT_EQ(config.redis.sentinels.size(), 2u);
  EXPECT_EQ(config.redis.sentinels[1].port, 2);
  EXPECT_EQ(config.redis.min_replicas_acked, 2u);
}

}  // namespace
}  // namespace gpsrelay::core
