// The value parsers of gpsrelay.conf (see config_values.h). Bytes are
// classified by their ASCII value only; no locale is consulted.
#include "core/config_values.h"

#include <algorithm>
#include <cctype>
#include <cmath>

#include "core/units.h"

namespace gpsrelay::core::config_internal {
namespace {

using std::chrono::milliseconds;

// Durations fit in 32-bit seconds, so every consumer can pass them on to a
// C API without checking again.
constexpr milliseconds kMaxDuration = std::chrono::hours(24 * 3650);
constexpr double kMaxRate = 1e9;

bool iequals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && upper(a) == upper(b);
}

bool is_hostname_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
         c == '-' || c == '_';
}

bool is_ipv6_char(char c) {
  return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F') || c == ':' ||
         c == '.';
}

}  // namespace

bool is_space(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f';
}

bool is_control(char c) {
  const auto byte = static_cast<unsigned char>(c);
  return byte < 0x20 || byte == 0x7f;
}

std::string_view trim(std::string_view text) {
  while (!text.empty() && is_space(text.front())) text.remove_prefix(1);
  while (!text.empty() && is_space(text.back())) text.remove_suffix(1);
  return text;
}

// The entries of a comma-separated list, trimmed; an empty value is an
// empty list, an empty entry ("a,,b") an error.
std::vector<std::string_view> list_items(std::string_view value) {
  std::vector<std::string_view> items;
  if (trim(value).empty()) return items;
  std::size_t start = 0;
  while (true) {
    const std::size_t comma = value.find(',', start);
    const std::string_view item = trim(value.substr(start, comma - start));
    if (item.empty()) throw ValueError("empty entry in the comma-separated list");
    items.push_back(item);
    if (comma == std::string_view::npos) return items;
    start = comma + 1;
  }
}

std::string_view strip_comment(std::string_view line) {
  bool after_space = true;  // The start of a line counts as whitespace.
  for (std::size_t i = 0; i < line.size(); ++i) {
    if (after_space && (line[i] == '#' || line[i] == ';')) return line.substr(0, i);
    after_space = is_space(line[i]);
  }
  return line;
}

std::string printable(std::string_view text) {
  constexpr std::size_t kMaxShown = 64;
  std::string out;
  for (char c : text.substr(0, kMaxShown)) out += is_control(c) ? '?' : c;
  if (text.size() > kMaxShown) out += "...";
  return out;
}

std::string upper(std::string_view text) {
  std::string out(text);
  for (char& c : out) {
    if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
  }
  return out;
}

void check_plain_text(std::string_view value) {
  if (std::any_of(value.begin(), value.end(), [](char c) { return c != '\t' && is_control(c); })) {
    throw ValueError("contains a control character");
  }
  if (strip_comment(value).size() != value.size()) {
    throw ValueError("contains '#' or ';' at the start or after a space, which starts a comment");
  }
}

milliseconds parse_duration_value(std::string_view value, bool allow_zero) {
  const std::optional<milliseconds> duration = parse_duration(value);
  if (!duration) throw ValueError("expected a duration with a unit: 250ms, 5s, 10m, 2h or 30d");
  if (!allow_zero && duration->count() == 0) throw ValueError("must be greater than 0");
  if (*duration > kMaxDuration) {
    throw ValueError("must be at most " + format_duration(kMaxDuration));
  }
  return *duration;
}

std::vector<milliseconds> parse_duration_list(std::string_view value) {
  std::vector<milliseconds> durations;
  for (const std::string_view item : list_items(value)) {
    durations.push_back(parse_duration_value(item, /*allow_zero=*/true));
  }
  return durations;
}

std::uint64_t parse_size_value(std::string_view value, std::uint64_t min, std::uint64_t max) {
  const std::optional<std::uint64_t> size = parse_size(value);
  if (!size) throw ValueError("expected a size in bytes, optionally with k or m: 65536, 64k, 1m");
  if (*size < min || *size > max) {
    throw ValueError("must be between " + format_size(min) + " and " + format_size(max));
  }
  return *size;
}

std::uint64_t parse_distance_value(std::string_view value, std::uint64_t min, std::uint64_t max) {
  const std::optional<std::uint64_t> metres = parse_distance(value);
  if (!metres) throw ValueError("expected a distance with a unit: 500m, 50km");
  if (*metres < min || *metres > max) {
    throw ValueError("must be between " + format_distance(min) + " and " + format_distance(max));
  }
  return *metres;
}

bool parse_bool(std::string_view value) {
  for (const std::string_view yes : {"true", "yes", "on", "1"}) {
    if (iequals(value, yes)) return true;
  }
  for (const std::string_view no : {"false", "no", "off", "0"}) {
    if (iequals(value, no)) return false;
  }
  throw ValueError("expected true or false");
}

