// Parsing, validation and rendering of gpsrelay.conf.
//
// Owns the key table (one row per key: its section, name, how to parse and
// how to render it), the line reader that feeds libinih, the environment
// overrides and the *_file secrets. It does not log, touch the network, or
// look inside certificate, key or tokens files; their users do that.
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
#include "core/config.h"

#include <ini.h>
#include <sys/stat.h>

#include <algorithm>
#include <array>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <exception>
#include <filesystem>
#include <limits>
#include <map>
#include <thread>
#include <utility>

#include "core/c_handle.h"
#include "core/units.h"

namespace gpsrelay::core {
namespace {

using std::chrono::milliseconds;

constexpr std::string_view kMask = "********";
constexpr std::string_view kEnvPrefix = "GPSRELAY_";
constexpr std::string_view kFileSuffix = "_file";

// Bounds that keep every value usable by its consumer without further
// checks: durations fit in 32-bit seconds, a body fits in one Redis bulk
// string (proto-max-bulk-len defaults to 512 MiB), and counts stay sane.
constexpr std::size_t kMaxConfigBytes = 1024 * 1024;
constexpr std::size_t kMaxSecretBytes = 64 * 1024;
constexpr milliseconds kMaxDuration = std::chrono::hours(24 * 3650);
constexpr std::uint64_t kMaxBodyBytes = 512 * 1024 * 1024;
constexpr unsigned kMaxThreads = 1024;
constexpr unsigned kMaxConcurrency = 1000000;
constexpr std::uint64_t kMaxConnections = 1000000;
constexpr std::uint64_t kMaxInflightBytes = 64ULL * 1024 * 1024 * 1024;
constexpr double kMaxRate = 1e9;

// A malformed value. Parsers throw it without knowing where the value came
// from; ConfigBuilder adds the file and line or the variable name.
class ValueError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// Where a value came from: a file line, an environment variable, or (line 0)
// the file as a whole.
struct Origin {
  std::string file;
  int line = 0;
  std::string env_var;

