// The INI adapter: reads gpsrelay.conf text with libinih and hands each
// "key = value" line to a callback, with its section and line number.
//
// Internal to the config subsystem (config.cc); nothing outside
// src/core/config*.cc includes it. It owns the file syntax (sections,
// comments, "key = value", line limits) and the errors about it; what a key
// means and whether its value is valid is the caller's business.
//
// How libinih is used. libinih's behaviour is fixed when it is compiled
// (upstream's INI_* macros; Debian happens to export a few as variables,
// other distributions do not), and its defaults do not fit the contract:
// lines are cut at 200 bytes, an indented line continues the previous value
// (an indented "port = 1" would silently become part of "host"), only ';'
// starts an inline comment, the handler is not told the line number, and an
// empty [section] never reaches the handler. So we parse with
// ini_parse_stream() and our own reader, which hands libinih exactly one
// physical line per call, already normalised: comment stripped, whitespace
// trimmed, section header checked, "key=value" in canonical form. libinih
// then splits the pair, tracks the section and calls the handler before it
// asks for the next line, so the reader's line counter is the handler's
// line number. A line too long for libinih's buffer is passed as "key=" and
// its value is kept aside for the handler, so long header or targets values
// work whatever buffer size libinih was built with.
//
// Comment rule: '#' or ';' starts a comment at the beginning of a line, at
// the beginning of a value, or when it follows whitespace. "abc#1" is a
// value; "abc #1" and "key =#1" hold a comment. So no value starts with '#'
// or ';', which keeps "key = value" and "key =value" the same, and a secret
// starting with one or containing " #" or " ;" must come from a *_file.
// Values are never quoted.
#pragma once

#include <functional>
#include <string>
#include <string_view>

namespace gpsrelay::core::config_internal {

// Receives one "key = value" line: `section` is the current [section] (""
// before the first), `value` is trimmed and without its comment. May throw;
// the scan stops and scan_ini() rethrows.
using IniPairHandler = std::function<void(std::string_view section, std::string_view name,
                                          std::string_view value, int line)>;

// Scans `text`, the contents of a file named `origin_name`, in file order.
// Throws ConfigError "ORIGIN:LINE: message" for a line that is not a
// section header, a "key = value" pair, a comment or blank, and for an
// unknown [section]; rethrows whatever `on_pair` throws.
void scan_ini(std::string_view text, const std::string& origin_name, const IniPairHandler& on_pair);

}  // namespace gpsrelay::core::config_internal