double parse_rate(std::string_view value) {
  double number = 0;
  const char* const end = value.data() + value.size();
  const auto [rest, error] = std::from_chars(value.data(), end, number, std::chars_format::fixed);
  if (value.empty() || value.front() == '-' || error != std::errc{} || rest != end ||
      !std::isfinite(number)) {
    throw ValueError("expected a non-negative decimal number, e.g. 10 or 2.5");
  }
  if (number > kMaxRate) throw ValueError("must be at most 1000000000");
  return number;
}

std::string format_rate(double rate) {
  char buffer[400];  // Enough for any double below kMaxRate in fixed notation.
  const auto [end, error] =
      std::to_chars(buffer, buffer + sizeof(buffer), rate, std::chars_format::fixed);
  if (error != std::errc{}) return "0";
  return std::string(buffer, end);
}

Endpoint parse_endpoint(std::string_view value, bool allow_unix) {
  constexpr std::string_view kUnix = "unix:";
  if (value.starts_with(kUnix)) {
    if (!allow_unix) throw ValueError("a Unix socket is not possible here; expected host:port");
    const std::string_view path = value.substr(kUnix.size());
    if (!path.starts_with('/')) throw ValueError("expected unix:/absolute/path");
    return Endpoint{"", 0, std::string(path)};
  }
  std::string_view host;
  std::string_view port;
  if (value.starts_with('[')) {
    const std::size_t close = value.find(']');
    if (close == std::string_view::npos) throw ValueError("missing ']' after the IPv6 address");
    host = value.substr(1, close - 1);
    const std::string_view rest = value.substr(close + 1);
    if (!rest.starts_with(':')) throw ValueError("expected [address]:port, e.g. [::]:8080");
    port = rest.substr(1);
    // A link-local address may carry a zone: [fe80::1%eth0]:8080.
    const std::size_t percent = host.find('%');
    const std::string_view address = host.substr(0, percent);
    const std::string_view zone = percent == std::string_view::npos ? "" : host.substr(percent + 1);
    const bool zone_ok = percent == std::string_view::npos ||
                         (!zone.empty() && std::all_of(zone.begin(), zone.end(), is_hostname_char));
    if (address.find(':') == std::string_view::npos ||
        !std::all_of(address.begin(), address.end(), is_ipv6_char) || !zone_ok) {
      throw ValueError("not an IPv6 address inside [...]");
    }
  } else {
    const std::size_t colon = value.rfind(':');
    if (colon == std::string_view::npos)
      throw ValueError("expected host:port, e.g. 127.0.0.1:6379");
    host = value.substr(0, colon);
    port = value.substr(colon + 1);
    if (host.find(':') != std::string_view::npos) {
      throw ValueError("an IPv6 address needs brackets, e.g. [::1]:6379");
    }
    if (host == "*") throw ValueError("'*' is ambiguous; use 0.0.0.0 (IPv4) or [::] (IPv6)");
    if (host.empty()) throw ValueError("missing host before ':'");
    if (!std::all_of(host.begin(), host.end(), is_hostname_char)) {
      throw ValueError("not a host name or IPv4 address");
    }
  }
  try {
    return Endpoint{std::string(host), parse_integer<std::uint16_t>(port, 1, 65535), ""};
  } catch (const ValueError&) {
    throw ValueError("expected a port number between 1 and 65535 after ':'");
  }
}

std::optional<Endpoint> parse_optional_endpoint(std::string_view value) {
  if (value.empty()) return std::nullopt;
  return parse_endpoint(value, /*allow_unix=*/false);
}

std::string render_optional_endpoint(const std::optional<Endpoint>& endpoint) {
  return endpoint ? endpoint->to_string() : "";
}

std::string parse_path(const ValueContext& context, std::string_view value) {
  if (value.empty()) return "";
  std::filesystem::path path(value);
  if (path.is_relative() && !context.base_dir.empty()) path = context.base_dir / path;
  std::string resolved = path.string();
  check_plain_text(resolved);
  return resolved;
}

std::string parse_non_empty(std::string_view value) {
  if (value.empty()) throw ValueError("must not be empty");
  return std::string(value);
}

std::vector<std::string> parse_targets(std::string_view value) {
  std::vector<std::string> targets;
  for (const std::string_view url : list_items(value)) {
    std::string_view rest = url;
    if (rest.starts_with("http://")) {
      rest.remove_prefix(7);
    } else if (rest.starts_with("https://")) {
      rest.remove_prefix(8);
    } else {
      throw ValueError("'" + printable(url) + "' does not start with http:// or https://");
    }
    if (rest.empty() || rest.front() == '/' || rest.front() == '?' || rest.front() == '#') {
      throw ValueError("'" + printable(url) + "' has no host");
    }
    if (std::any_of(url.begin(), url.end(), [](char c) { return is_space(c) || is_control(c); })) {
      throw ValueError("'" + printable(url) + "' contains whitespace");
    }
    targets.emplace_back(url);
  }
  return targets;
}

