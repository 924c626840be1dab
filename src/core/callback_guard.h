// guarded(): the catch boundary at the point where a C library (libevent,
// hiredis, curl) calls back into our code. An exception must not unwind
// through C frames (that aborts the process, or worse), so every callback
// entry point runs its body through guarded(): an escaping exception is
// logged as an error and the callback returns normally, the loop goes on.
//
// It does not decide what happens to the work the callback was doing: a
// caller that owns a unit of work (a delivery, a stream entry) checks the
// result and abandons that unit in the way that keeps it safe.
#pragma once

#include <exception>
#include <string_view>
#include <utility>

namespace gpsrelay::core {

// Logs that an exception reached the boundary named `where`. Never throws.
void log_escaped_exception(std::string_view where, const char* what) noexcept;

// Runs body(). Returns true when it returned, false when it threw; the
// exception is logged (with `where`, e.g. "stream read reply") and dropped.
template <typename Body>
bool guarded(std::string_view where, Body&& body) noexcept {
  try {
    std::forward<Body>(body)();
    return true;
  } catch (const std::exception& e) {
    log_escaped_exception(where, e.what());
  } catch (...) {
    log_escaped_exception(where, "an exception not derived from std::exception");
  }
  return false;
}

}  // namespace gpsrelay::core