  std::string describe() const {
    if (!env_var.empty()) return "environment " + env_var;
    if (line > 0) return file + ":" + std::to_string(line);
    return file;
  }
};

// What a value may depend on besides its own text.
struct ValueContext {
  std::filesystem::path base_dir;  // Relative paths are taken relative to it.
};

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

// The text up to the first comment, by the rule in the header comment.
std::string_view strip_comment(std::string_view line) {
  bool after_space = true;  // The start of a line counts as whitespace.
  for (std::size_t i = 0; i < line.size(); ++i) {
    if (after_space && (line[i] == '#' || line[i] == ';')) return line.substr(0, i);
    after_space = is_space(line[i]);
  }
  return line;
}

// `text` made safe to quote in a one-line message: no control characters,
// not overly long.
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

bool iequals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && upper(a) == upper(b);
}

// Values that did not come through the file reader (environment, resolved
// paths) must still render as a line that reads back the same, or
// --check-config would print a configuration other than the one in effect.
void check_plain_text(std::string_view value) {
  if (std::any_of(value.begin(), value.end(), [](char c) { return c != '\t' && is_control(c); })) {
    throw ValueError("contains a control character");
  }
  if (strip_comment(value).size() != value.size()) {
    throw ValueError("contains '#' or ';' at the start or after a space, which starts a comment");
  }
}

using FilePtr = CHandle<std::FILE, std::fclose>;

// Reads at most `max_bytes` of the file at `path`. A secret must be a
// regular file: a FIFO or a device such as /dev/stdin would block start-up
// or yield an endless value.
std::string read_file(const std::string& path, std::size_t max_bytes, bool regular_only) {
  FilePtr file(std::fopen(path.c_str(), "rb"));
  if (!file) throw ValueError(std::string("cannot open: ") + std::strerror(errno));
  struct stat info {};
  if (fstat(fileno(file.get()), &info) != 0) {
    throw ValueError(std::string("cannot stat: ") + std::strerror(errno));
  }
  if (S_ISDIR(info.st_mode)) throw ValueError("is a directory");
  if (regular_only && !S_ISREG(info.st_mode)) throw ValueError("is not a regular file");
  std::string contents;
  char buffer[4096];
  while (contents.size() <= max_bytes) {
    const std::size_t n = std::fread(buffer, 1, sizeof(buffer), file.get());
    contents.append(buffer, n);
    if (n < sizeof(buffer)) break;
  }
  if (std::ferror(file.get()) != 0)
    throw ValueError(std::string("cannot read: ") + std::strerror(errno));
  if (contents.size() > max_bytes) {
    throw ValueError("is larger than " + format_size(max_bytes) + " bytes");
  }
  return contents;
}

// ---- Value parsers. Each throws ValueError saying what was expected. ----

template <typename T>
T parse_integer(std::string_view value, T min, T max) {
  T number{};
  const char* const end = value.data() + value.size();
  const auto [rest, error] = std::from_chars(value.data(), end, number, 10);
  // from_chars accepts a '-' for signed types; a sign is never meant here.
  const bool digits_only = !value.empty() && value.front() != '-' && rest == end;
  if (!digits_only || (error != std::errc{} && error != std::errc::result_out_of_range)) {
    throw ValueError("expected a whole number");
  }
  if (error == std::errc::result_out_of_range || number < min || number > max) {
    throw ValueError("must be between " + std::to_string(min) + " and " + std::to_string(max));
  }
  return number;
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

// Durations separated by commas; an empty value is an empty list.
std::vector<milliseconds> parse_duration_list(std::string_view value) {
  std::vector<milliseconds> durations;
  if (value.empty()) return durations;
  std::size_t start = 0;
  while (true) {
    const std::size_t comma = value.find(',', start);
    const std::string_view item = trim(value.substr(start, comma - start));
    if (item.empty()) throw ValueError("empty entry in the comma-separated list");
    durations.push_back(parse_duration_value(item, /*allow_zero=*/true));
    if (comma == std::string_view::npos) return durations;
    start = comma + 1;
  }
}

std::uint64_t parse_size_value(std::string_view value, std::uint64_t min, std::uint64_t max) {
  const std::optional<std::uint64_t> size = parse_size(value);
  if (!size) throw ValueError("expected a size in bytes, optionally with k or m: 65536, 64k, 1m");
  if (*size < min || *size > max) {
    throw ValueError("must be between " + format_size(min) + " and " + format_size(max));
  }
  return *size;
}

// A non-negative decimal such as "10" or "2.5". Exponents are not accepted,
// so render_config() writes rates in fixed notation too.
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

bool is_hostname_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
         c == '-' || c == '_';
}

bool is_ipv6_char(char c) {
  return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F') || c == ':' ||
         c == '.';
}

// "host:port", "[v6]:port", and with `allow_unix` "unix:/path". "*:port" is
// rejected rather than guessed: it could mean all IPv4 or all IPv6 addresses.
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

// A file path; relative ones are anchored at the config file's directory.
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

// Comma-separated http:// or https:// URLs; an empty value is an empty list.
std::vector<std::string> parse_targets(std::string_view value) {
  std::vector<std::string> targets;
  if (value.empty()) return targets;
  std::size_t start = 0;
  while (true) {
    const std::size_t comma = value.find(',', start);
    const std::string_view url = trim(value.substr(start, comma - start));
    if (url.empty()) throw ValueError("empty entry in the comma-separated list");
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
    if (comma == std::string_view::npos) return targets;
    start = comma + 1;
  }
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

// Passwords come from operators' files; a line break left inside one means
// the wrong file (a PEM, a two-line note), and a NUL would cut it short in
// the C client libraries.
std::string parse_password(std::string_view value) {
  if (value.find_first_of(std::string_view("\0\r\n", 3)) != std::string_view::npos) {
    throw ValueError("contains a line break or NUL byte");
  }
  return std::string(value);
}

// "Name: value", sent to every target. Never echoes the value: it is secret.
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
        "X-GPSRelay-Message-ID", "X-GPSRelay-Attempt"}) {
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

template <typename Enum, std::size_t N>
Enum parse_choice(std::string_view value,
                  const std::array<std::pair<std::string_view, Enum>, N>& choices) {
  std::string names;
  for (const auto& [name, choice] : choices) {
    if (value == name) return choice;
    names += (names.empty() ? "" : ", ") + std::string(name);
  }
  throw ValueError("expected one of: " + names);
}

template <typename Enum, std::size_t N>
std::string render_choice(Enum value,
                          const std::array<std::pair<std::string_view, Enum>, N>& choices) {
  for (const auto& [name, choice] : choices) {
    if (value == choice) return std::string(name);
  }
  return "";
}

constexpr std::array<std::pair<std::string_view, std::string_view>, 2> kTlsVersions{
    {{"1.2", "1.2"}, {"1.3", "1.3"}}};
constexpr std::array<std::pair<std::string_view, AuthConfig::Mode>, 2> kAuthModes{
    {{"none", AuthConfig::Mode::kNone}, {"token", AuthConfig::Mode::kToken}}};
constexpr std::array<std::pair<std::string_view, LogConfig::Level>, 4> kLogLevels{
    {{"debug", LogConfig::Level::kDebug},
     {"info", LogConfig::Level::kInfo},
     {"warning", LogConfig::Level::kWarning},
     {"error", LogConfig::Level::kError}}};
constexpr std::array<std::pair<std::string_view, LogConfig::Target>, 3> kLogTargets{
    {{"auto", LogConfig::Target::kAuto},
     {"journal", LogConfig::Target::kJournal},
     {"stderr", LogConfig::Target::kStderr}}};

// ---- The key table: the single list of keys, in the shipped file's order. ----

// Secrets are rendered through one of these. The header keeps its name, so
// that --check-config shows which header is sent and its output still parses.
std::string mask_all(std::string_view) { return std::string(kMask); }
std::string mask_header_value(std::string_view header) {
  return std::string(header.substr(0, header.find(':'))) + ": " + std::string(kMask);
}

struct KeySpec {
  std::string_view section;
  std::string_view name;
  // Set for a secret: it is masked when rendered, never quoted in messages,
  // and may be given as "<name>_file = PATH" instead. Applied only to a
  // non-empty value.
  std::string (*mask)(std::string_view value);
  // Stores the parsed `value` into `config`; throws ValueError.
  void (*apply)(const ValueContext& context, std::string_view value, Config& config);
  std::string (*render)(const Config& config);

  bool secret() const { return mask != nullptr; }
};

using Ctx = ValueContext;

constexpr KeySpec kKeys[] = {
    {"http", "listen", nullptr,
     [](const Ctx&, std::string_view v, Config& c) { c.http.listen = parse_endpoint(v, false); },
     [](const Config& c) { return c.http.listen.to_string(); }},
    {"http", "threads", nullptr,
     [](const Ctx&, std::string_view v, Config& c) {
       const unsigned threads = parse_integer<unsigned>(v, 0, kMaxThreads);
       c.http.threads = threads == 0 ? default_thread_count() : threads;
     },
     [](const Config& c) { return std::to_string(c.http.threads); }},
    {"http", "max_body_size", nullptr,
     [](const Ctx&, std::string_view v, Config& c) {
       c.http.max_body_bytes = parse_size_value(v, 1, kMaxBodyBytes);
     },
     [](const Config& c) { return format_size(c.http.max_body_bytes); }},
    {"http", "request_timeout", nullptr,
     [](const Ctx&, std::string_view v, Config& c) {
       c.http.request_timeout = parse_duration_value(v, false);
     },
     [](const Config& c) { return format_duration(c.http.request_timeout); }},
    {"http", "keepalive_timeout", nullptr,
     [](const Ctx&, std::string_view v, Config& c) {
       c.http.keepalive_timeout = parse_duration_value(v, false);
     },
     [](const Config& c) { return format_duration(c.http.keepalive_timeout); }},
    {"http", "max_connections", nullptr,
     [](const Ctx&, std::string_view v, Config& c) {
       c.http.max_connections = parse_integer<std::uint64_t>(v, 1, kMaxConnections);
     },
     [](const Config& c) { return std::to_string(c.http.max_connections); }},
    {"http", "max_inflight_bytes", nullptr,
     [](const Ctx&, std::string_view v, Config& c) {
       c.http.max_inflight_bytes = parse_size_value(v, 1, kMaxInflightBytes);
     },
     [](const Config& c) { return format_size(c.http.max_inflight_bytes); }},
    {"http", "rate_limit", nullptr,
     [](const Ctx&, std::string_view v, Config& c) { c.http.rate_limit = parse_rate(v); },
     [](const Config& c) { return format_rate(c.http.rate_limit); }},
    {"http", "rate_burst", nullptr,
     [](const Ctx&, std::string_view v, Config& c) {
       const double burst = parse_rate(v);
       // A bucket that cannot hold one token would refuse every request.
       if (burst > 0 && burst < 1) throw ValueError("must be 0 or at least 1");
       c.http.rate_burst = burst;
     },
     [](const Config& c) { return format_rate(c.http.rate_burst); }},
    {"http", "tls_listen", nullptr,
     [](const Ctx&, std::string_view v, Config& c) {
       c.http.tls_listen = parse_optional_endpoint(v);
     },
     [](const Config& c) { return render_optional_endpoint(c.http.tls_listen); }},
    {"http", "tls_cert", nullptr,
     [](const Ctx& x, std::string_view v, Config& c) { c.http.tls_cert = parse_path(x, v); },
     [](const Config& c) { return c.http.tls_cert; }},
    {"http", "tls_key", nullptr,
     [](const Ctx& x, std::string_view v, Config& c) { c.http.tls_key = parse_path(x, v); },
     [](const Config& c) { return c.http.tls_key; }},
    {"http", "tls_min_version", nullptr,
     [](const Ctx&, std::string_view v, Config& c) {
       c.http.tls_min_version = parse_choice(v, kTlsVersions);
     },
     [](const Config& c) { return c.http.tls_min_version; }},

    {"auth", "mode", nullptr,
     [](const Ctx&, std::string_view v, Config& c) { c.auth.mode = parse_choice(v, kAuthModes); },
     [](const Config& c) { return render_choice(c.auth.mode, kAuthModes); }},
    {"auth", "tokens_file", nullptr,
     [](const Ctx& x, std::string_view v, Config& c) { c.auth.tokens_file = parse_path(x, v); },
     [](const Config& c) { return c.auth.tokens_file; }},

    {"redis", "address", nullptr,
     [](const Ctx&, std::string_view v, Config& c) { c.redis.address = parse_endpoint(v, true); },
     [](const Config& c) { return c.redis.address.to_string(); }},
    {"redis", "password", mask_all,
     [](const Ctx&, std::string_view v, Config& c) { c.redis.password = parse_password(v); },
     [](const Config& c) { return c.redis.password; }},
    {"redis", "db", nullptr,
     [](const Ctx&, std::string_view v, Config& c) {
       c.redis.db = parse_integer<int>(v, 0, std::numeric_limits<int>::max());
     },
     [](const Config& c) { return std::to_string(c.redis.db); }},
    {"redis", "stream", nullptr,
     [](const Ctx&, std::string_view v, Config& c) { c.redis.stream = parse_non_empty(v); },
     [](const Config& c) { return c.redis.stream; }},
    {"redis", "group", nullptr,
     [](const Ctx&, std::string_view v, Config& c) { c.redis.group = parse_non_empty(v); },
     [](const Config& c) { return c.redis.group; }},
    {"redis", "max_queue_length", nullptr,
     [](const Ctx&, std::string_view v, Config& c) {
       c.redis.max_queue_length =
           parse_integer<std::uint64_t>(v, 1, std::numeric_limits<std::uint64_t>::max());
     },
     [](const Config& c) { return std::to_string(c.redis.max_queue_length); }},
    {"redis", "command_timeout", nullptr,
     [](const Ctx&, std::string_view v, Config& c) {
       c.redis.command_timeout = parse_duration_value(v, false);
     },
     [](const Config& c) { return format_duration(c.redis.command_timeout); }},
    {"redis", "idempotency_ttl", nullptr,
     [](const Ctx&, std::string_view v, Config& c) {
       c.redis.idempotency_ttl = parse_duration_value(v, false);
     },
     [](const Config& c) { return format_duration(c.redis.idempotency_ttl); }},

    {"forward", "targets", nullptr,
     [](const Ctx&, std::string_view v, Config& c) { c.forward.targets = parse_targets(v); },
     [](const Config& c) { return join(c.forward.targets); }},
    {"forward", "concurrency", nullptr,
     [](const Ctx&, std::string_view v, Config& c) {
       c.forward.concurrency = parse_integer<unsigned>(v, 1, kMaxConcurrency);
     },
     [](const Config& c) { return std::to_string(c.forward.concurrency); }},
    {"forward", "timeout", nullptr,
     [](const Ctx&, std::string_view v, Config& c) {
       c.forward.timeout = parse_duration_value(v, false);
     },
     [](const Config& c) { return format_duration(c.forward.timeout); }},
    {"forward", "retry_delays", nullptr,
     [](const Ctx&, std::string_view v, Config& c) {
       c.forward.retry_delays = parse_duration_list(v);
     },
     [](const Config& c) { return render_durations(c.forward.retry_delays); }},
    {"forward", "health_path", nullptr,
     [](const Ctx&, std::string_view v, Config& c) {
       c.forward.health_path = parse_health_path(v);
     },
     [](const Config& c) { return c.forward.health_path; }},
    {"forward", "health_interval", nullptr,
     [](const Ctx&, std::string_view v, Config& c) {
       c.forward.health_interval = parse_duration_value(v, false);
     },
     [](const Config& c) { return format_duration(c.forward.health_interval); }},
    {"forward", "breaker_failures", nullptr,
     [](const Ctx&, std::string_view v, Config& c) {
       c.forward.breaker_failures = parse_integer<unsigned>(v, 1, kMaxConcurrency);
     },
     [](const Config& c) { return std::to_string(c.forward.breaker_failures); }},
    {"forward", "breaker_cooldown", nullptr,
     [](const Ctx&, std::string_view v, Config& c) {
       c.forward.breaker_cooldown = parse_duration_value(v, false);
     },
     [](const Config& c) { return format_duration(c.forward.breaker_cooldown); }},
    {"forward", "claim_idle", nullptr,
     [](const Ctx&, std::string_view v, Config& c) {
       c.forward.claim_idle = parse_duration_value(v, false);
     },
     [](const Config& c) { return format_duration(c.forward.claim_idle); }},
    {"forward", "ca_file", nullptr,
     [](const Ctx& x, std::string_view v, Config& c) { c.forward.ca_file = parse_path(x, v); },
     [](const Config& c) { return c.forward.ca_file; }},
    {"forward", "header", mask_header_value,
     [](const Ctx&, std::string_view v, Config& c) { c.forward.header = parse_header(v); },
     [](const Config& c) { return c.forward.header; }},

    {"mysql", "host", nullptr,
     [](const Ctx&, std::string_view v, Config& c) {
       if (std::any_of(v.begin(), v.end(), is_space)) throw ValueError("contains whitespace");
       c.mysql.host = parse_non_empty(v);
     },
     [](const Config& c) { return c.mysql.host; }},
    {"mysql", "port", nullptr,
     [](const Ctx&, std::string_view v, Config& c) {
       c.mysql.port = parse_integer<std::uint16_t>(v, 1, 65535);
     },
     [](const Config& c) { return std::to_string(c.mysql.port); }},
    {"mysql", "socket", nullptr,
     [](const Ctx&, std::string_view v, Config& c) { c.mysql.socket = parse_socket_path(v); },
     [](const Config& c) { return c.mysql.socket; }},
    {"mysql", "user", nullptr,
     [](const Ctx&, std::string_view v, Config& c) { c.mysql.user = parse_non_empty(v); },
     [](const Config& c) { return c.mysql.user; }},
    {"mysql", "password", mask_all,
     [](const Ctx&, std::string_view v, Config& c) { c.mysql.password = parse_password(v); },
     [](const Config& c) { return c.mysql.password; }},
    {"mysql", "database", nullptr,
     [](const Ctx&, std::string_view v, Config& c) { c.mysql.database = parse_non_empty(v); },
     [](const Config& c) { return c.mysql.database; }},
    {"mysql", "retention", nullptr,
     [](const Ctx&, std::string_view v, Config& c) {
       c.mysql.retention = parse_duration_value(v, false);
     },
     [](const Config& c) { return format_duration(c.mysql.retention); }},

    {"log", "level", nullptr,
     [](const Ctx&, std::string_view v, Config& c) { c.log.level = parse_choice(v, kLogLevels); },
     [](const Config& c) { return render_choice(c.log.level, kLogLevels); }},
    {"log", "target", nullptr,
     [](const Ctx&, std::string_view v, Config& c) { c.log.target = parse_choice(v, kLogTargets); },
     [](const Config& c) { return render_choice(c.log.target, kLogTargets); }},
};

bool is_section(std::string_view name) {
  return std::any_of(std::begin(kKeys), std::end(kKeys),
                     [&](const KeySpec& spec) { return spec.section == name; });
}

const KeySpec* find_key(std::string_view section, std::string_view name) {
  for (const KeySpec& spec : kKeys) {
    if (spec.section == section && spec.name == name) return &spec;
  }
  return nullptr;
}

std::string env_name(const KeySpec& spec, std::string_view suffix = "") {
  return std::string(kEnvPrefix) + upper(spec.section) + "_" + upper(spec.name) + upper(suffix);
}

std::string key_id(const KeySpec& spec) {
  return std::string(spec.section) + "." + std::string(spec.name);
}

std::filesystem::path base_directory(const std::string& origin_name) {
  std::error_code error;
  const std::filesystem::path absolute = std::filesystem::absolute(origin_name, error);
  if (error) return std::filesystem::path(origin_name).parent_path();
  return absolute.parent_path();
}

// Collects values from the file and the environment into a Config,
// remembering where each came from so that errors found later (a missing
// tls_cert) can still point at the line that caused them.
class ConfigBuilder {
 public:
  explicit ConfigBuilder(const std::string& origin_name)
      : origin_name_(origin_name), context_{base_directory(origin_name)} {}

  ConfigError error_at(int line, const std::string& message) const {
    return ConfigError(Origin{origin_name_, line, ""}.describe(), message);
  }

  void set_from_file(std::string_view section, std::string_view name, std::string_view value,
                     int line) {
    if (section.empty()) {
      throw error_at(line, "key '" + printable(name) + "' is outside of any [section]");
    }
    const KeySpec* spec = find_key(section, name);
    bool file_form = false;  // "password_file" rather than "password".
    if (spec == nullptr && name.ends_with(kFileSuffix)) {
      spec = find_key(section, name.substr(0, name.size() - kFileSuffix.size()));
      if (spec != nullptr && !spec->secret()) spec = nullptr;
      file_form = spec != nullptr;
    }
    if (spec == nullptr) {
      throw error_at(line,
                     "unknown key '" + printable(name) + "' in [" + std::string(section) + "]");
    }
    const std::string id = std::string(section) + "." + std::string(name);
    if (const auto seen = file_lines_.find(id); seen != file_lines_.end()) {
      throw error_at(line, "duplicate key '" + std::string(name) + "' in [" + std::string(section) +
                               "], first set at line " + std::to_string(seen->second));
    }
    file_lines_.emplace(id, line);
    const Origin origin{origin_name_, line, ""};
    if (!spec->secret()) {
      apply(*spec, value, origin);
      return;
    }
    // Either form may be left empty (as in the shipped file); only two
    // non-empty ones conflict.
    if (value.empty()) return;
    if (const auto other = secret_lines_.find(key_id(*spec)); other != secret_lines_.end()) {
      throw error_at(line, "both '" + std::string(spec->name) + "' and '" +
                               std::string(spec->name) + std::string(kFileSuffix) +
                               "' are set in [" + std::string(section) + "] (line " +
                               std::to_string(other->second) + "); keep one");
    }
    secret_lines_.emplace(key_id(*spec), line);
    apply_secret(*spec, file_form, value, origin);
  }

  // Environment variables win over the file. For a secret, either variable
  // (inline or _FILE) replaces whatever the file said in either form.
  void apply_environment(const EnvLookup& env) {
    for (const KeySpec& spec : kKeys) {
      const std::string name = env_name(spec);
      const std::optional<std::string> inline_value = env(name);
      if (!spec.secret()) {
        if (inline_value) apply(spec, trim(*inline_value), Origin{"", 0, name});
        continue;
      }
      const std::string file_name = env_name(spec, kFileSuffix);
      const std::optional<std::string> file_value = env(file_name);
      const bool inline_set = inline_value && !trim(*inline_value).empty();
      const bool file_set = file_value && !trim(*file_value).empty();
      if (inline_set && file_set) {
        std::string message = "both " + name;
        message += " and " + file_name;
        message += " are set; keep one";
        throw ConfigError(Origin{"", 0, file_name}.describe(), message);
      }
      if (file_set) {
        apply_secret(spec, true, trim(*file_value), Origin{"", 0, file_name});
      } else if (inline_value || file_value) {
        apply_secret(spec, false, inline_value ? trim(*inline_value) : "",
                     Origin{"", 0, inline_value ? name : file_name});
      }
    }
  }

  // Resolves values that depend on others and checks the keys that are
  // required only in combination.
  Config finish() {
    HttpConfig& http = config_.http;
    if (http.rate_limit > 0 && http.rate_burst == 0)
      http.rate_burst = std::max(http.rate_limit, 1.0);
    // Otherwise one largest body could never be admitted.
    if (http.max_inflight_bytes < http.max_body_bytes) {
      throw ConfigError(origin_of("http.max_inflight_bytes").describe(),
                        "max_inflight_bytes must be at least max_body_size");
    }
    if (http.tls_listen) {
      for (const auto& [key, value] :
           {std::pair{"tls_cert", &http.tls_cert}, std::pair{"tls_key", &http.tls_key}}) {
        if (value->empty()) {
          throw ConfigError(origin_of("http.tls_listen").describe(),
                            std::string("tls_listen is set, so [http] ") + key + " is required");
        }
      }
    }
    if (config_.auth.mode == AuthConfig::Mode::kToken && config_.auth.tokens_file.empty()) {
      throw ConfigError(origin_of("auth.mode").describe(), "mode = token needs [auth] tokens_file");
    }
    return std::move(config_);
  }

 private:
  void apply(const KeySpec& spec, std::string_view value, const Origin& origin) {
    try {
      check_plain_text(value);
      spec.apply(context_, value, config_);
    } catch (const ValueError& e) {
      throw ConfigError(origin.describe(), "invalid value '" + printable(value) + "' for '" +
                                               std::string(spec.name) + "' in [" +
                                               std::string(spec.section) + "]: " + e.what());
    }
    origins_[key_id(spec)] = origin;
  }

  // `value` is the secret itself, or with `from_file` the path holding it.
  void apply_secret(const KeySpec& spec, bool from_file, std::string_view value,
                    const Origin& origin) {
    const std::string where = "' in [" + std::string(spec.section) + "]";
    std::string secret(value);
    std::string source;
    if (from_file) {
      std::string path(value);
      try {
        path = parse_path(context_, value);
        secret = read_file(path, kMaxSecretBytes, /*regular_only=*/true);
      } catch (const ValueError& e) {
        throw ConfigError(origin.describe(), "cannot use '" + std::string(spec.name) +
                                                 std::string(kFileSuffix) + where + ": '" +
                                                 printable(path) + "' " + e.what());
      }
      // Editors end files with a newline; it is not part of the secret.
      if (secret.ends_with('\n')) secret.pop_back();
      if (secret.ends_with('\r')) secret.pop_back();
      source = " (read from '" + printable(path) + "')";
    }
    try {
      spec.apply(context_, secret, config_);
    } catch (const ValueError& e) {
      throw ConfigError(origin.describe(), "invalid value for '" + std::string(spec.name) + where +
                                               source + ": " + e.what());
    }
    origins_[key_id(spec)] = origin;
  }

  Origin origin_of(const std::string& id) const {
    const auto found = origins_.find(id);
    return found != origins_.end() ? found->second : Origin{origin_name_, 0, ""};
  }

  std::string origin_name_;
  ValueContext context_;
  Config config_;
  std::map<std::string, int> file_lines_;    // "section.name" as written -> line.
  std::map<std::string, int> secret_lines_;  // "section.secret" -> line of its non-empty form.
  std::map<std::string, Origin> origins_;    // "section.name" -> source of the effective value.
};

// Feeds libinih one normalised line at a time; see the comment at the top.
class IniScan {
 public:
  IniScan(std::string_view text, ConfigBuilder& builder) : text_(text), builder_(builder) {}

  void run() {
    const int result = ini_parse_stream(&IniScan::read_line, this, &IniScan::handle_pair, this);
    if (failure_) std::rethrow_exception(failure_);
    // Our reader only hands libinih lines it accepts, so this is a safety net.
    if (result != 0) throw builder_.error_at(std::max(result, 0), "cannot parse this line");
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
      scan->builder_.set_from_file(section, name, text, scan->line_);
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
    if (raw.find('\0') != std::string_view::npos)
      throw builder_.error_at(line_, "NUL byte in line");

    const std::string_view content = trim(strip_comment(raw));
    std::string canonical;
    if (content.starts_with('[')) {
      if (!content.ends_with(']')) throw builder_.error_at(line_, "expected '[section]'");
      const std::string_view name = trim(content.substr(1, content.size() - 2));
      if (!is_section(name)) {
        throw builder_.error_at(line_, "unknown section [" + printable(name) + "]");
      }
      canonical = "[" + std::string(name) + "]";
    } else if (!content.empty()) {
      const std::size_t separator = content.find_first_of("=:");
      // libinih would also split "key: value"; the contract says key = value,
      // and "listen 0.0.0.0:8080" (a forgotten '=') must not become a key.
      if (separator == std::string_view::npos || content[separator] != '=') {
        throw builder_.error_at(line_, "expected 'key = value' or '[section]'");
      }
      const std::string_view key = trim(content.substr(0, separator));
      const std::string_view value = trim(strip_comment(trim(content.substr(separator + 1))));
      if (key.empty()) throw builder_.error_at(line_, "missing key before '='");
      canonical = std::string(key) + "=" + std::string(value);
      if (canonical.size() + 2 > size) {
        stashed_line_ = line_;
        stashed_value_ = value;
        canonical = std::string(key) + "=";
      }
    }
    // Leave room for "\n\0": a full buffer without a newline makes libinih
    // treat the line as truncated and swallow the next one.
    if (canonical.size() + 2 > size) throw builder_.error_at(line_, "line is too long");
    std::memcpy(buffer, canonical.data(), canonical.size());
    buffer[canonical.size()] = '\n';
    buffer[canonical.size() + 1] = '\0';
    return buffer;
  }

  std::string_view text_;
  ConfigBuilder& builder_;
  std::size_t position_ = 0;
  int line_ = 0;
  int stashed_line_ = 0;  // The line whose value did not fit libinih's buffer.
  std::string stashed_value_;
  std::exception_ptr failure_;
};

}  // namespace