std::string parse_tile_url(std::string_view value) {
  value = trim(value);
  if (value.empty()) return {};
  if (!value.starts_with("http://") && !value.starts_with("https://")) {
    throw ValueError("'" + printable(value) + "' does not start with http:// or https://");
  }
  // The page puts it into a script: nothing that could end a string.
  if (std::any_of(value.begin(), value.end(), [](char c) {
        return is_space(c) || is_control(c) || c == '"' || c == '\\' || c == '\'' || c == '<';
      })) {
    throw ValueError("'" + printable(value) + "' contains whitespace, quotes or '<'");
  }
  for (const std::string_view part : {"{z}", "{x}", "{y}"}) {
    if (value.find(part) == std::string_view::npos) {
      throw ValueError("'" + printable(value) + "' has no " + std::string(part));
    }
  }
  return std::string(value);
}

std::vector<std::string> parse_origins(std::string_view value) {
  std::vector<std::string> origins;
  for (const std::string_view origin : list_items(value)) {
    const std::size_t scheme_end = origin.find("://");
    const std::string_view scheme = origin.substr(0, scheme_end);
    const std::string_view host =
        scheme_end == std::string_view::npos ? std::string_view() : origin.substr(scheme_end + 3);
    if ((scheme != "http" && scheme != "https") || host.empty() ||
        std::any_of(host.begin(), host.end(), [](char c) {
          return c == '/' || c == '?' || c == '#' || is_space(c) || is_control(c);
        })) {
      throw ValueError("'" + printable(origin) +
                       "' is not an origin (http:// or https://, a host, an optional port)");
    }
    std::string lowered(origin);
    std::transform(lowered.begin(), lowered.end(), lowered.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    origins.push_back(std::move(lowered));
  }
  return origins;
}

std::vector<Endpoint> parse_endpoint_list(std::string_view value) {
  std::vector<Endpoint> endpoints;
  for (const std::string_view item : list_items(value)) {
    endpoints.push_back(parse_endpoint(item, /*allow_unix=*/false));
  }
  return endpoints;
}

std::string join(const std::vector<std::string>& items) {
  std::string out;
  for (const std::string& item : items) out += (out.empty() ? "" : ",") + item;
  return out;
}

std::string render_durations(const std::vector<milliseconds>& durations) {
  std::string out;
  for (const milliseconds d : durations) out += (out.empty() ? "" : ",") + format_duration(d);
  return out;
}

std::string parse_health_path(std::string_view value) {
  if (value.empty()) return "";
  if (!value.starts_with('/')) throw ValueError("must start with '/', e.g. /health");
  if (std::any_of(value.begin(), value.end(), is_space)) throw ValueError("contains whitespace");
  return std::string(value);
}

std::string parse_password(std::string_view value) {
  if (value.find_first_of(std::string_view("\0\r\n", 3)) != std::string_view::npos) {
    throw ValueError("contains a line break or NUL byte");
  }
  return std::string(value);
}

std::string parse_header(std::string_view value) {
  if (value.empty()) return "";
  if (std::any_of(value.begin(), value.end(), [](char c) { return c != '\t' && is_control(c); })) {
    throw ValueError("contains a control character or line break");
  }
  const std::size_t colon = value.find(':');
  if (colon == std::string_view::npos) throw ValueError("expected 'Name: value'");
  const std::string_view name = value.substr(0, colon);
  // Narrower than RFC 9110's token on purpose: real header names fit, and a
  // name can then never start a comment when rendered.
  if (name.empty() || !std::all_of(name.begin(), name.end(), is_hostname_char)) {
    throw ValueError("expected 'Name: value'; a name has letters, digits, '-', '_' or '.'");
  }
  // gpsrelay sets these itself; a second copy would break framing or
  // de-duplication upstream.
  for (std::string_view reserved :
       {"Content-Length", "Transfer-Encoding", "Content-Type", "Host", "Connection", "X-Request-ID",
        "X-GPSRelay-Message-ID", "X-GPSRelay-Attempt", "X-Request-IDs", "X-GPSRelay-Message-IDs"}) {
    if (iequals(name, reserved)) {
      throw ValueError("header '" + std::string(name) + "' is set by gpsrelay itself");
    }
  }
  return std::string(value);
}

std::string parse_socket_path(std::string_view value) {
  if (!value.empty() && !value.starts_with('/')) throw ValueError("must be an absolute path");
  return std::string(value);
}

}  // namespace gpsrelay::core::config_internal
