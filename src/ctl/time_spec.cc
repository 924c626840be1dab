// parse_time_spec and format_utc (see time_spec.h).
#include "ctl/time_spec.h"

#include <charconv>
#include <chrono>
#include <cstdio>

#include "core/units.h"

namespace gpsrelay::ctl {
namespace {

// Reads exactly `digits` digits at `pos`.
std::optional<int> number_at(std::string_view text, std::size_t pos, std::size_t digits) {
  if (pos + digits > text.size()) return std::nullopt;
  int value = 0;
  for (std::size_t i = pos; i < pos + digits; ++i) {
    if (text[i] < '0' || text[i] > '9') return std::nullopt;
    value = value * 10 + (text[i] - '0');
  }
  return value;
}

std::optional<std::int64_t> parse_utc(std::string_view text) {
  if (!text.empty() && (text.back() == 'Z' || text.back() == 'z')) text.remove_suffix(1);
  const auto year = number_at(text, 0, 4);
  const auto month = number_at(text, 5, 2);
  const auto day = number_at(text, 8, 2);
  if (!year || !month || !day || text[4] != '-' || text[7] != '-') return std::nullopt;
  int hour = 0;
  int minute = 0;
  int second = 0;
  if (text.size() > 10) {
    if (text[10] != 'T' && text[10] != 't' && text[10] != ' ') return std::nullopt;
    const auto h = number_at(text, 11, 2);
    const auto m = number_at(text, 14, 2);
    if (!h || !m || text.size() < 16 || text[13] != ':') return std::nullopt;
    hour = *h;
    minute = *m;
    if (text.size() > 16) {
      const auto s = number_at(text, 17, 2);
      if (!s || text[16] != ':' || text.size() != 19) return std::nullopt;
      second = *s;
    }
  } else if (text.size() != 10) {
    return std::nullopt;
  }
  using namespace std::chrono;
  const year_month_day date{std::chrono::year(*year),
                            std::chrono::month(static_cast<unsigned>(*month)),
                            std::chrono::day(static_cast<unsigned>(*day))};
  if (!date.ok() || hour > 23 || minute > 59 || second > 59) return std::nullopt;
  const auto t = sys_days(date) + hours(hour) + minutes(minute) + seconds(second);
  return duration_cast<milliseconds>(t.time_since_epoch()).count();
}

}  // namespace

std::optional<std::int64_t> parse_time_spec(std::string_view text, std::int64_t now_ms) {
  if (const auto ago = core::parse_duration(text)) {
    return now_ms - ago->count();
  }
  return parse_utc(text);
}

std::string format_utc(std::int64_t unix_ms) {
  using namespace std::chrono;
  const sys_time<milliseconds> t{milliseconds(unix_ms)};
  const auto day = floor<days>(t);
  const year_month_day date{day};
  const hh_mm_ss<milliseconds> time{t - day};
  char out[32];
  std::snprintf(out, sizeof out, "%04d-%02u-%02u %02d:%02d:%02d", static_cast<int>(date.year()),
                static_cast<unsigned>(date.month()), static_cast<unsigned>(date.day()),
                static_cast<int>(time.hours().count()), static_cast<int>(time.minutes().count()),
                static_cast<int>(time.seconds().count()));
  return out;
}

}  // namespace gpsrelay::ctl
