// The daemon's configuration: every key of gpsrelay.conf as a typed value.
//
// Owns reading the file, the GPSRELAY_<SECTION>_<KEY> environment overrides,
// the *_file secrets, validation with "FILE:LINE: message" errors, and the
// rendering for --check-config. A Config that load_config() returns is
// complete and valid: defaults are filled in, "0 = automatic" values are
// resolved, relative file paths are made absolute. It does not open
// listeners, check that a certificate parses or that a host resolves; the
// components that use a value find out whether it works.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace gpsrelay::core {

// Where to connect or listen: either host:port, or a Unix socket path.
struct Endpoint {
  std::string host;  // Without brackets, also for IPv6 ("::").
  std::uint16_t port = 0;
  std::string unix_path;  // Set only for "unix:/path"; then host is empty, port 0.

  // "host:port", "[v6]:port" or "unix:/path": the text that parses back to this.
  std::string to_string() const;
  bool operator==(const Endpoint&) const = default;
};
// "a:1,b:2": the form of a list of endpoints in the config file.
std::string to_string(const std::vector<Endpoint>& endpoints);

class RedisPrimary;

// Number of event-loop threads when the config says 0: one per CPU, at least 1.
unsigned default_thread_count();

struct HttpConfig {
  Endpoint listen{"0.0.0.0", 8080, ""};
  unsigned threads = default_thread_count();  // Never 0 once loaded.
  std::uint64_t max_body_bytes = 1024 * 1024;
  // Deadline for one request's headers and body, from its first byte.
  std::chrono::milliseconds request_timeout{5000};
  // Idle time allowed on a connection between requests.
  std::chrono::milliseconds keepalive_timeout{60000};
  std::uint64_t max_connections = 20000;  // Per listener; >= 1.
  // All request bodies being read at once, across threads; >= max_body_bytes.
  std::uint64_t max_inflight_bytes = 256ULL * 1024 * 1024;
  double rate_limit = 0;  // Requests per second per client IP; 0 = off.
  double rate_burst = 0;  // 0 only while rate_limit is 0; else >= 1.
  std::optional<Endpoint> tls_listen;
  std::string tls_cert;  // Both set whenever tls_listen is.
  std::string tls_key;
  std::string tls_min_version = "1.2";  // "1.2" or "1.3".
  bool operator==(const HttpConfig&) const = default;
};

struct AuthConfig {
  enum class Mode { kNone, kToken };
  Mode mode = Mode::kNone;
  std::string tokens_file;  // Set whenever mode is kToken.
  // Tokens for the read APIs (locations); empty = reads are open.
  std::string read_tokens_file;
  bool operator==(const AuthConfig&) const = default;
};

struct RedisConfig {
  Endpoint address{"127.0.0.1", 6379, ""};  // host:port or a Unix socket.
  std::string password;                     // Secret; empty = no AUTH.
  int db = 0;
  std::string stream = "gps:reports";
  std::string group = "gpsrelay";
  std::uint64_t max_queue_length = 1000000;  // >= 1.
  // A command unanswered this long fails and the connection is reset.
  std::chrono::milliseconds command_timeout{1000};
  std::chrono::milliseconds idempotency_ttl{24LL * 60 * 60 * 1000};
  // Set = the primary is found through these Redis Sentinels (and followed
  // across failovers) and `address` is not used.
  std::vector<Endpoint> sentinels;
  std::string master_name = "mymaster";  // Non-empty.
  std::string sentinel_password;         // Secret; empty = no AUTH at the sentinels.
  // > 0: a write is answered only once this many replicas have it (WAIT).
  unsigned min_replicas_acked = 0;
  std::chrono::milliseconds replica_ack_timeout{100};  // > 0.
  // Not a key: where the primary is now, while sentinels are configured.
  // The daemon sets it before any connection starts (queue/redis_primary.h);
  // null = connect to `address`.
  std::shared_ptr<RedisPrimary> primary;
  bool operator==(const RedisConfig&) const = default;
};

struct ForwardConfig {
  std::vector<std::string> targets;           // http:// or https:// URLs; may be empty.
  unsigned threads = default_thread_count();  // Delivery loops; never 0 once loaded.
  unsigned concurrency = 256;                 // In flight, all loops together.
  unsigned batch_max = 1;  // Reports per request, 1..1000; 1 = one JSON object per POST.
  // A batch's body at most; a report larger than that still goes, alone.
  std::uint64_t batch_max_bytes = 1024 * 1024;
  std::chrono::milliseconds timeout{30000};
  // One retry after each delay; empty = the first attempt is the only one.
  std::vector<std::chrono::milliseconds> retry_delays{
      std::chrono::seconds(5), std::chrono::seconds(10), std::chrono::seconds(10),
      std::chrono::seconds(10), std::chrono::seconds(10)};
  std::string health_path;  // Empty or starting with '/'.
  std::chrono::milliseconds health_interval{10000};
  unsigned breaker_failures = 5;
  std::chrono::milliseconds breaker_cooldown{30000};
  std::chrono::milliseconds claim_idle{60000};
  std::string ca_file;  // Empty = the system trust store.
  std::string header;   // Secret; empty or "Name: value" without CR/LF.
  // HTTP version to the targets. kAuto: HTTP/2 where TLS's ALPN agrees on
  // it, HTTP/1.1 otherwise; kPriorKnowledge: HTTP/2 from the first byte,
  // also over cleartext (h2c); kOff: HTTP/1.1 only, the default (see
  // docs/operations.md for what HTTP/2 costs with Debian 12's libcurl).
  enum class Http2 { kAuto, kOff, kPriorKnowledge };
  Http2 http2 = Http2::kOff;
  bool operator==(const ForwardConfig&) const = default;
};

