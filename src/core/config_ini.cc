// The INI adapter over libinih (see config_ini.h for how libinih is used).
#include "core/config_ini.h"

#include <ini.h>

#include <algorithm>
#include <cstring>
#include <exception>

#include "core/config.h"
#include "core/config_keys.h"
#include "core/config_values.h"

namespace gpsrelay::core::config_internal {
namespace {

// Feeds libinih one normalised line at a time; see config_ini.h.
class IniScan {
 public:
  IniScan(std::string_view text, const std::string& origin_name, const IniPairHandler& on_pair)
      : text_(text), origin_name_(origin_name), on_pair_(on_pair) {}

  void run() {
    const int result = ini_parse_stream(&IniScan::read_line, this, &IniScan::handle_pair, this);
    if (failure_) std::rethrow_exception(failure_);
    // Our reader only hands libinih lines it accepts, so this is a safety net.
    if (result != 0) throw error_at(std::max(result, 0), "cannot parse this line");
  }

 private:
  // libinih is C: nothing may unwind through it. Exceptions are parked in
  // failure_, which also makes the reader report end of input.
  static char* read_line(char* buffer, int size, void* self) {
    auto* scan = static_cast<IniScan*>(self);
    try {
      return scan->next_line(buffer, static_cast<std::size_t>(std::max(size, 0)));
    } catch (...) {
      scan->failure_ = std::current_exception();
      return nullptr;
    }
  }

  static int handle_pair(void* self, const char* section, const char* name, const char* value) {
    auto* scan = static_cast<IniScan*>(self);
    if (scan->failure_) return 0;
    try {
      const std::string_view text = scan->stashed_line_ == scan->line_
                                        ? std::string_view(scan->stashed_value_)
                                        : std::string_view(value);
      scan->on_pair_(section, name, text, scan->line_);
      return 1;
    } catch (...) {
      scan->failure_ = std::current_exception();
      return 0;
    }
  }

  char* next_line(char* buffer, std::size_t size) {
    if (failure_ || position_ >= text_.size()) return nullptr;
    const std::size_t newline = text_.find('\n', position_);
    std::string_view raw = text_.substr(position_, newline - position_);
    position_ = newline == std::string_view::npos ? text_.size() : newline + 1;
    ++line_;
    if (line_ == 1 && raw.starts_with("\xEF\xBB\xBF")) raw.remove_prefix(3);
    if (raw.find('\0') != std::string_view::npos) throw error_at(line_, "NUL byte in line");

    const std::string_view content = trim(strip_comment(raw));
    std::string canonical;
    if (content.starts_with('[')) {
      if (!content.ends_with(']')) throw error_at(line_, "expected '[section]'");
      const std::string_view name = trim(content.substr(1, content.size() - 2));
      if (!is_section(name)) {
        throw error_at(line_, "unknown section [" + printable(name) + "]");
      }
      canonical = "[" + std::string(name) + "]";
    } else if (!content.empty()) {
      const std::size_t separator = content.find_first_of("=:");
      // libinih would also split "key: value"; the contract says key = value,
      // and "listen 0.0.0.0:8080" (a forgotten '=') must not become a key.
      if (separator == std::string_view::npos || content[separator] != '=') {
        throw error_at(line_, "expected 'key = value' or '[section]'");
      }
      const std::string_view key = trim(content.substr(0, separator));
      const std::string_view value = trim(strip_comment(trim(content.substr(separator + 1))));
      if (key.empty()) throw error_at(line_, "missing key before '='");
      canonical = std::string(key) + "=" + std::string(value);
      if (canonical.size() + 2 > size) {
        stashed_line_ = line_;
        stashed_value_ = value;
        canonical = std::string(key) + "=";
      }
    }
    // Leave room for "\n\0": a full buffer without a newline makes libinih
    // treat the line as truncated and swallow the next one.
    if (canonical.size() + 2 > size) throw error_at(line_, "line is too long");
    std::memcpy(buffer, canonical.data(), canonical.size());
    buffer[canonical.size()] = '\n';
    buffer[canonical.size() + 1] = '\0';
    return buffer;
  }

  // Formatted as ConfigBuilder formats a file origin: line 0 is the whole file.
  ConfigError error_at(int line, const std::string& message) const {
    return ConfigError(line > 0 ? origin_name_ + ":" + std::to_string(line) : origin_name_,
                       message);
  }

  std::string_view text_;
  const std::string& origin_name_;
  const IniPairHandler& on_pair_;
  std::size_t position_ = 0;
  int line_ = 0;
  int stashed_line_ = 0;  // The line whose value did not fit libinih's buffer.
  std::string stashed_value_;
  std::exception_ptr failure_;
};

}  // namespace

void scan_ini(std::string_view text, const std::string& origin_name,
              const IniPairHandler& on_pair) {
  IniScan(text, origin_name, on_pair).run();
}

}  // namespace gpsrelay::core::config_internal
