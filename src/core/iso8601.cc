// ISO 8601 date-times to Unix milliseconds (see iso8601.h): one strict
// left-to-right scan, fixed digit counts, calendar checks at the end.
#include "core/iso8601.h"

#include <cstddef>

namespace gpsrelay::core {
namespace {

// Howard Hinnant's days_from_civil: days since 1970-01-01 of a proleptic
// Gregorian date. Our years are four digits, so int64 never overflows.
std::int64_t days_from_civil(std::int64_t year, unsigned month, unsigned day) {
  year -= month <= 2 ? 1 : 0;
  const std::int64_t era = (year >= 0 ? year : year - 399) / 400;
  const auto year_of_era = static_cast<unsigned>(year - era * 400);
  const unsigned day_of_year = (153 * (month > 2 ? month - 3 : month + 9) + 2) / 5 + day - 1;
  const unsigned day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
  return era * 146097 + static_cast<std::int64_t>(day_of_era) - 719468;
}

unsigned days_in_month(std::int64_t year, unsigned month) {
  static constexpr unsigned kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  const bool leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
  return month == 2 && leap ? 29 : kDays[month - 1];
}

// Reads exactly `count` digits at `pos`.
bool read_digits(std::string_view text, std::size_t& pos, std::size_t count, unsigned& out) {
  if (text.size() - pos < count) return false;
  out = 0;
  for (std::size_t i = 0; i < count; ++i) {
    const char c = text[pos + i];
    if (c < '0' || c > '9') return false;
    out = out * 10 + static_cast<unsigned>(c - '0');
  }
  pos += count;
  return true;
}

bool consume(std::string_view text, std::size_t& pos, char c) {
  if (pos < text.size() && text[pos] == c) {
    ++pos;
    return true;
  }
  return false;
}

}  // namespace

std::optional<std::int64_t> parse_iso8601_ms(std::string_view text) {
  std::size_t pos = 0;
  unsigned year = 0, month = 0, day = 0, hour = 0, minute = 0, second = 0;
  if (!read_digits(text, pos, 4, year) || !consume(text, pos, '-') ||
      !read_digits(text, pos, 2, month) || !consume(text, pos, '-') ||
      !read_digits(text, pos, 2, day)) {
    return std::nullopt;
  }
  if (!(consume(text, pos, 'T') || consume(text, pos, 't') || consume(text, pos, ' '))) {
    return std::nullopt;
  }
  if (!read_digits(text, pos, 2, hour) || !consume(text, pos, ':') ||
      !read_digits(text, pos, 2, minute)) {
    return std::nullopt;
  }
  unsigned millis = 0;
  if (consume(text, pos, ':')) {
    if (!read_digits(text, pos, 2, second)) return std::nullopt;
    if (consume(text, pos, '.') || consume(text, pos, ',')) {
      // Any number of fraction digits; milliseconds keep the first three.
      std::size_t digits = 0;
      while (pos < text.size() && text[pos] >= '0' && text[pos] <= '9') {
        if (digits < 3) millis = millis * 10 + static_cast<unsigned>(text[pos] - '0');
        ++digits;
        ++pos;
      }
      if (digits == 0) return std::nullopt;
      for (; digits < 3; ++digits) millis *= 10;
    }
  }
  std::int64_t offset_minutes = 0;
  if (consume(text, pos, 'Z') || consume(text, pos, 'z')) {
    // UTC
  } else if (pos < text.size() && (text[pos] == '+' || text[pos] == '-')) {
    const bool west = text[pos] == '-';
    ++pos;
    unsigned offset_hour = 0, offset_minute = 0;
    if (!read_digits(text, pos, 2, offset_hour)) return std::nullopt;
    if (pos < text.size()) {
      consume(text, pos, ':');
      if (!read_digits(text, pos, 2, offset_minute)) return std::nullopt;
    }
    if (offset_hour > 23 || offset_minute > 59) return std::nullopt;
    offset_minutes = (west ? -1 : 1) * static_cast<std::int64_t>(offset_hour * 60 + offset_minute);
  }
  if (pos != text.size()) return std::nullopt;
  if (month < 1 || month > 12 || day < 1 || day > days_in_month(year, month) || hour > 23 ||
      minute > 59 || second > 60) {
    return std::nullopt;
  }
  const std::int64_t seconds = days_from_civil(year, month, day) * 86400 + hour * 3600 +
                               minute * 60 + second - offset_minutes * 60;
  return seconds * 1000 + millis;
}

}  // namespace gpsrelay::core
