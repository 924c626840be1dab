// gpsrelayd lifecycle (see daemon.h).
#include "daemon/daemon.h"

#include <malloc.h>
#include <signal.h>
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <stdexcept>

#include "core/log.h"
#include "daemon/modules.h"

namespace gpsrelay::daemon {
namespace {

constexpr std::chrono::milliseconds kSupervisorInterval{100};

core::LogLevel to_log_level(core::LogConfig::Level level) {
  switch (level) {
    case core::LogConfig::Level::kDebug:
      return core::LogLevel::kDebug;
    case core::LogConfig::Level::kInfo:
      return core::LogLevel::kInfo;
    case core::LogConfig::Level::kWarning:
      return core::LogLevel::kWarning;
    case core::LogConfig::Level::kError:
      return core::LogLevel::kError;
  }
  return core::LogLevel::kInfo;
}

core::LogTarget to_log_target(core::LogConfig::Target target) {
  switch (target) {
    case core::LogConfig::Target::kJournal:
      return core::LogTarget::kJournal;
    case core::LogConfig::Target::kStderr:
      return core::LogTarget::kStderr;
    case core::LogConfig::Target::kAuto:
      return core::LogTarget::kAuto;
  }
  return core::LogTarget::kAuto;
}

// Stable across restarts of the same instance, so it finds its own pending
// entries again; distinct for instances on one host (they listen on
// different ports).
std::string consumer_name(const core::Config& config) {
  char host[256] = {};
  if (gethostname(host, sizeof host - 1) != 0) std::snprintf(host, sizeof host, "localhost");
  return std::string(host) + "-" + std::to_string(config.http.listen.port);
}

// Connections are file descriptors: raise the soft limit to the hard one
// (systemd's default soft limit is 1024; the unit sets LimitNOFILE), and
// say so when http.max_connections cannot be reached under it. Beyond the
// limit the listeners pause (http/accept_guard.h) instead of failing.
void check_file_limit(const core::Config& config) {
  const core::HttpConfig& http = config.http;
  rlimit limit{};
  if (getrlimit(RLIMIT_NOFILE, &limit) != 0) return;
  if (limit.rlim_cur < limit.rlim_max) {
    limit.rlim_cur = limit.rlim_max;
    setrlimit(RLIMIT_NOFILE, &limit);
    getrlimit(RLIMIT_NOFILE, &limit);
  }
  // Redis, MySQL, curl and libevent's own descriptors: a few per thread.
  constexpr std::uint64_t kReserve = 256;
  const std::uint64_t listeners =
      1 + (http.tls_listen ? 1 : 0) +
      (config.locations.enabled && config.locations.osmand_listen ? 1 : 0);
  const std::uint64_t wanted = listeners * http.max_connections + kReserve;
  if (limit.rlim_cur != RLIM_INFINITY && limit.rlim_cur < wanted) {
    core::log_warning(
        "the file descriptor limit is below what http.max_connections allows; at the limit "
        "new connections wait briefly (raise LimitNOFILE or lower max_connections)",
        {{"LIMIT", std::to_string(limit.rlim_cur)}, {"WANTED", std::to_string(wanted)}});
  }
}

}  // namespace

http::TlsFiles tls_files(const core::Config& config) {
  return {config.http.tls_cert, config.http.tls_key, config.http.tls_min_version};
}

void apply_log_config(const core::LogConfig& log) {
  core::log_init(to_log_level(log.level), to_log_target(log.target));
}

Daemon::Daemon(std::string config_path, core::Config config)
    : config_path_(std::move(config_path)),
      config_(std::move(config)),
      metrics_(config_.http.threads),
      edge_budgets_(config_.http),
      base_(core::make_event_base()),
      supervisor_timer_(base_.get(), [this] { supervise(); }),
      watchdog_timeout_(core::SystemdNotifier::watchdog_timeout()) {
  if (!config_.redis.sentinels.empty()) {
    // Before any module or worker copies the config: they all connect to
    // whatever this names.
    config_.redis.primary = std::make_shared<core::RedisPrimary>();
    sentinel_watcher_ = std::make_unique<queue::SentinelWatcher>(base_.get(), config_.redis);
    metrics_.add_renderer([this](std::string& out) {
      core::append_metric(
          out, "gpsrelay_redis_primary_changes_total", "counter",
          "Times the sentinels named a new Redis primary and gpsrelayd moved to it.",
          static_cast<double>(sentinel_watcher_->failovers()));
    });
  }
  if (config_.http.rate_limit > 0) {
    rate_limiter_ =
        std::make_unique<http::ClientRateLimiter>(config_.http.rate_limit, config_.http.rate_burst);
  }
  for (const int signal_number : {SIGTERM, SIGINT, SIGHUP}) {
    core::EventPtr event(
        evsignal_new(base_.get(), signal_number, &Daemon::on_signal, static_cast<void*>(this)));
    if (!event || event_add(event.get(), nullptr) != 0) {
      throw std::runtime_error("cannot install signal handlers");
    }
    signal_events_.push_back(std::move(event));
  }
  // A client that goes away must cost us an EPIPE, not the process.
  signal(SIGPIPE, SIG_IGN);
  check_file_limit(config_);

  if (config_.http.tls_listen) {
    // A certificate that does not load is a configuration error (exit 1).
    tls_ = std::make_unique<http::TlsContextSlot>(http::load_server_context(tls_files(config_)));
  }
  if (config_.auth.mode == core::AuthConfig::Mode::kToken) {
    // An unreadable or malformed tokens file is a configuration error (exit 1).
    tokens_ = std::make_unique<core::SharedSlot<const auth::TokenStore>>(
        std::make_shared<const auth::TokenStore>(
            auth::TokenStore::load_file(config_.auth.tokens_file)));
  }
  if (!config_.auth.read_tokens_file.empty()) {
    read_tokens_ = std::make_unique<core::SharedSlot<const auth::TokenStore>>(
        std::make_shared<const auth::TokenStore>(
            auth::TokenStore::load_file(config_.auth.read_tokens_file)));
  }
  leases_ =
      std::make_unique<queue::LeaseKeeper>(base_.get(), config_.redis, consumer_name(config_));
  modules_ = make_modules(config_, consumer_name(config_), metrics_, tokens_.get(),
                          read_tokens_.get(), *leases_);
  metrics_.add_renderer([this](std::string& out) { leases_->render_metrics(out); });
  std::vector<http::HandlerFactory*> factories;
  for (const auto& module : modules_) factories.push_back(module.get());
  const http::WorkerContext context{
      metrics_,      rate_limiter_.get(), serving_,      tls_.get(),
      tokens_.get(), read_tokens_.get(),  edge_budgets_, [this] { return health_snapshot(); },
      factories};
  for (unsigned i = 0; i < config_.http.threads; ++i) {
    workers_.push_back(std::make_unique<http::IngestWorker>(config_, i, context));
  }
}

std::string Daemon::redis_address() const {
  if (!config_.redis.primary) return config_.redis.address.to_string();
  const core::RedisPrimary::Snapshot primary = config_.redis.primary->current();
  return primary.address ? primary.address->to_string()
                         : "(asking the sentinels for " + config_.redis.master_name + ")";
}

http::HealthSnapshot Daemon::health_snapshot() const {
  http::HealthSnapshot snapshot;
  snapshot.redis_up = metrics_.redis_up();
  snapshot.redis_address = redis_address();
  const std::int64_t now_ns = std::chrono::duration_cast<std::chrono::nanoseconds>(
                                  std::chrono::steady_clock::now().time_since_epoch())
                                  .count();
  if (const char* refusal = metrics_.redis_write_refusal(now_ns, core::kRedisRefusalWindow)) {
    snapshot.redis_write_refusal = refusal;
  }
  snapshot.queue_length = metrics_.queue_length();
  snapshot.serving = serving_.load();
  for (const auto& module : modules_) module->add_health(snapshot);
  return snapshot;
}

Daemon::~Daemon() {
  for (auto& module : modules_) module->request_stop();
  for (auto& worker : workers_) {
    worker->request_stop();
    worker->join();
  }
  for (auto& module : modules_) module->join();
}

int Daemon::run() {
  const std::string redis = config_.redis.sentinels.empty()
                                ? config_.redis.address.to_string()
                                : "sentinels " + core::to_string(config_.redis.sentinels) + " (" +
                                      config_.redis.master_name + ")";
  core::log_info("starting", {{"LISTEN", config_.http.listen.to_string()},
                              {"REDIS", redis},
                              {"THREADS", std::to_string(config_.http.threads)}});
  notifier_.status("Waiting for Redis at " + redis);
  if (sentinel_watcher_) sentinel_watcher_->start();
  leases_->start();
  for (auto& worker : workers_) worker->start();
  for (auto& module : modules_) module->start();
  supervisor_timer_.start_periodic(kSupervisorInterval);
  event_base_dispatch(base_.get());

  for (auto& worker : workers_) worker->join();
  // After the workers drained: what they held (route reads, appends)
  // could still need the modules' threads.
  for (auto& module : modules_) module->request_stop();
  for (auto& module : modules_) module->join();
  core::log_info("stopped");
  return kExitClean;
}

void Daemon::on_signal(evutil_socket_t signal_number, short, void* self) {
  auto* daemon = static_cast<Daemon*>(self);
  switch (signal_number) {
    case SIGHUP:
      daemon->reload();
      break;
    case SIGINT:
      daemon->begin_stop("SIGINT");
      break;
    default:
      daemon->begin_stop("SIGTERM");
      break;
  }
}

void Daemon::begin_stop(const char* why) {
  if (stopping_) return;
  stopping_ = true;
  serving_ = false;
  core::log_info("stopping", {{"SIGNAL", why}});
  notifier_.stopping("Stopping: answering requests in flight");
  for (auto& worker : workers_) worker->request_stop();
  // The workers drain on their own threads; run() joins them.
  event_base_loopexit(base_.get(), nullptr);
}

void Daemon::reload() {
  notifier_.reloading();
  try {
    core::Config fresh = core::load_config(config_path_, core::process_environment());
    apply_log_config(fresh.log);
    config_.log = fresh.log;
    reload_tls(fresh);
    reload_tokens(fresh);
    reload_read_tokens(fresh);
    for (auto& module : modules_) module->reload(fresh);
    core::log_info(
        "configuration reloaded; log settings, TLS certificate and tokens applied, other "
        "changes need a restart",
        {{"CONFIG", config_path_}});
  } catch (const std::exception& e) {
    core::log_error("reload failed; keeping the running configuration", {{"ERROR", e.what()}});
  }
  notifier_.ready(ready_sent_ ? "Accepting reports" : "Waiting for Redis");
}

void Daemon::reload_tls(const core::Config& fresh) {
  if (!tls_) return;
  if (!fresh.http.tls_listen) {
    core::log_warning("http.tls_listen was removed; that takes a restart");
    return;
  }
  try {
    tls_->replace(http::load_server_context(tls_files(fresh)));
    for (auto& worker : workers_) worker->refresh_snapshots();
    config_.http.tls_cert = fresh.http.tls_cert;
    config_.http.tls_key = fresh.http.tls_key;
    config_.http.tls_min_version = fresh.http.tls_min_version;
    core::log_info("TLS certificate reloaded; new connections use it",
                   {{"CERT", fresh.http.tls_cert}});
  } catch (const http::TlsError& e) {
    core::log_error("TLS reload failed; keeping the current certificate", {{"ERROR", e.what()}});
  }
}

void Daemon::reload_tokens(const core::Config& fresh) {
  if (!tokens_) return;
  if (fresh.auth.mode != core::AuthConfig::Mode::kToken) {
    core::log_warning("auth.mode changed; that takes a restart");
    return;
  }
  try {
    auto loaded = std::make_shared<const auth::TokenStore>(
        auth::TokenStore::load_file(fresh.auth.tokens_file));
    const std::size_t count = loaded->size();
    tokens_->replace(std::move(loaded));
    for (auto& worker : workers_) worker->refresh_snapshots();
    config_.auth.tokens_file = fresh.auth.tokens_file;
    core::log_info("device tokens reloaded",
                   {{"TOKENS_FILE", fresh.auth.tokens_file}, {"COUNT", std::to_string(count)}});
  } catch (const auth::TokenFileError& e) {
    core::log_error("tokens reload failed; keeping the current tokens", {{"ERROR", e.what()}});
  }
}

void Daemon::reload_read_tokens(const core::Config& fresh) {
  if (!read_tokens_) return;
  if (fresh.auth.read_tokens_file.empty()) {
    core::log_warning("auth.read_tokens_file was emptied; opening reads takes a restart");
    return;
  }
  try {
    auto loaded = std::make_shared<const auth::TokenStore>(
        auth::TokenStore::load_file(fresh.auth.read_tokens_file));
    const std::size_t count = loaded->size();
    read_tokens_->replace(std::move(loaded));
    for (auto& worker : workers_) worker->refresh_snapshots();
    config_.auth.read_tokens_file = fresh.auth.read_tokens_file;
    core::log_info("read tokens reloaded", {{"READ_TOKENS_FILE", fresh.auth.read_tokens_file},
                                            {"COUNT", std::to_string(count)}});
  } catch (const auth::TokenFileError& e) {
    core::log_error("read tokens reload failed; keeping the current tokens", {{"ERROR", e.what()}});
  }
}

bool Daemon::workers_alive(std::chrono::steady_clock::time_point now) const {
  const auto limit = *watchdog_timeout_ / 2;
  return std::all_of(workers_.begin(), workers_.end(),
                     [&](const auto& w) { return now - w->last_heartbeat() < limit; }) &&
         std::all_of(modules_.begin(), modules_.end(),
                     [&](const auto& m) { return m->alive(now, limit); });
}

void Daemon::supervise() {
  if (stopping_) return;
  const auto now = std::chrono::steady_clock::now();
  const bool redis_up =
      std::all_of(workers_.begin(), workers_.end(), [](const auto& w) { return w->queue_ready(); });
  if (!ready_sent_ && redis_up) {
    ready_sent_ = true;
    serving_ = true;
    const std::string status = "Accepting reports on " + config_.http.listen.to_string();
    notifier_.ready(status);
    core::log_info("ready", {{"LISTEN", config_.http.listen.to_string()}});
    reported_redis_up_ = true;
  } else if (ready_sent_ && reported_redis_up_ != redis_up) {
    reported_redis_up_ = redis_up;
    notifier_.status(redis_up ? "Accepting reports on " + config_.http.listen.to_string()
                              : "Redis unavailable at " + redis_address() + "; answering 503");
  }
  http::SharedBudget& inflight = edge_budgets_.inflight_bytes;
  if (memory_return_.should_trim(inflight.take_peak(), inflight.used())) {
    // Give the arenas' free pages of the burst's request bodies back.
    malloc_trim(0);
  }
  // A stuck worker stops its heartbeat, and then we stop the pings, so
  // systemd restarts a daemon that no longer serves.
  if (watchdog_timeout_ && workers_alive(now) &&
      now - last_watchdog_ping_ >= *watchdog_timeout_ / 4) {
    notifier_.watchdog();
    last_watchdog_ping_ = now;
  }
}

}  // namespace gpsrelay::daemon
