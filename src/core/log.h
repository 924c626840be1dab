// Process-wide logging: native journald entries (PRIORITY plus structured
// fields such as REQUEST_ID) when stderr is connected to the journal, else
// one plain line per event on stderr with a level.
//
// Logging is off the hot path by design: callers check log_enabled() before
// building anything for debug messages, and nothing logs per request at info.
#pragma once

#include <initializer_list>
#include <span>
#include <string>
#include <string_view>

namespace gpsrelay::core {

enum class LogLevel { kDebug = 0, kInfo = 1, kWarning = 2, kError = 3 };
enum class LogTarget { kAuto, kJournal, kStderr };

struct LogField {
  std::string_view name;  // journald field name, upper case, e.g. "REQUEST_ID"
  std::string_view value;
};

// Chooses the sink. kAuto picks the journal when $JOURNAL_STREAM names the
// device and inode of our stderr (systemd's documented test), else stderr.
void log_init(LogLevel level, LogTarget target);
void set_log_level(LogLevel level);
bool log_enabled(LogLevel level);
bool log_uses_journal();

void log(LogLevel level, std::string_view message, std::initializer_list<LogField> fields = {});
void log(LogLevel level, std::string_view message, std::span<const LogField> fields);

// Sends libevent's own messages through log() (throttled) instead of
// libevent writing them to stderr. Call once at start.
void route_libevent_log();

inline void log_debug(std::string_view m, std::initializer_list<LogField> f = {}) {
  if (log_enabled(LogLevel::kDebug)) log(LogLevel::kDebug, m, f);
}
inline void log_info(std::string_view m, std::initializer_list<LogField> f = {}) {
  log(LogLevel::kInfo, m, f);
}
inline void log_warning(std::string_view m, std::initializer_list<LogField> f = {}) {
  log(LogLevel::kWarning, m, f);
}
inline void log_error(std::string_view m, std::initializer_list<LogField> f = {}) {
  log(LogLevel::kError, m, f);
}

}  // namespace gpsrelay::core
