// Daemon: the lifecycle of gpsrelayd. Starts the event-loop workers, talks
// to systemd (READY, STATUS, WATCHDOG, RELOADING, STOPPING), handles
// SIGTERM/SIGINT (drain and exit) and SIGHUP (reload what can change at run
// time), all from a small supervisor loop on the main thread.
//
// It does not touch requests or Redis itself: the workers do.
#pragma once

#include <atomic>
#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/config.h"
#include "core/event_loop.h"
#include "core/memory_return.h"
#include "core/metrics.h"
#include "core/systemd_notifier.h"
#include "daemon/module.h"
#include "http/ingest_worker.h"
#include "http/rate_limiter.h"
#include "http/tls_context.h"
#include "queue/lease.h"
#include "queue/sentinel_watcher.h"

namespace gpsrelay::daemon {

// Exit codes of the contract.
inline constexpr int kExitClean = 0;
inline constexpr int kExitBadConfig = 1;
inline constexpr int kExitRuntimeFailure = 2;

void apply_log_config(const core::LogConfig& log);
http::TlsFiles tls_files(const core::Config& config);

class Daemon {
 public:
  Daemon(std::string config_path, core::Config config);
  ~Daemon();
  Daemon(const Daemon&) = delete;
  Daemon& operator=(const Daemon&) = delete;

  // Runs until SIGTERM/SIGINT; returns the process exit code.
  int run();

 private:
  static void on_signal(evutil_socket_t signal_number, short, void* self);
  void supervise();
  // What /health and /ready render; read on the HTTP threads.
  http::HealthSnapshot health_snapshot() const;
  // The primary in use: redis.address, or the one the sentinels named.
  std::string redis_address() const;
  void reload();
  void reload_tls(const core::Config& fresh);
  void reload_tokens(const core::Config& fresh);
  void reload_read_tokens(const core::Config& fresh);
  void begin_stop(const char* why);
  bool workers_alive(std::chrono::steady_clock::time_point now) const;

  const std::string config_path_;
  core::Config config_;
  core::SystemdNotifier notifier_;
  core::MetricsRegistry metrics_;
  std::unique_ptr<http::ClientRateLimiter> rate_limiter_;
  http::EdgeBudgets edge_budgets_;
  std::unique_ptr<http::TlsContextSlot> tls_;                         // only with http.tls_listen
  std::unique_ptr<core::SharedSlot<const auth::TokenStore>> tokens_;  // only with auth.mode = token
  // Only with auth.read_tokens_file.
  std::unique_ptr<core::SharedSlot<const auth::TokenStore>> read_tokens_;
  std::atomic<bool> serving_{false};

  core::EventBasePtr base_;
  std::vector<core::EventPtr> signal_events_;
  core::Timer supervisor_timer_;
  // Only with redis.sentinels: keeps config_.redis.primary current.
  std::unique_ptr<queue::SentinelWatcher> sentinel_watcher_;
  // Leases of the modules' once-per-fleet jobs; outlives the modules.
  std::unique_ptr<queue::LeaseKeeper> leases_;
  // Before the workers, whose handlers they made; stopped after them.
  std::vector<std::unique_ptr<Module>> modules_;
  std::vector<std::unique_ptr<http::IngestWorker>> workers_;

  std::optional<std::chrono::microseconds> watchdog_timeout_;
  std::chrono::steady_clock::time_point last_watchdog_ping_{};
  bool ready_sent_ = false;
  // 16 MiB of bodies in flight is a burst worth trimming after.
  core::MemoryReturn memory_return_{16 * 1024 * 1024};
  bool stopping_ = false;
  std::optional<bool> reported_redis_up_;
};

}  // namespace gpsrelay::daemon
