// sd_notify wrapper (see systemd_notifier.h).
#include "core/systemd_notifier.h"

#include <systemd/sd-daemon.h>
#include <time.h>

#include <string>

#include "core/log.h"

namespace gpsrelay::core {

void SystemdNotifier::send(std::string_view message) {
  const std::string text(message);
  const int rc = sd_notify(0, text.c_str());
  if (rc < 0) log_warning("sd_notify failed", {{"ERRNO", std::to_string(-rc)}});
}

void SystemdNotifier::ready(std::string_view status) {
  send("READY=1\nSTATUS=" + std::string(status));
}

void SystemdNotifier::status(std::string_view status) { send("STATUS=" + std::string(status)); }

void SystemdNotifier::reloading() {
  timespec now{};
  clock_gettime(CLOCK_MONOTONIC, &now);
  const long long usec = static_cast<long long>(now.tv_sec) * 1000000LL + now.tv_nsec / 1000;
  send("RELOADING=1\nSTATUS=Reloading configuration\nMONOTONIC_USEC=" + std::to_string(usec));
}

void SystemdNotifier::stopping(std::string_view status) {
  send("STOPPING=1\nSTATUS=" + std::string(status));
}

void SystemdNotifier::watchdog() { send("WATCHDOG=1"); }

std::optional<std::chrono::microseconds> SystemdNotifier::watchdog_timeout() {
  uint64_t usec = 0;
  if (sd_watchdog_enabled(0, &usec) <= 0 || usec == 0) return std::nullopt;
  return std::chrono::microseconds(usec);
}

}  // namespace gpsrelay::core