std::string Endpoint::to_string() const {
  if (!unix_path.empty()) return "unix:" + unix_path;
  if (host.find(':') != std::string::npos) return "[" + host + "]:" + std::to_string(port);
  return host + ":" + std::to_string(port);
}

unsigned default_thread_count() { return std::max(1u, std::thread::hardware_concurrency()); }

ConfigError::ConfigError(const std::string& where, const std::string& message)
    : std::runtime_error(where + ": " + message), where_(where), message_(message) {}

EnvLookup process_environment() {
  return [](const std::string& name) -> std::optional<std::string> {
    const char* value = std::getenv(name.c_str());
    if (value == nullptr) return std::nullopt;
    return std::string(value);
  };
}

Config load_config(const std::string& path, const EnvLookup& env) {
  std::string text;
  try {
    text = read_file(path, kMaxConfigBytes, /*regular_only=*/false);
  } catch (const ValueError& e) {
    throw ConfigError(path, e.what());
  }
  return parse_config(text, path, env);
}

Config parse_config(std::string_view text, const std::string& origin_name, const EnvLookup& env) {
  ConfigBuilder builder(origin_name);
  IniScan(text, builder).run();
  if (env) builder.apply_environment(env);
  return builder.finish();
}

std::string render_config(const Config& config) {
  std::string out;
  std::string_view section;
  for (const KeySpec& spec : kKeys) {
    if (spec.section != section) {
      if (!out.empty()) out += '\n';
      section = spec.section;
      out += "[" + std::string(section) + "]\n";
    }
    std::string value = spec.render(config);
    if (spec.secret() && !value.empty()) value = spec.mask(value);
    out += std::string(spec.name) + (value.empty() ? " =" : " = " + value) + "\n";
  }
  return out;
}

}  // namespace gpsrelay::core
