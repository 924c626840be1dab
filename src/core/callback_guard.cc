// The logging half of guarded() (see callback_guard.h), kept out of the
// header so the template stays small.
#include "core/callback_guard.h"

#include "core/log.h"

namespace gpsrelay::core {

void log_escaped_exception(std::string_view where, const char* what) noexcept {
  try {
    // Neutral on purpose: what follows (the loop goes on, or a thread's
    // end aborts the process) is the caller's to say.
    log_error("exception caught at a callback boundary", {{"CALLBACK", where}, {"ERROR", what}});
  } catch (...) {
    // Out of memory even for the log line: dropping it beats unwinding
    // into C code.
  }
}

}  // namespace gpsrelay::core
