// The key table of gpsrelay.conf (see config_keys.h).
#include "core/config_keys.h"

#include <algorithm>
#include <array>
#include <cstdint>
#include <iterator>
#include <limits>
#include <utility>

#include "core/units.h"

namespace gpsrelay::core::config_internal {
namespace {

constexpr std::string_view kMask = "********";

// Bounds that keep every value usable by its consumer without further
// checks: a body fits in one Redis bulk string (proto-max-bulk-len defaults
// to 512 MiB), and counts stay sane.
constexpr std::uint64_t kMaxBodyBytes = 512 * 1024 * 1024;
constexpr unsigned kMaxThreads = 1024;
constexpr unsigned kMaxConcurrency = 1000000;
// A batch is one request body held in memory and sent whole: batch_max
// times http.max_body_size at most.
constexpr unsigned kMaxForwardBatch = 1000;
constexpr std::uint64_t kMaxConnections = 1000000;
constexpr std::uint64_t kMaxInflightBytes = 64ULL * 1024 * 1024 * 1024;
// A multi-row INSERT of this many rows stays far below max_allowed_packet.
// (user_values rows can be large: the value store splits its INSERTs by size.)
constexpr unsigned kMaxHistoryBatch = 10000;
// Half the Earth's circumference: every point is within it.
constexpr std::uint64_t kMaxRadiusMetres = 20000000;
// More replicas than any real deployment; WAIT itself takes any count.
constexpr unsigned kMaxReplicas = 100;

constexpr Choices<std::string_view, 2> kTlsVersions{{{"1.2", "1.2"}, {"1.3", "1.3"}}};
constexpr Choices<AuthConfig::Mode, 2> kAuthModes{
    {{"none", AuthConfig::Mode::kNone}, {"token", AuthConfig::Mode::kToken}}};
constexpr Choices<ForwardConfig::Http2, 3> kHttp2Modes{
    {{"auto", ForwardConfig::Http2::kAuto},
     {"off", ForwardConfig::Http2::kOff},
     {"prior-knowledge", ForwardConfig::Http2::kPriorKnowledge}}};
constexpr Choices<LogConfig::Level, 4> kLogLevels{{{"debug", LogConfig::Level::kDebug},
                                                   {"info", LogConfig::Level::kInfo},
                                                   {"warning", LogConfig::Level::kWarning},
                                                   {"error", LogConfig::Level::kError}}};
constexpr Choices<LogConfig::Target, 3> kLogTargets{{{"auto", LogConfig::Target::kAuto},
                                                     {"journal", LogConfig::Target::kJournal},
                                                     {"stderr", LogConfig::Target::kStderr}}};

// Secrets are rendered through one of these. The header keeps its name, so
// that --check-config shows which header is sent and its output still parses.
std::string mask_all(std::string_view) { return std::string(kMask); }
std::string mask_header_value(std::string_view header) {
  return std::string(header.substr(0, header.find(':'))) + ": " + std::string(kMask);
}

using Ctx = ValueContext;

// A thread count; 0 = one per CPU.
unsigned parse_threads(std::string_view value) {
  const unsigned threads = parse_integer<unsigned>(value, 0, kMaxThreads);
  return threads == 0 ? default_thread_count() : threads;
}

constexpr KeySpec kKeys[] = {
    {"http", "listen", nullptr,
     [](const Ctx&, std::string_view v, Config& c) { c.http.listen = parse_endpoint(v, false); },
     [](const Config& c) { return c.http.listen.to_string(); }},
    {"http", "threads", nullptr,
     [](const Ctx&, std::string_view v, Config& c) { c.http.threads = parse_threads(v); },
     [](const Config& c) { return std::to_string(c.http.threads); }},
    {"http", "max_body_size", nullptr,
     [](const Ctx&, std::string_view v, Config& c) {
       c.http.max_body_bytes = parse_size_value(v, 1, kMaxBodyBytes);
     },
     [](const Config& c) { return format_size(c.http.max_body_bytes); }},
    {"http", "request_timeout", nullptr,
     [](const Ctx&, std::string_view v, Config& c) {
       c.http.request_timeout = parse_duration_value(v, false);
     },
     [](const Config& c) { return format_duration(c.http.request_timeout); }},
    {"http", "keepalive_timeout", nullptr,
     [](const Ctx&, std::string_view v, Config& c) {
       c.http.keepalive_timeout = parse_duration_value(v, false);
     },
     [](const Config& c) { return format_duration(c.http.keepalive_timeout); }},
    {"http", "max_connections", nullptr,
     [](const Ctx&, std::string_view v, Config& c) {
       c.http.max_connections = parse_integer<std::uint64_t>(v, 1, kMaxConnections);
     },
     [](const Config& c) { return std::to_string(c.http.max_connections); }},
    {"http", "max_inflight_bytes", nullptr,
     [](const Ctx&, std::string_view v, Config& c) {
       c.http.max_inflight_bytes = parse_size_value(v, 1, kMaxInflightBytes);
     },
     [](const Config& c) { return format_size(c.http.max_inflight_bytes); }},
    {"http", "rate_limit", nullptr,
     [](const Ctx&, std::string_view v, Config& c) { c.http.rate_limit = parse_rate(v); },
     [](const Config& c) { return format_rate(c.http.rate_limit); }},
    {"http", "rate_burst", nullptr,
     [](const Ctx&, std::string_view v, Config& c) {
       const double burst = parse_rate(v);
       // A bucket that cannot hold one token would refuse every request.
       if (burst > 0 && burst < 1) throw ValueError("must be 0 or at least 1");
       c.http.rate_burst = burst;
     },
     [](const Config& c) { return format_rate(c.http.rate_burst); }},
    {"http", "tls_listen", nullptr,
     [](const Ctx&, std::string_view v, Config& c) {
       c.http.tls_listen = parse_optional_endpoint(v);
     },
     [](const Config& c) { return render_optional_endpoint(c.http.tls_listen); }},
    {"http", "tls_cert", nullptr,
     [](const Ctx& x, std::string_view v, Config& c) { c.http.tls_cert = parse_path(x, v); },
     [](const Config& c) { return c.http.tls_cert; }},
    {"http", "tls_key", nullptr,
     [](const Ctx& x, std::string_view v, Config& c) { c.http.tls_key = parse_path(x, v); },
     [](const Config& c) { return c.http.tls_key; }},
    {"http", "tls_min_version", nullptr,
     [](const Ctx&, std::string_view v, Config& c) {
       c.http.tls_min_version = parse_choice(v, kTlsVersions);
     },
     [](const Config& c) { return c.http.tls_min_version; }},

    {"auth", "mode", nullptr,
     [](const Ctx&, std::string_view v, Config& c) { c.auth.mode = parse_choice(v, kAuthModes); },
     [](const Config& c) { return render_choice(c.auth.mode, kAuthModes); }},
    {"auth", "tokens_file", nullptr,
     [](const Ctx& x, std::string_view v, Config& c) { c.auth.tokens_file = parse_path(x, v); },
     [](const Config& c) { return c.auth.tokens_file; }},
    {"auth", "read_tokens_file", nullptr,
     [](const Ctx& x, std::string_view v, Config& c) {
       c.auth.read_tokens_file = parse_path(x, v);
     },
     [](const Config& c) { return c.auth.read_tokens_file; }},

    {"redis", "address", nullptr,
     [](const Ctx&, std::string_view v, Config& c) { c.redis.address = parse_endpoint(v, true); },
     [](const Config& c) { return c.redis.address.to_string(); }},
    {"redis", "password", mask_all,
     [](const Ctx&, std::string_view v, Config& c) { c.redis.password = parse_password(v); },
     [](const Config& c) { return c.redis.password; }},
    {"redis", "db", nullptr,
     [](const Ctx&, std::string_view v, Config& c) {
       c.redis.db = parse_integer<int>(v, 0, std::numeric_limits<int>::max());
     },
     [](const Config& c) { return std::to_string(c.redis.db); }},
    {"redis", "stream", nullptr,
     [](const Ctx&, std::string_view v, Config& c) { c.redis.stream = parse_non_empty(v); },
     [](const Config& c) { return c.redis.stream; }},
    {"redis", "group", nullptr,
     [](const Ctx&, std::string_view v, Config& c) { c.redis.group = parse_non_empty(v); },
     [](const Config& c) { return c.redis.group; }},
    {"redis", "max_queue_length", nullptr,
     [](const Ctx&, std::string_view v, Config& c) {
       c.redis.max_queue_length =
           parse_integer<std::uint64_t>(v, 1, std::numeric_limits<std::uint64_t>::max());
     },
     [](const Config& c) { return std::to_string(c.redis.max_queue_length); }},
    {"redis", "command_timeout", nullptr,
     [](const Ctx&, std::string_view v, Config& c) {
       c.redis.command_timeout = parse_duration_value(v, false);
     },
     [](const Config& c) { return format_duration(c.redis.command_timeout); }},
    {"redis", "idempotency_ttl", nullptr,
     [](const Ctx&, std::string_view v, Config& c) {
       c.redis.idempotency_ttl = parse_duration_value(v, false);
     },
     [](const Config& c) { return format_duration(c.redis.idempotency_ttl); }},
    {"redis", "sentinels", nullptr,
     [](const Ctx&, std::string_view v, Config& c) { c.redis.sentinels = parse_endpoint_list(v); },
     [](const Config& c) { return to_string(c.redis.sentinels); }},
    {"redis", "master_name", nullptr,
     [](const Ctx&, std::string_view v, Config& c) { c.redis.master_name = parse_non_empty(v); },
     [](const Config& c) { return c.redis.master_name; }},
    {"redis", "sentinel_password", mask_all,
     [](const Ctx&, std::string_view v, Config& c) {
       c.redis.sentinel_password = parse_password(v);
     },
     [](const Config& c) { return c.redis.sentinel_password; }},
    {"redis", "min_replicas_acked", nullptr,
     [](const Ctx&, std::string_view v, Config& c) {
       c.redis.min_replicas_acked = parse_integer<unsigned>(v, 0, kMaxReplicas);
     },
     [](const Config& c) { return std::to_string(c.redis.min_replicas_acked); }},
    {"redis", "replica_ack_timeout", nullptr,
     [](const Ctx&, std::string_view v, Config& c) {
       c.redis.replica_ack_timeout = parse_duration_value(v, false);
     },
     [](const Config& c) { return format_duration(c.redis.replica_ack_timeout); }},

    {"forward", "targets", nullptr,
     [](const Ctx&, std::string_view v, Config& c) { c.forward.targets = parse_targets(v); },
     [](const Config& c) { return join(c.forward.targets); }},
    {"forward", "threads", nullptr,
     [](const Ctx&, std::string_view v, Config& c) { c.forward.threads = parse_threads(v); },
     [](const Config& c) { return std::to_string(c.forward.threads); }},
    {"forward", "concurrency", nullptr,
     [](const Ctx&, std::string_view v, Config& c) {
       c.forward.concurrency = parse_integer<unsigned>(v, 1, kMaxConcurrency);
     },
     [](const Config& c) { return std::to_string(c.forward.concurrency); }},
    {"forward", "batch_max", nullptr,
     [](const Ctx&, std::string_view v, Config& c) {
       c.forward.batch_max = parse_integer<unsigned>(v, 1, kMaxForwardBatch);
     },
     [](const Config& c) { return std::to_string(c.forward.batch_max); }},
    {"forward", "batch_max_bytes", nullptr,
     [](const Ctx&, std::string_view v, Config& c) {
       c.forward.batch_max_bytes = parse_size_value(v, 1, kMaxBodyBytes);
     },
     [](const Config& c) { return format_size(c.forward.batch_max_bytes); }},
    {"forward", "timeout", nullptr,
     [](const Ctx&, std::string_view v, Config& c) {
       c.forward.timeout = parse_duration_value(v, false);
     },
     [](const Config& c) { return format_duration(c.forward.timeout); }},
    {"forward", "retry_delays", nullptr,
     [](const Ctx&, std::string_view v, Config& c) {
       c.forward.retry_delays = parse_duration_list(v);
     },
     [](const Config& c) { return render_durations(c.forward.retry_delays); }},
    {"forward", "health_path", nullptr,
     [](const Ctx&, std::string_view v, Config& c) {
       c.forward.health_path = parse_health_path(v);
     },
     [](const Config& c) { return c.forward.health_path; }},
    {"forward", "health_interval", nullptr,
     [](const Ctx&, std::string_view v, Config& c) {
       c.forward.health_interval = parse_duration_value(v, false);
     },
     [](const Config& c) { return format_duration(c.forward.health_interval); }},
    {"forward", "breaker_failures", nullptr,
     [](const Ctx&, std::string_view v, Config& c) {
       c.forward.breaker_failures = parse_integer<unsigned>(v, 1, kMaxConcurrency);
     },
     [](const Config& c) { return std::to_string(c.forward.breaker_failures); }},
    {"forward", "breaker_cooldown", nullptr,
     [](const Ctx&, std::string_view v, Config& c) {
       c.forward.breaker_cooldown = parse_duration_value(v, false);
     },
     [](const Config& c) { return format_duration(c.forward.breaker_cooldown); }},
    {"forward", "claim_idle", nullptr,
     [](const Ctx&, std::string_view v, Config& c) {
       c.forward.claim_idle = parse_duration_value(v, false);
     },
     [](const Config& c) { return format_duration(c.forward.claim_idle); }},
    {"forward", "ca_file", nullptr,
     [](const Ctx& x, std::string_view v, Config& c) { c.forward.ca_file = parse_path(x, v); },
     [](const Config& c) { return c.forward.ca_file; }},
    {"forward", "header", mask_header_value,
     [](const Ctx&, std::string_view v, Config& c) { c.forward.header = parse_header(v); },
     [](const Config& c) { return c.forward.header; }},
    {"forward", "http2", nullptr,
     [](const Ctx&, std::string_view v, Config& c) {
       c.forward.http2 = parse_choice(v, kHttp2Modes);
     },
     [](const Config& c) { return render_choice(c.forward.http2, kHttp2Modes); }},

    {"mysql", "host", nullptr,
     [](const Ctx&, std::string_view v, Config& c) {
       if (std::any_of(v.begin(), v.end(), is_space)) throw ValueError("contains whitespace");
       c.mysql.host = parse_non_empty(v);
     },
     [](const Config& c) { return c.mysql.host; }},
    {"mysql", "port", nullptr,
     [](const Ctx&, std::string_view v, Config& c) {
       c.mysql.port = parse_integer<std::uint16_t>(v, 1, 65535);
     },
     [](const Config& c) { return std::to_string(c.mysql.port); }},
    {"mysql", "socket", nullptr,
     [](const Ctx&, std::string_view v, Config& c) { c.mysql.socket = parse_socket_path(v); },
     [](const Config& c) { return c.mysql.socket; }},
    {"mysql", "user", nullptr,
     [](const Ctx&, std::string_view v, Config& c) { c.mysql.user = parse_non_empty(v); },
     [](const Config& c) { return c.mysql.user; }},
    {"mysql", "password", mask_all,
     [](const Ctx&, std::string_view v, Config& c) { c.mysql.password = parse_password(v); },
     [](const Config& c) { return c.mysql.password; }},
    {"mysql", "database", nullptr,
     [](const Ctx&, std::string_view v, Config& c) { c.mysql.database = parse_non_empty(v); },
     [](const Config& c) { return c.mysql.database; }},
    {"mysql", "retention", nullptr,
     [](const Ctx&, std::string_view v, Config& c) {
       c.mysql.retention = parse_duration_value(v, false);
     },
     [](const Config& c) { return format_duration(c.mysql.retention); }},

    {"locations", "enabled", nullptr,
     [](const Ctx&, std::string_view v, Config& c) { c.locations.enabled = parse_bool(v); },
     [](const Config& c) { return render_bool(c.locations.enabled); }},
    {"locations", "group", nullptr,
     [](const Ctx&, std::string_view v, Config& c) { c.locations.group = parse_non_empty(v); },
     [](const Config& c) { return c.locations.group; }},
    {"locations", "ttl", nullptr,
     [](const Ctx&, std::string_view v, Config& c) {
       c.locations.ttl = parse_duration_value(v, false);
     },
     [](const Config& c) { return format_duration(c.locations.ttl); }},
    {"locations", "history", nullptr,
     [](const Ctx&, std::string_view v, Config& c) { c.locations.history = parse_bool(v); },
     [](const Config& c) { return render_bool(c.locations.history); }},
    {"locations", "history_retention", nullptr,
     [](const Ctx&, std::string_view v, Config& c) {
       // History is dropped a day at a time.
       c.locations.history_retention = parse_duration_value(v, false);
       if (c.locations.history_retention < std::chrono::hours(24)) {
         throw ValueError("must be at least 1d");
       }
     },
     [](const Config& c) { return format_duration(c.locations.history_retention); }},
    {"locations", "batch_size", nullptr,
     [](const Ctx&, std::string_view v, Config& c) {
       c.locations.batch_size = parse_integer<unsigned>(v, 1, kMaxHistoryBatch);
     },
     [](const Config& c) { return std::to_string(c.locations.batch_size); }},
    {"locations", "batch_interval", nullptr,
     [](const Ctx&, std::string_view v, Config& c) {
       c.locations.batch_interval = parse_duration_value(v, false);
     },
     [](const Config& c) { return format_duration(c.locations.batch_interval); }},
    {"locations", "max_radius", nullptr,
     [](const Ctx&, std::string_view v, Config& c) {
       c.locations.max_radius_m = parse_distance_value(v, 1, kMaxRadiusMetres);
     },
     [](const Config& c) { return format_distance(c.locations.max_radius_m); }},
    {"locations", "max_route_range", nullptr,
     [](const Ctx&, std::string_view v, Config& c) {
       c.locations.max_route_range = parse_duration_value(v, false);
     },
     [](const Config& c) { return format_duration(c.locations.max_route_range); }},
    {"locations", "osmand_listen", nullptr,
     [](const Ctx&, std::string_view v, Config& c) {
       c.locations.osmand_listen = parse_optional_endpoint(v);
     },
     [](const Config& c) { return render_optional_endpoint(c.locations.osmand_listen); }},
    {"locations", "live_max_clients", nullptr,
     [](const Ctx&, std::string_view v, Config& c) {
       c.locations.live_max_clients = parse_integer<std::uint64_t>(v, 1, kMaxConnections);
     },
     [](const Config& c) { return std::to_string(c.locations.live_max_clients); }},
    {"locations", "live_origins", nullptr,
     [](const Ctx&, std::string_view v, Config& c) { c.locations.live_origins = parse_origins(v); },
     [](const Config& c) { return join(c.locations.live_origins); }},
    {"locations", "map_tiles", nullptr,
     [](const Ctx&, std::string_view v, Config& c) { c.locations.map_tiles = parse_tile_url(v); },
     [](const Config& c) { return c.locations.map_tiles; }},

    {"topics", "enabled", nullptr,
     [](const Ctx&, std::string_view v, Config& c) { c.topics.enabled = parse_bool(v); },
     [](const Config& c) { return render_bool(c.topics.enabled); }},
    {"topics", "prefix", nullptr,
     [](const Ctx&, std::string_view v, Config& c) {
       // Part of every key name: a space would split a key in redis-cli.
       if (std::any_of(v.begin(), v.end(), is_space)) throw ValueError("contains whitespace");
       c.topics.prefix = parse_non_empty(v);
     },
     [](const Config& c) { return c.topics.prefix; }},
    {"topics", "retention", nullptr,
     [](const Ctx&, std::string_view v, Config& c) {
       c.topics.retention = parse_duration_value(v, false);
     },
     [](const Config& c) { return format_duration(c.topics.retention); }},
    {"topics", "visibility_timeout", nullptr,
     [](const Ctx&, std::string_view v, Config& c) {
       c.topics.visibility_timeout = parse_duration_value(v, false);
     },
     [](const Config& c) { return format_duration(c.topics.visibility_timeout); }},
    {"topics", "max_retries", nullptr,
     [](const Ctx&, std::string_view v, Config& c) {
       c.topics.max_retries = parse_integer<unsigned>(v, 1, 1000);
     },
     [](const Config& c) { return std::to_string(c.topics.max_retries); }},
    {"topics", "max_poll_records", nullptr,
     [](const Ctx&, std::string_view v, Config& c) {
       c.topics.max_poll_records = parse_integer<unsigned>(v, 1, 10000);
     },
     [](const Config& c) { return std::to_string(c.topics.max_poll_records); }},
    {"topics", "session_timeout", nullptr,
     [](const Ctx&, std::string_view v, Config& c) {
       c.topics.session_timeout = parse_duration_value(v, false);
     },
     [](const Config& c) { return format_duration(c.topics.session_timeout); }},

    {"events", "enabled", nullptr,
     [](const Ctx&, std::string_view v, Config& c) { c.events.enabled = parse_bool(v); },
     [](const Config& c) { return render_bool(c.events.enabled); }},
    {"events", "values_stream", nullptr,
     [](const Ctx&, std::string_view v, Config& c) { c.events.values_stream = parse_non_empty(v); },
     [](const Config& c) { return c.events.values_stream; }},
    {"events", "cache_ttl", nullptr,
     [](const Ctx&, std::string_view v, Config& c) {
       c.events.cache_ttl = parse_duration_value(v, false);
     },
     [](const Config& c) { return format_duration(c.events.cache_ttl); }},
    {"events", "batch_size", nullptr,
     [](const Ctx&, std::string_view v, Config& c) {
       c.events.batch_size = parse_integer<unsigned>(v, 1, kMaxHistoryBatch);
     },
     [](const Config& c) { return std::to_string(c.events.batch_size); }},
    {"events", "batch_interval", nullptr,
     [](const Ctx&, std::string_view v, Config& c) {
       c.events.batch_interval = parse_duration_value(v, false);
     },
     [](const Config& c) { return format_duration(c.events.batch_interval); }},

    {"grpc", "listen", nullptr,
     [](const Ctx&, std::string_view v, Config& c) { c.grpc.listen = parse_optional_endpoint(v); },
     [](const Config& c) { return render_optional_endpoint(c.grpc.listen); }},
    {"grpc", "tls", nullptr,
     [](const Ctx&, std::string_view v, Config& c) { c.grpc.tls = parse_bool(v); },
     [](const Config& c) { return render_bool(c.grpc.tls); }},

    {"log", "level", nullptr,
     [](const Ctx&, std::string_view v, Config& c) { c.log.level = parse_choice(v, kLogLevels); },
     [](const Config& c) { return render_choice(c.log.level, kLogLevels); }},
    {"log", "target", nullptr,
     [](const Ctx&, std::string_view v, Config& c) { c.log.target = parse_choice(v, kLogTargets); },
     [](const Config& c) { return render_choice(c.log.target, kLogTargets); }},
};

}  // namespace

std::span<const KeySpec> config_keys() { return kKeys; }

bool is_section(std::string_view name) {
  return std::any_of(std::begin(kKeys), std::end(kKeys),
                     [&](const KeySpec& spec) { return spec.section == name; });
}

const KeySpec* find_key(std::string_view section, std::string_view name) {
  for (const KeySpec& spec : kKeys) {
    if (spec.section == section && spec.name == name) return &spec;
  }
  return nullptr;
}

}  // namespace gpsrelay::core::config_internal