struct MysqlConfig {
  std::string host = "127.0.0.1";
  std::uint16_t port = 3306;
  std::string socket;  // Absolute path or empty.
  std::string user = "gpsrelay";
  std::string password;  // Secret.
  std::string database = "gpsrelay";
  std::chrono::milliseconds retention{30LL * 24 * 60 * 60 * 1000};
  bool operator==(const MysqlConfig&) const = default;
};

// [locations]: the location service (src/locations/). Off by default.
struct LocationsConfig {
  bool enabled = false;
  std::string group = "locations";  // Consumer group on redis.stream; != redis.group.
  std::chrono::milliseconds ttl{5LL * 60 * 1000};  // A current location expires after this.
  bool history = true;                             // Every location into driver_locations.
  std::chrono::milliseconds history_retention{90LL * 24 * 60 * 60 * 1000};  // >= 1 day
  unsigned batch_size = 500;                       // History rows per transaction at most.
  std::chrono::milliseconds batch_interval{1000};  // A partial batch waits at most this.
  std::uint64_t max_radius_m = 50000;              // Largest nearby radius, metres.
  std::chrono::milliseconds max_route_range{7LL * 24 * 60 * 60 * 1000};  // Route query span.
  std::optional<Endpoint> osmand_listen;   // Extra OsmAnd listener; empty = none.
  std::uint64_t live_max_clients = 20000;  // Live (WebSocket + SSE) subscribers; >= 1.
  std::vector<std::string> live_origins;   // WebSocket Origins allowed; empty = any.
  std::string map_tiles;                   // /map's tile URL template; empty = grid only.
  bool operator==(const LocationsConfig&) const = default;
};

// [topics]: the pull-consumer queue API (src/topics/). Off by default.
struct TopicsConfig {
  bool enabled = false;
  std::string prefix = "gpsrelay:topic:";  // Redis keys of topics start with this.
  std::chrono::milliseconds retention{7LL * 24 * 60 * 60 * 1000};  // Default per topic.
  std::chrono::milliseconds visibility_timeout{30000};  // Polled, unacked: delivered again.
  unsigned max_retries = 3;                             // Deliveries before the DLQ.
  unsigned max_poll_records = 500;                      // Most messages one poll returns.
  std::chrono::milliseconds session_timeout{30000};     // A silent consumer is removed.
  bool operator==(const TopicsConfig&) const = default;
};

// [events]: the entity-event API and the write-behind values
// (src/events/). Off by default.
struct EventsConfig {
  bool enabled = false;
  std::string values_stream = "gpsrelay:values";  // POST /write appends here; cache keys too.
  std::chrono::milliseconds cache_ttl{5LL * 60 * 1000};  // A cached value expires after this.
  unsigned batch_size = 50;                        // user_values rows per transaction at most.
  std::chrono::milliseconds batch_interval{2000};  // A partial batch waits at most this.
  bool operator==(const EventsConfig&) const = default;
};

// [grpc]: the gRPC services (src/grpc/). Off while listen is unset.
struct GrpcConfig {
  std::optional<Endpoint> listen;  // host:port; empty = no gRPC server.
  bool tls = false;                // true: TLS with [http] tls_cert and tls_key.
  bool operator==(const GrpcConfig&) const = default;
};

// Where `mysql` says MySQL is, for messages and /health: "unix:/path" when
// a socket is set (the connector then ignores host and port), else
// "host:port", with an IPv6 host in brackets.
std::string mysql_address(const MysqlConfig& mysql);

struct LogConfig {
  enum class Level { kDebug, kInfo, kWarning, kError };
  enum class Target { kAuto, kJournal, kStderr };
  Level level = Level::kInfo;
  Target target = Target::kAuto;
  bool operator==(const LogConfig&) const = default;
};

struct Config {
  HttpConfig http;
  AuthConfig auth;
  RedisConfig redis;
  ForwardConfig forward;
  MysqlConfig mysql;
  LocationsConfig locations;
  TopicsConfig topics;
  EventsConfig events;
  GrpcConfig grpc;
  LogConfig log;
  bool operator==(const Config&) const = default;
};

// A configuration that cannot be used. what() is "FILE:LINE: message" for a
// line of the file, "FILE: message" for the file as a whole, and
// "environment GPSRELAY_X_Y: message" for an override; --check-config prints
// it as is.
class ConfigError : public std::runtime_error {
 public:
  ConfigError(const std::string& where, const std::string& message);

  const std::string& where() const { return where_; }
  const std::string& message() const { return message_; }

 private:
  std::string where_;
  std::string message_;
};

// Environment lookup is injected so tests need not touch the real environment.
// Returns nullopt for an unset variable; a set but empty one is "".
using EnvLookup = std::function<std::optional<std::string>(const std::string& name)>;

// std::getenv. Not thread-safe against setenv(); use it before starting threads.
EnvLookup process_environment();

// Reads and validates the file at `path`, then applies the environment
// overrides. Relative paths in the file (tls_cert, tokens_file, *_file, ...)
// are taken relative to the file's directory, because a daemon's working
// directory is "/" and says nothing about where the operator meant.
// Throws ConfigError on the first problem, in file order, then env order.
Config load_config(const std::string& path, const EnvLookup& env);

// Same as load_config() for a file named `origin_name` whose contents are
// `text`: error messages and relative paths use `origin_name`.
Config parse_config(std::string_view text, const std::string& origin_name, const EnvLookup& env);

// The effective configuration as INI text: every key of every section, in
// the order of the shipped file, secrets (passwords, header) written as
// "********" when set. Parsing the result again yields the same rendering.
std::string render_config(const Config& config);

}  // namespace gpsrelay::core
