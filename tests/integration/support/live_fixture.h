// LiveTest: the fixture of the live-update suites (Server-Sent Events and
// WebSocket): the daemon with locations on and history off (live updates
// do not need MySQL), and what those suites post and count with.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <string>

#include "support/forwarding_fixture.h"

namespace gpsrelay::testing {

// ASan's shadow memory and quarantine dwarf the daemon's own memory, so
// RSS bounds are only asserted without it.
#ifdef __SANITIZE_ADDRESS__
inline constexpr bool kUnderAddressSanitizer = true;
#else
inline constexpr bool kUnderAddressSanitizer = false;
#endif

// VmRSS of `pid` in KiB, from /proc; -1 when it cannot be read.
long rss_kib(pid_t pid);

class LiveTest : public ForwardingTest {
 protected:
  DaemonConfig live_config() const;

  // POSTs a location of `driver` at `at` (Unix ms) to the device endpoint.
  static HttpResponse post_location(const DaemonProcess& daemon, const std::string& driver,
                                    double latitude, std::int64_t at,
                                    const std::string& order = {});
  // gpsrelay_live_clients over both transports; -1 when not scraped.
  static double live_clients(const DaemonProcess& daemon);
  // With one subscriber of `driver` that does not read: posts `driver`'s
  // locations until the daemon drops that subscriber as too slow, then
  // checks it is gone and that what it left unread did not pile up in the
  // daemon's memory.
  void flood_until_dropped(const std::string& driver);
};

}  // namespace gpsrelay::testing
