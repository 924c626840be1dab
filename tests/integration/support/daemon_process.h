// DaemonProcess: one gpsrelayd under test, started the way systemd starts it
// (foreground, NOTIFY_SOCKET set, config file given with -c) in a private
// temp dir that holds its config, its stderr log and the notify socket.
// It owns the process: the destructor kills it, and prints its log when the
// current test has failed, which is usually the fastest way to see why.
// It does not start Redis; the test passes the address of one.
#pragma once

#include <chrono>
#include <filesystem>
#include <initializer_list>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "support/child_process.h"
#include "support/notify_socket.h"
#include "support/temp_dir.h"

namespace gpsrelay::testing {

// The daemon's INI configuration, built key by key. Sections and keys keep
// the order they were first set in, so line numbers in the rendered file are
// predictable.
class DaemonConfig {
 public:
  struct Setting {
    std::string section;
    std::string key;
    std::string value;
  };

  DaemonConfig() = default;
  DaemonConfig(std::initializer_list<Setting> settings);

  // Sets `[section] key = value`, replacing an earlier value.
  DaemonConfig& set(std::string_view section, std::string_view key, std::string value);
  DaemonConfig& erase(std::string_view section, std::string_view key);
  std::optional<std::string> get(std::string_view section, std::string_view key) const;
  // Sets every key of `overrides` on top of this one.
  DaemonConfig& merge(const DaemonConfig& overrides);

  std::string render() const;

 private:
  struct Section {
    std::string name;
    std::vector<std::pair<std::string, std::string>> keys;
  };
  std::vector<Section> sections_;
};

struct DaemonOptions {
  // Applied on top of DaemonProcess::default_config.
  DaemonConfig config;
  // Extra environment, e.g. {"WATCHDOG_USEC", "500000"}. The runner's own
  // GPSRELAY_*, NOTIFY_SOCKET, WATCHDOG_* and LISTEN_* variables are dropped.
  std::map<std::string, std::string> env;
  // When false the constructor returns right after the spawn.
  bool wait_for_ready = true;
  std::chrono::milliseconds ready_timeout{10000};
};

class DaemonProcess {
 public:
  // What every test starts from: listen on 127.0.0.1:`http_port`, two
  // threads, Redis at `redis_address`, debug log on stderr.
  static DaemonConfig default_config(int http_port, const std::string& redis_address);

  // Writes the config, starts gpsrelayd and (by default) waits for READY=1.
  // Throws std::runtime_error, with the daemon's log, when it exits or is not
  // ready in time.
  DaemonProcess(const std::string& redis_address, DaemonOptions options = {});
  ~DaemonProcess();

  DaemonProcess(const DaemonProcess&) = delete;
  DaemonProcess& operator=(const DaemonProcess&) = delete;

  int port() const { return port_; }
  std::string base_url() const;
  std::string url(std::string_view path) const;
  std::string ingest_url() const { return url("/api/gps/reports"); }

  const DaemonConfig& config() const { return config_; }
  const std::filesystem::path& config_path() const { return config_path_; }
  const std::filesystem::path& log_path() const { return log_path_; }
  // What the daemon wrote to stdout and stderr so far.
  std::string log() const;

  NotifySocket& notify() { return *notify_; }
  ChildProcess& process() { return *process_; }
  bool running() { return process_->running(); }

  // Waits for a notification containing `needle` at index >= `from`. Returns
  // early with nullopt when the daemon exits.
  std::optional<size_t> wait_for_notification(std::string_view needle,
                                              std::chrono::milliseconds timeout, size_t from = 0);

  void send_signal(int sig) { process_->send_signal(sig); }

  struct StopResult {
    std::optional<ExitStatus> status;  // nullopt: had to be SIGKILLed after `timeout`
    std::chrono::milliseconds elapsed{0};
  };
  // SIGTERM, then waits up to `timeout` for the exit (SIGKILL after that).
  StopResult stop(std::chrono::milliseconds timeout = std::chrono::seconds(15));

  std::optional<ExitStatus> wait_for_exit(std::chrono::milliseconds timeout) {
    return process_->wait_for(timeout);
  }

  // The last `max_bytes` of the log and every notification, for messages.
  std::string diagnostics(size_t max_bytes = 16 * 1024) const;

 private:
  TempDir dir_;
  DaemonConfig config_;
  int port_;
  std::filesystem::path config_path_;
  std::filesystem::path log_path_;
  std::unique_ptr<NotifySocket> notify_;
  std::unique_ptr<ChildProcess> process_;  // last: killed before the socket closes
};

// The binary under test (the GPSRELAYD_PATH compile definition).
std::string gpsrelayd_path();

// Runs gpsrelayd with `args` to completion (e.g. {"--version"} or
// {"--check-config", "-c", path}), output captured in `scratch`.
CommandResult run_gpsrelayd(const std::vector<std::string>& args,
                            const std::filesystem::path& scratch,
                            std::chrono::milliseconds timeout = std::chrono::seconds(10));

}  // namespace gpsrelay::testing
