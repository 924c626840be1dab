// Log sinks: journald via sd_journal_sendv, or formatted lines on stderr.
#include "core/log.h"

#include <event2/event.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <syslog.h>
#include <systemd/sd-journal.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "core/log_throttle.h"

namespace gpsrelay::core {
namespace {

std::atomic<int> g_level{static_cast<int>(LogLevel::kInfo)};
std::atomic<bool> g_journal{false};

int syslog_priority(LogLevel level) {
  switch (level) {
    case LogLevel::kDebug:
      return LOG_DEBUG;
    case LogLevel::kInfo:
      return LOG_INFO;
    case LogLevel::kWarning:
      return LOG_WARNING;
    case LogLevel::kError:
      return LOG_ERR;
  }
  return LOG_INFO;
}

const char* level_name(LogLevel level) {
  switch (level) {
    case LogLevel::kDebug:
      return "debug";
    case LogLevel::kInfo:
      return "info";
    case LogLevel::kWarning:
      return "warning";
    case LogLevel::kError:
      return "error";
  }
  return "info";
}

// systemd sets JOURNAL_STREAM=<dev>:<inode> for the stream it connected to
// stdout/stderr; if that still matches our stderr, the journal reads it.
bool stderr_is_journal() {
  const char* env = std::getenv("JOURNAL_STREAM");
  if (env == nullptr) return false;
  unsigned long long dev = 0;
  unsigned long long ino = 0;
  if (std::sscanf(env, "%llu:%llu", &dev, &ino) != 2) return false;
  struct stat st {};
  if (fstat(STDERR_FILENO, &st) != 0) return false;
  return st.st_dev == dev && st.st_ino == ino;
}

void log_to_journal(LogLevel level, std::string_view message, std::span<const LogField> fields) {
  std::vector<std::string> entries;
  entries.reserve(fields.size() + 3);
  entries.push_back("MESSAGE=" + std::string(message));
  entries.push_back("PRIORITY=" + std::to_string(syslog_priority(level)));
  entries.emplace_back("SYSLOG_IDENTIFIER=gpsrelayd");
  for (const LogField& field : fields) {
    std::string entry(field.name);
    entry += '=';
    entry += field.value;
    entries.push_back(std::move(entry));
  }
  std::vector<iovec> iov;
  iov.reserve(entries.size());
  for (std::string& entry : entries) iov.emplace_back(iovec{entry.data(), entry.size()});
  sd_journal_sendv(iov.data(), static_cast<int>(iov.size()));
}

void log_to_stderr(LogLevel level, std::string_view message, std::span<const LogField> fields) {
  std::string line = "gpsrelayd[";
  line += level_name(level);
  line += "] ";
  line += message;
  for (const LogField& field : fields) {
    line += ' ';
    for (char c : field.name) line += static_cast<char>(c >= 'A' && c <= 'Z' ? c + 32 : c);
    line += '=';
    line += field.value;
  }
  line += '\n';
  // One write per line keeps lines from different threads whole.
  ssize_t ignored = write(STDERR_FILENO, line.data(), line.size());
  (void)ignored;  // Nowhere left to report a failing stderr.
}

}  // namespace

void log_init(LogLevel level, LogTarget target) {
  set_log_level(level);
  switch (target) {
    case LogTarget::kJournal:
      g_journal = true;
      break;
    case LogTarget::kStderr:
      g_journal = false;
      break;
    case LogTarget::kAuto:
      g_journal = stderr_is_journal();
      break;
  }
}

void set_log_level(LogLevel level) { g_level.store(static_cast<int>(level)); }

bool log_enabled(LogLevel level) {
  return static_cast<int>(level) >= g_level.load(std::memory_order_relaxed);
}

bool log_uses_journal() { return g_journal.load(); }

void log(LogLevel level, std::string_view message, std::initializer_list<LogField> fields) {
  log(level, message, std::span<const LogField>(fields.begin(), fields.size()));
}

void log(LogLevel level, std::string_view message, std::span<const LogField> fields) {
  if (!log_enabled(level)) return;
  if (g_journal.load(std::memory_order_relaxed)) {
    log_to_journal(level, message, fields);
  } else {
    log_to_stderr(level, message, fields);
  }
}

void ThrottledLog::log(LogLevel level, std::string_view message,
                       std::initializer_list<LogField> fields) {
  if (!log_enabled(level)) return;
  std::uint64_t suppressed = 0;
  {
    const std::lock_guard<std::mutex> lock(mutex_);
    if (!throttle_.admit(std::chrono::steady_clock::now(), suppressed)) return;
  }
  if (suppressed == 0) {
    core::log(level, message, fields);
    return;
  }
  std::vector<LogField> all(fields);
  const std::string count = std::to_string(suppressed);
  all.push_back({"SUPPRESSED", count});
  core::log(level, message, std::span<const LogField>(all));
}

namespace {

// libevent writes its own warnings ("Error from accept() call", "cannot get
// connection") to stderr by default, once per event: at the fd limit that is
// millions of lines. They go through our logger instead, throttled.
void on_libevent_log(int severity, const char* message) {
  static ThrottledLog throttle;
  const LogLevel level = severity >= EVENT_LOG_ERR    ? LogLevel::kError
                         : severity >= EVENT_LOG_WARN ? LogLevel::kWarning
                         : severity >= EVENT_LOG_MSG  ? LogLevel::kInfo
                                                      : LogLevel::kDebug;
  throttle.log(level, "libevent", {{"ERROR", message != nullptr ? message : ""}});
}

}  // namespace

void route_libevent_log() { event_set_log_callback(&on_libevent_log); }

}  // namespace gpsrelay::core
