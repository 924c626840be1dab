// DaemonProcess: config rendering, spawn with a notify socket, READY wait,
// SIGTERM stop, and the failure-time log dump.
#include "support/daemon_process.h"

#include <gtest/gtest.h>
#include <signal.h>

#include <algorithm>
#include <iostream>
#include <sstream>
#include <stdexcept>

#include "support/eventually.h"
#include "support/ports.h"

#ifndef GPSRELAYD_PATH
#error "define GPSRELAYD_PATH as the path of the gpsrelayd binary under test"
#endif

namespace gpsrelay::testing {
namespace {

// Variables of the runner's environment that would change the daemon's
// behaviour behind the test's back.
const std::vector<std::string> kDroppedEnvironment = {"GPSRELAY_", "NOTIFY_SOCKET", "WATCHDOG_",
                                                      "LISTEN_", "JOURNAL_STREAM"};

std::string tail(const std::string& text, size_t max_bytes) {
  if (text.size() <= max_bytes) return text;
  return "[... " + std::to_string(text.size() - max_bytes) + " bytes cut ...]\n" +
         text.substr(text.size() - max_bytes);
}

}  // namespace

DaemonConfig::DaemonConfig(std::initializer_list<Setting> settings) {
  for (const auto& setting : settings) set(setting.section, setting.key, setting.value);
}

DaemonConfig& DaemonConfig::set(std::string_view section, std::string_view key, std::string value) {
  auto section_it = std::find_if(sections_.begin(), sections_.end(),
                                 [&](const Section& s) { return s.name == section; });
  if (section_it == sections_.end()) {
    sections_.push_back({std::string(section), {}});
    section_it = std::prev(sections_.end());
  }
  auto& keys = section_it->keys;
  auto key_it =
      std::find_if(keys.begin(), keys.end(), [&](const auto& k) { return k.first == key; });
  if (key_it == keys.end()) {
    keys.emplace_back(std::string(key), std::move(value));
  } else {
    key_it->second = std::move(value);
  }
  return *this;
}

DaemonConfig& DaemonConfig::erase(std::string_view section, std::string_view key) {
  for (auto& s : sections_) {
    if (s.name != section) continue;
    std::erase_if(s.keys, [&](const auto& k) { return k.first == key; });
  }
  return *this;
}

std::optional<std::string> DaemonConfig::get(std::string_view section, std::string_view key) const {
  for (const auto& s : sections_) {
    if (s.name != section) continue;
    for (const auto& [name, value] : s.keys) {
      if (name == key) return value;
    }
  }
  return std::nullopt;
}

DaemonConfig& DaemonConfig::merge(const DaemonConfig& overrides) {
  for (const auto& s : overrides.sections_) {
    for (const auto& [key, value] : s.keys) set(s.name, key, value);
  }
  return *this;
}

std::string DaemonConfig::render() const {
  std::ostringstream out;
  out << "# written by the gpsrelay integration tests\n";
  for (const auto& s : sections_) {
    if (s.keys.empty()) continue;
    out << "[" << s.name << "]\n";
    for (const auto& [key, value] : s.keys) out << key << " = " << value << "\n";
  }
  return out.str();
}

DaemonConfig DaemonProcess::default_config(int http_port, const std::string& redis_address) {
  return DaemonConfig{
      {"http", "listen", "127.0.0.1:" + std::to_string(http_port)},
      {"http", "threads", "2"},
      {"redis", "address", redis_address},
      {"log", "level", "debug"},
      {"log", "target", "stderr"},
  };
}

DaemonProcess::DaemonProcess(const std::string& redis_address, DaemonOptions options)
    : dir_("gpsrelayd"), port_(pick_free_port()) {
  config_ = default_config(port_, redis_address).merge(options.config);
  // A test may have chosen the listen address itself.
  if (auto listen = config_.get("http", "listen")) {
    const auto colon = listen->rfind(':');
    if (colon != std::string::npos) port_ = std::stoi(listen->substr(colon + 1));
  }
  config_path_ = dir_.write_file("gpsrelay.conf", config_.render());
  log_path_ = dir_.file("gpsrelayd.log");
  notify_ = std::make_unique<NotifySocket>(dir_.file("notify.sock"));

  SpawnOptions spawn;
  spawn.argv = {gpsrelayd_path(), "-c", config_path_.string()};
  spawn.drop_env_prefixes = kDroppedEnvironment;
  spawn.env = options.env;
  spawn.env["NOTIFY_SOCKET"] = notify_->path().string();
  spawn.stdout_path = log_path_;
  process_ = std::make_unique<ChildProcess>(spawn);

  if (!options.wait_for_ready) return;
  if (!wait_for_notification("READY=1", options.ready_timeout)) {
    const std::string why =
        process_->running()
            ? "sent no READY=1 within " + std::to_string(options.ready_timeout.count()) + " ms"
            : "exited with " + process_->exit_status()->describe() + " before READY=1";
    process_->kill();
    throw std::runtime_error("gpsrelayd " + why + "\n" + diagnostics());
  }
}

DaemonProcess::~DaemonProcess() {
  if (process_) process_->kill();
  // Under the sanitizer build a report may be the only sign of a bug: the
  // daemon can go on serving after a UBSan finding, and a test that ends
  // with SIGKILL never sees an exit status.
  const std::string text = log();
  for (const char* report : {"ERROR: AddressSanitizer", "ERROR: LeakSanitizer", "runtime error:"}) {
    if (text.find(report) != std::string::npos) {
      ADD_FAILURE() << "gpsrelayd reported \"" << report << "\"";
    }
  }
  if (::testing::Test::HasFailure()) {
    std::cerr << "---- gpsrelayd (port " << port_ << ", config " << config_path_.string()
              << ") ----\n"
              << diagnostics(64 * 1024) << "---- end of gpsrelayd ----\n";
  }
}

std::string DaemonProcess::base_url() const { return "http://127.0.0.1:" + std::to_string(port_); }

std::string DaemonProcess::url(std::string_view path) const {
  return base_url() + std::string(path);
}

std::string DaemonProcess::log() const { return read_file(log_path_); }

std::optional<size_t> DaemonProcess::wait_for_notification(std::string_view needle,
                                                           std::chrono::milliseconds timeout,
                                                           size_t from) {
  const Deadline deadline(timeout);
  while (true) {
    // Short slices so a daemon that died is noticed at once, not at the
    // deadline.
    const auto slice = std::min(deadline.remaining(), std::chrono::milliseconds(100));
    if (auto index = notify_->wait_for(needle, slice, from)) return index;
    if (!process_->running() || deadline.expired()) {
      // One last look: the datagram may have arrived just before the exit.
      return notify_->wait_for(needle, std::chrono::milliseconds(0), from);
    }
  }
}

DaemonProcess::StopResult DaemonProcess::stop(std::chrono::milliseconds timeout) {
  const auto start = Clock::now();
  process_->send_signal(SIGTERM);
  StopResult result;
  result.status = process_->wait_for(timeout);
  result.elapsed = elapsed_since(start);
  if (!result.status) process_->kill();
  return result;
}

std::string DaemonProcess::diagnostics(size_t max_bytes) const {
  return "notifications:\n" + notify_->describe() + "log (" + log_path_.string() + "):\n" +
         tail(log(), max_bytes) + "\n";
}

std::string gpsrelayd_path() { return GPSRELAYD_PATH; }

CommandResult run_gpsrelayd(const std::vector<std::string>& args,
                            const std::filesystem::path& scratch,
                            std::chrono::milliseconds timeout) {
  SpawnOptions spawn;
  spawn.argv.push_back(gpsrelayd_path());
  spawn.argv.insert(spawn.argv.end(), args.begin(), args.end());
  spawn.drop_env_prefixes = kDroppedEnvironment;
  return run_command(std::move(spawn), scratch, timeout);
}

}  // namespace gpsrelay::testing
