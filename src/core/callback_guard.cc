// The logging half of guarded() (see callback_guard.h), kept out of the
// header so the template stays small.
#include "core/callback_guard.h"

#include "core/log.h"

namespace gpsrelay::core {

void log_escaped_exception(std::string_view where, const char* what) noexcept {
  try {
    log_error("exception in a callback; its work is abandoned, the loop goes on",
              {{"CALLBACK", where}, {"ERROR", what}});
  } catch (...) {
    // Out of memory even for the log line: dropping it beats unwinding
    // into C code.
  }
}

}  // namespace gpsrelay::core
