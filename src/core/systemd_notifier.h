// SystemdNotifier: the sd_notify(3) protocol towards the service manager
// (READY, STATUS, RELOADING, STOPPING, WATCHDOG). Without $NOTIFY_SOCKET
// every call is a cheap no-op, so the daemon runs the same outside systemd.
#pragma once

#include <chrono>
#include <optional>
#include <string_view>

namespace gpsrelay::core {

class SystemdNotifier {
 public:
  void ready(std::string_view status);
  void status(std::string_view status);
  // RELOADING=1 with MONOTONIC_USEC, as Type=notify-reload expects.
  void reloading();
  void stopping(std::string_view status);
  void watchdog();

  // How often systemd expects WATCHDOG=1 ($WATCHDOG_USEC), if it does.
  static std::optional<std::chrono::microseconds> watchdog_timeout();

 private:
  void send(std::string_view message);
};

}  // namespace gpsrelay::core
