// start_loop_thread(): how gpsrelay starts each of its long-running threads
// (an ingest or delivery event loop, the MySQL writer). One place decides
// their name, their signal mask and what an exception escaping them does.
//
// It does not run a loop itself or know what the body does.
#pragma once

#include <functional>
#include <string>
#include <thread>

namespace gpsrelay::core {

// Starts a thread that runs body() and ends when it returns. The thread is
// named `name` (for top -H, perf and gdb; cut to the kernel's 15 bytes) and
// starts with every signal blocked: signals belong to the main thread's loop.
//
// An exception escaping body() is logged as an error and then aborts the
// process. Letting just this thread end instead would leave it dead while
// the others carry on: the MySQL writer has no heartbeat at all, and the
// loops' heartbeats only matter when systemd's watchdog is on. Aborting is
// safe for the data: a report is acknowledged to its device only once it
// is in Redis, and an entry leaves the stream only after delivery or its
// MySQL commit, so a restart (Restart=on-failure) loses nothing accepted
// and resends what was in flight. The core dump shows the bug.
std::thread start_loop_thread(std::string name, std::function<void()> body);

}  // namespace gpsrelay::core
