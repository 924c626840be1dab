// Topics API bodies and answers (see topic_requests.h). Only parses and
// renders; which topics exist, where a message goes in Redis and who may
// poll is the store's and the handler's business.
#include "topics/topic_requests.h"

#include <jansson.h>
#include <openssl/evp.h>

#include <algorithm>
#include <array>
#include <charconv>
#include <cstdint>
#include <cstring>
#include <initializer_list>
#include <limits>
#include <set>
#include <string_view>
#include <system_error>

#include "core/json_handle.h"
#include "core/json_text.h"
#include "core/units.h"
#include "http/json_scan.h"
#include "locations/location_record.h"
#include "locations/normalizer.h"

namespace gpsrelay::topics {
namespace {

using core::JsonPtr;
using std::chrono::milliseconds;

const char* const kNameRule = " must be 1 to 200 characters of A-Z a-z 0-9 . _ -";
const char* const kConsumerIdRule = " must be 1 to 64 characters of A-Z a-z 0-9 -";
const char* const kStreamIdRule = " must be a stream id like \"1700000000000-0\"";

RequestError bad(std::string message) { return {400, std::move(message)}; }

bool is_digit(char c) { return c >= '0' && c <= '9'; }
bool is_alnum(char c) { return is_digit(c) || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z'); }

// How parse_message and parse_batch do their work: kFast as the daemon
// runs; kReference the straightforward way that kFast must agree with
// byte for byte (jansson reads the body as it came, strings are written a
// byte at a time), for the differential tests only.
enum class Path { kFast, kReference };

// ---- long strings lifted out of a body before jansson reads it ---------------
//
// jansson reads a string a byte at a time through its UTF-8 checking
// stream and copies it twice: for a batch of 1 KB values that was most of
// the request's CPU. A string of at least kMinStashedBytes without escapes
// or control characters, in valid UTF-8, decodes to exactly its bytes, so
// it is stashed: the body jansson reads has a short placeholder "\u0000<n>"
// in its place, and the n-th stashed string goes back into the tree
// jansson built. jansson still reads every token of the body.
//
// Why every answer stays the same:
//  - Only strings right after ':' or '[' are stashed. jansson reads a
//    token there as a value, never as an object key (or it has stopped at
//    an error before it), so keys and the duplicate-key check see the
//    body's own text; a stashed string and its placeholder are both valid
//    string tokens, so jansson meets the same tokens and stops, if it
//    does, at the same error.
//  - jansson reads the placeholders with JSON_ALLOW_NUL, which only lets
//    strings hold NUL; a body that has "\u0000" itself is read as it came,
//    so the placeholders are the only strings with a NUL (and jansson
//    refuses such a body as before).
//  - The UTF-8 check below is jansson's (utf8_check_first/_full), and a
//    string it doubts is left for jansson to judge.

constexpr std::size_t kMinStashedBytes = 32;

// Eight bytes at a time: the first index at or after `at` whose 8-byte
// word (possibly) holds a byte below 0x20, a '"' or a '\\' -- and, with
// `ascii`, one of 0x80 or above -- or the start of the last partial word.
// The tests are exact for the word as a whole, so every byte before the
// index returned is none of those.
std::size_t skip_plain_words(std::string_view text, std::size_t at, bool ascii) {
  constexpr std::uint64_t kOnes = 0x0101010101010101ULL;
  constexpr std::uint64_t kHighs = 0x8080808080808080ULL;
  const auto has_zero_byte = [](std::uint64_t w) { return (w - kOnes) & ~w & kHighs; };
  while (text.size() - at >= sizeof(std::uint64_t)) {
    std::uint64_t word = 0;
    std::memcpy(&word, text.data() + at, sizeof word);
    const std::uint64_t special =
        ((word - kOnes * 0x20) & ~word & kHighs) | has_zero_byte(word ^ (kOnes * '"')) |
        has_zero_byte(word ^ (kOnes * '\\')) | (ascii ? word & kHighs : 0);
    if (special != 0) break;
    at += sizeof word;
  }
  return at;
}

struct StashedBody {
  std::string text;                       // the body with placeholders
  std::vector<std::string_view> strings;  // the n-th placeholder's bytes, in the body
};

bool is_json_blank(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

// The length of the well-formed UTF-8 sequence of 2 to 4 bytes at
// text[at], 0 when there is none: no overlong form, no surrogate, nothing
// above U+10FFFF.
std::size_t utf8_sequence(std::string_view text, std::size_t at) {
  const auto lead = static_cast<unsigned char>(text[at]);
  std::size_t size = 0;
  std::uint32_t code = 0;
  if (lead >= 0xC2 && lead <= 0xDF) {
    size = 2;
    code = lead & 0x1FU;
  } else if (lead >= 0xE0 && lead <= 0xEF) {
    size = 3;
    code = lead & 0x0FU;
  } else if (lead >= 0xF0 && lead <= 0xF4) {
    size = 4;
    code = lead & 0x07U;
  } else {
    return 0;
  }
  if (text.size() - at < size) return 0;
  for (std::size_t i = 1; i < size; ++i) {
    const auto byte = static_cast<unsigned char>(text[at + i]);
    if (byte < 0x80 || byte > 0xBF) return 0;
    code = (code << 6U) | (byte & 0x3FU);
  }
  if (code > 0x10FFFF || (code >= 0xD800 && code <= 0xDFFF) || (size == 3 && code < 0x800) ||
      (size == 4 && code < 0x10000)) {
    return 0;
  }
  return size;
}

// `body` with its long plain string values stashed; nullopt when there is
// none to stash or the body has "\u0000".
std::optional<StashedBody> stash_long_strings(std::string_view body) {
  if (body.find("\\u0000") != std::string_view::npos) return std::nullopt;
  StashedBody out;
  std::size_t copied = 0;  // body[0, copied) is in out.text
  char previous = '\0';    // the last byte outside strings that is not blank
  std::size_t at = 0;
  while (at < body.size()) {
    if (body[at] != '"') {
      if (!is_json_blank(body[at])) previous = body[at];
      ++at;
      continue;
    }
    // A string opens at `at`: find where it closes, and whether its bytes
    // are its value.
    std::size_t end = at + 1;
    bool plain = true;
    while (end < body.size() && body[end] != '"') {
      end = skip_plain_words(body, end, true);
      if (end >= body.size() || body[end] == '"') break;
      const auto byte = static_cast<unsigned char>(body[end]);
      if (byte == '\\') {
        plain = false;
        end += 2;
      } else if (byte >= 0x20 && byte < 0x80) {
        ++end;
      } else if (const std::size_t n = byte >= 0x80 ? utf8_sequence(body, end) : 0; n > 0) {
        end += n;
      } else {
        plain = false;  // jansson refuses the body here
        ++end;
      }
    }
    if (end >= body.size()) break;  // not closed: jansson refuses the body
    const std::size_t length = end - at - 1;
    if (plain && length >= kMinStashedBytes && (previous == ':' || previous == '[')) {
      if (out.strings.empty()) out.text.reserve(body.size());
      out.text.append(body, copied, at - copied);
      out.text += "\"\\u0000";
      out.text += std::to_string(out.strings.size());
      out.text += '"';
      out.strings.push_back(body.substr(at + 1, length));
      copied = end + 1;
    }
    previous = '"';
    at = end + 1;
  }
  if (out.strings.empty()) return std::nullopt;
  out.text.append(body, copied);
  return out;
}

// Puts the stashed strings back where their placeholders are in `value`;
// false when a placeholder names none (which stash_long_strings never
// makes).
bool restore_stashed(json_t* value, const std::vector<std::string_view>& strings) {
  switch (json_typeof(value)) {
    case JSON_OBJECT:
      for (void* it = json_object_iter(value); it != nullptr;
           it = json_object_iter_next(value, it)) {
        if (!restore_stashed(json_object_iter_value(it), strings)) return false;
      }
      return true;
    case JSON_ARRAY:
      for (std::size_t i = 0; i < json_array_size(value); ++i) {
        if (!restore_stashed(json_array_get(value, i), strings)) return false;
      }
      return true;
    case JSON_STRING: {
      const char* text = json_string_value(value);
      const std::size_t length = json_string_length(value);
      if (length == 0 || text[0] != '\0') return true;
      std::size_t n = 0;
      const auto [end, ec] = std::from_chars(text + 1, text + length, n);
      if (ec != std::errc() || end != text + length || n >= strings.size()) return false;
      return json_string_setn_nocheck(value, strings[n].data(), strings[n].size()) == 0;
    }
    default:
      return true;
  }
}

// The body as a JSON object, or the 400 for it. kFast and kReference
// build equal trees and refuse the same bodies with the same message.
std::variant<JsonPtr, RequestError> load_object(std::string_view body, Path path = Path::kFast) {
  std::optional<StashedBody> stashed;
  if (path == Path::kFast) stashed = stash_long_strings(body);
  const std::string_view text = stashed ? std::string_view(stashed->text) : body;
  json_error_t error;
  JsonPtr root(json_loadb(text.data(), text.size(),
                          JSON_REJECT_DUPLICATES | (stashed ? JSON_ALLOW_NUL : 0), &error));
  if (root && stashed && !restore_stashed(root.get(), stashed->strings)) {
    return load_object(body, Path::kReference);
  }
  if (!root) {
    switch (json_error_code(&error)) {
      case json_error_duplicate_key:
        return bad("body has a duplicate key");
      case json_error_numeric_overflow:
        return bad("body has a number out of range");
      default:
        break;
    }
  }
  if (!root || !json_is_object(root.get())) return bad("body is not a JSON object");
  return root;
}

// The member `key` of `object`, nullptr when absent or null.
const json_t* optional_member(const json_t* object, const char* key) {
  const json_t* value = json_object_get(object, key);
  return json_is_null(value) ? nullptr : value;
}

std::string_view string_of(const json_t* value) {
  return {json_string_value(value), json_string_length(value)};
}

// Calls visit(name, value) for each member of `object` in order until it
// returns false; false when it did.
template <class Visit>
bool each_member(const json_t* object, Visit visit) {
  // jansson's iterator functions take a non-const object but only read it.
  auto* mutable_object =
      const_cast<json_t*>(object);  // NOLINT(cppcoreguidelines-pro-type-const-cast)
  for (void* it = json_object_iter(mutable_object); it != nullptr;
       it = json_object_iter_next(mutable_object, it)) {
    const std::string_view name(json_object_iter_key(it), json_object_iter_key_len(it));
    if (!visit(name, static_cast<const json_t*>(json_object_iter_value(it)))) return false;
  }
  return true;
}

// A duration value: a conf-style string ("5s") or an integer of
// milliseconds, both non-negative; nullopt for anything else.
std::optional<milliseconds> duration_of(const json_t* value) {
  if (json_is_string(value)) return core::parse_duration(string_of(value));
  if (json_is_integer(value) && json_integer_value(value) >= 0) {
    return milliseconds(json_integer_value(value));
  }
  return std::nullopt;
}

std::string duration_rule(std::string_view field, milliseconds max) {
  return std::string(field) + " must be a duration like \"5s\" or milliseconds, at most " +
         core::format_duration(max);
}

// ---- compact JSON writer ------------------------------------------------------
//
// jansson's own dump writes reals with 17 digits (0.1 as 0.10000000000000001),
// so values are written here: shortest round-trip reals, strings as they
// came (jansson has already checked they are UTF-8 without NUL).

// The reference: the writer as it was before runs were appended whole,
// kept unchanged so that the differential tests compare against it.
void write_string_per_byte(std::string& out, std::string_view text) {
  static constexpr char kHex[] = "0123456789abcdef";
  out += '"';
  for (const char c : text) {
    const auto byte = static_cast<unsigned char>(c);
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      case '\b':
        out += "\\b";
        break;
      case '\f':
        out += "\\f";
        break;
      default:
        if (byte < 0x20) {
          out += "\\u00";
          out += kHex[byte >> 4];
          out += kHex[byte & 0xF];
        } else {
          out += c;
        }
    }
  }
  out += '"';
}

// The same text, appending each run of bytes that need no escape at once
// (a 1 KB value of letters is one append, not 1,024).
void write_string(std::string& out, std::string_view text, Path path) {
  if (path == Path::kReference) {
    write_string_per_byte(out, text);
    return;
  }
  out += '"';
  std::size_t run = 0;  // text[run, i) is not written yet and needs no escape
  for (std::size_t i = 0; i < text.size(); ++i) {
    i = skip_plain_words(text, i, false);
    if (i >= text.size()) break;
    const auto byte = static_cast<unsigned char>(text[i]);
    if (!core::json_needs_escape(byte)) continue;
    out.append(text, run, i - run);
    core::append_json_escape(out, byte);
    run = i + 1;
  }
  out.append(text, run);
  out += '"';
}

// Writes `value`; false when it nests deeper than `depth_left` containers.
bool write_value(std::string& out, const json_t* value, std::size_t depth_left, Path path) {
  switch (json_typeof(value)) {
    case JSON_OBJECT: {
      if (depth_left == 0) return false;
      out += '{';
      bool first = true;
      const bool written = each_member(value, [&](std::string_view name, const json_t* member) {
        if (!first) out += ',';
        first = false;
        write_string(out, name, path);
        out += ':';
        return write_value(out, member, depth_left - 1, path);
      });
      out += '}';
      return written;
    }
    case JSON_ARRAY: {
      if (depth_left == 0) return false;
      out += '[';
      for (std::size_t i = 0; i < json_array_size(value); ++i) {
        if (i > 0) out += ',';
        if (!write_value(out, json_array_get(value, i), depth_left - 1, path)) return false;
      }
      out += ']';
      return true;
    }
    case JSON_STRING:
      write_string(out, string_of(value), path);
      return true;
    case JSON_INTEGER:
      out += std::to_string(json_integer_value(value));
      return true;
    case JSON_REAL:
      core::append_json_real(out, json_real_value(value));
      return true;
    case JSON_TRUE:
      out += "true";
      return true;
    case JSON_FALSE:
      out += "false";
      return true;
    case JSON_NULL:
      out += "null";
      return true;
  }
  return false;
}

// ---- base64 -----------------------------------------------------------------

bool is_base64_char(char c) { return is_alnum(c) || c == '+' || c == '/'; }

// Padded standard base64 to bytes; nullopt unless `text` is a multiple of
// 4 characters of the alphabet with at most two '=' at the end.
// EVP_DecodeBlock alone would also take blanks around the text and
// counts padding as zero bytes, hence the checks around it.
std::optional<std::string> decode_base64(std::string_view text) {
  if (text.size() % 4 != 0 ||
      text.size() > static_cast<std::size_t>(std::numeric_limits<int>::max())) {
    return std::nullopt;
  }
  std::size_t padding = 0;
  if (text.ends_with("==")) {
    padding = 2;
  } else if (text.ends_with('=')) {
    padding = 1;
  }
  if (!std::all_of(text.begin(), text.end() - static_cast<std::ptrdiff_t>(padding),
                   is_base64_char)) {
    return std::nullopt;
  }
  std::string bytes(text.size() / 4 * 3, '\0');
  const int length = EVP_DecodeBlock(reinterpret_cast<unsigned char*>(bytes.data()),
                                     reinterpret_cast<const unsigned char*>(text.data()),
                                     static_cast<int>(text.size()));
  if (length < 0 || static_cast<std::size_t>(length) != bytes.size()) return std::nullopt;
  bytes.resize(bytes.size() - padding);
  return bytes;
}

void append_base64(std::string& out, std::string_view bytes) {
  // Whole groups of 3 per call keep every chunk's int length small and
  // the concatenation equal to one encoding of all bytes.
  constexpr std::size_t kChunk = 3 * 16384;
  std::array<unsigned char, kChunk / 3 * 4 + 1> buffer{};
  for (std::size_t at = 0; at < bytes.size(); at += kChunk) {
    const std::size_t n = std::min(kChunk, bytes.size() - at);
    const int length =
        EVP_EncodeBlock(buffer.data(), reinterpret_cast<const unsigned char*>(bytes.data() + at),
                        static_cast<int>(n));
    out.append(reinterpret_cast<const char*>(buffer.data()), static_cast<std::size_t>(length));
  }
}

// ---- fields -----------------------------------------------------------------

// Each reader takes the containing object and `where`, the prefix that
// names it in messages ("" for the body, "messages[3]." in a batch), and
// returns the error or fills `out`.

std::optional<RequestError> read_consumer_id(const json_t* object, std::string& out) {
  const json_t* value = json_object_get(object, "consumer_id");
  if (value == nullptr) return bad("consumer_id is required");
  if (!json_is_string(value) || !is_valid_consumer_id(string_of(value))) {
    return bad(std::string("consumer_id") + kConsumerIdRule);
  }
  out = string_of(value);
  return std::nullopt;
}

std::optional<RequestError> read_topic(const json_t* object, const std::string& where,
                                       std::string& out) {
  const json_t* value = json_object_get(object, "topic");
  if (value == nullptr) return bad(where + "topic is required");
  if (!json_is_string(value) || !is_valid_name(string_of(value))) {
    return bad(where + "topic" + kNameRule);
  }
  out = string_of(value);
  return std::nullopt;
}

std::optional<RequestError> read_message_ref(const json_t* object, const std::string& where,
                                             MessageRef& out) {
  if (auto error = read_topic(object, where, out.topic)) return error;
  const json_t* partition = json_object_get(object, "partition");
  if (partition == nullptr) return bad(where + "partition is required");
  if (!json_is_integer(partition) || json_integer_value(partition) < 0 ||
      json_integer_value(partition) >= kMaxPartitions) {
    return bad(where + "partition must be an integer from 0 to " +
               std::to_string(kMaxPartitions - 1));
  }
  out.partition = static_cast<unsigned>(json_integer_value(partition));
  const json_t* id = json_object_get(object, "id");
  if (id == nullptr) return bad(where + "id is required");
  if (!json_is_string(id) || !is_valid_stream_id(string_of(id))) {
    return bad(where + "id" + kStreamIdRule);
  }
  out.id = string_of(id);
  return std::nullopt;
}

std::optional<RequestError> read_delay(const json_t* object, const std::string& where,
                                       milliseconds& out) {
  const json_t* value = optional_member(object, "delay");
  if (value == nullptr) return std::nullopt;
  const std::optional<milliseconds> delay = duration_of(value);
  if (!delay || *delay > kMaxDelay) return bad(duration_rule(where + "delay", kMaxDelay));
  out = *delay;
  return std::nullopt;
}

std::optional<RequestError> read_headers(const json_t* object, const std::string& where,
                                         std::string& out, Path path) {
  const json_t* headers = optional_member(object, "headers");
  if (headers == nullptr) {
    out = "{}";
    return std::nullopt;
  }
  if (!json_is_object(headers)) return bad(where + "headers must be an object of strings");
  if (json_object_size(headers) > kMaxHeaders) {
    return bad(where + "headers must have at most " + std::to_string(kMaxHeaders) + " names");
  }
  out = "{";
  std::optional<RequestError> error;
  each_member(headers, [&](std::string_view name, const json_t* value) {
    if (name.empty() || name.size() > kMaxHeaderName) {
      error =
          bad(where + "headers: names must be 1 to " + std::to_string(kMaxHeaderName) + " bytes");
    } else if (!json_is_string(value)) {
      error = bad(where + "headers." + std::string(name) + " must be a string");
    } else {
      if (out.size() > 1) out += ',';
      write_string(out, name, path);
      out += ':';
      write_string(out, string_of(value), path);
    }
    return !error;
  });
  out += '}';
  return error;
}

std::optional<RequestError> read_message(const json_t* object, const std::string& where,
                                         Message& out, Path path) {
  if (const json_t* key = optional_member(object, "key")) {
    if (!json_is_string(key) || json_string_length(key) > kMaxKeyBytes) {
      return bad(where + "key must be a string of at most " + std::to_string(kMaxKeyBytes) +
                 " bytes");
    }
    out.key = string_of(key);
  }
  const json_t* value = json_object_get(object, "value");
  const json_t* value_b64 = json_object_get(object, "value_b64");
  if (value != nullptr && value_b64 != nullptr) {
    return bad(where + "give only one of value and value_b64");
  }
  if (value != nullptr) {
    out.binary = false;
    out.value.clear();
    if (!write_value(out.value, value, kMaxValueDepth, path)) {
      return bad(where + "value nests deeper than " + std::to_string(kMaxValueDepth) +
                 " arrays or objects");
    }
  } else if (value_b64 != nullptr) {
    std::optional<std::string> bytes;
    if (json_is_string(value_b64)) bytes = decode_base64(string_of(value_b64));
    if (!bytes) return bad(where + "value_b64 is not valid base64");
    out.binary = true;
    out.value = std::move(*bytes);
  } else {
    return bad(where + "value or value_b64 is required");
  }
  if (auto error = read_headers(object, where, out.headers_json, path)) return error;
  return read_delay(object, where, out.delay);
}

std::string index_prefix(const char* array, std::size_t index) {
  return std::string(array) + "[" + std::to_string(index) + "].";
}

// ---- query ------------------------------------------------------------------

// A parameter's last occurrence, still percent-encoded; empty when absent
// or given empty. A pair whose name does not decode is skipped as unknown.
std::string_view last_param(std::string_view query, std::string_view wanted) {
  std::string_view found;
  while (!query.empty()) {
    const std::size_t amp = query.find('&');
    const std::string_view pair = query.substr(0, amp);
    query = amp == std::string_view::npos ? std::string_view() : query.substr(amp + 1);
    const std::size_t eq = pair.find('=');
    const std::optional<std::string> name = locations::percent_decode(pair.substr(0, eq), true);
    if (name && *name == wanted) {
      found = eq == std::string_view::npos ? std::string_view() : pair.substr(eq + 1);
    }
  }
  return found;
}

bool all_digits(std::string_view text) {
  return !text.empty() && std::all_of(text.begin(), text.end(), is_digit);
}

// Whether `text` may be inlined into an answer: one whole JSON text
// (RFC 8259, as json_scan checks it).
bool is_json(std::string_view text) { return http::scan_json(text).ok; }

bool is_json_object(std::string_view text) {
  const std::size_t first = text.find_first_not_of(" \t\r\n");
  return first != std::string_view::npos && text[first] == '{' && is_json(text);
}

Parsed<Message> parse_message_by(std::string_view body, Path path) {
  auto loaded = load_object(body, path);
  if (auto* error = std::get_if<RequestError>(&loaded)) return std::move(*error);
  Message out;
  if (auto error = read_message(std::get<JsonPtr>(loaded).get(), "", out, path)) return *error;
  return out;
}

Parsed<std::vector<Message>> parse_batch_by(std::string_view body, Path path) {
  auto loaded = load_object(body, path);
  if (auto* error = std::get_if<RequestError>(&loaded)) return std::move(*error);
  const json_t* messages = json_object_get(std::get<JsonPtr>(loaded).get(), "messages");
  const std::string rule =
      "messages must be an array of 1 to " + std::to_string(kMaxBatchMessages) + " messages";
  if (!json_is_array(messages) || json_array_size(messages) == 0) return bad(rule);
  if (json_array_size(messages) > kMaxBatchMessages) return RequestError{413, rule};

  std::vector<Message> out(json_array_size(messages));
  for (std::size_t i = 0; i < out.size(); ++i) {
    const json_t* message = json_array_get(messages, i);
    const std::string where = index_prefix("messages", i);
    if (!json_is_object(message)) {
      return bad("messages[" + std::to_string(i) + "] must be an object");
    }
    if (auto error = read_message(message, where, out[i], path)) return *error;
  }
  return out;
}

}  // namespace

bool is_valid_name(std::string_view name) {
  if (name.empty() || name.size() > kMaxTopicName || name == "." || name == "..") return false;
  return std::all_of(name.begin(), name.end(),
                     [](char c) { return is_alnum(c) || c == '.' || c == '_' || c == '-'; });
}

bool is_valid_consumer_id(std::string_view id) {
  return !id.empty() && id.size() <= kMaxConsumerId &&
         std::all_of(id.begin(), id.end(), [](char c) { return is_alnum(c) || c == '-'; });
}

bool is_valid_stream_id(std::string_view id) {
  const std::size_t dash = id.find('-');
  if (dash == std::string_view::npos) return false;
  for (const std::string_view part : {id.substr(0, dash), id.substr(dash + 1)}) {
    std::uint64_t number = 0;
    const char* end = part.data() + part.size();
    if (!all_digits(part)) return false;
    const auto [ptr, ec] = std::from_chars(part.data(), end, number);
    if (ec != std::errc() || ptr != end) return false;
  }
  return true;
}

Parsed<CreateTopic> parse_create_topic(std::string_view body) {
  auto loaded = load_object(body);
  if (auto* error = std::get_if<RequestError>(&loaded)) return std::move(*error);
  const json_t* root = std::get<JsonPtr>(loaded).get();

  CreateTopic out;
  const json_t* name = json_object_get(root, "name");
  if (name == nullptr) return bad("name is required");
  if (!json_is_string(name) || !is_valid_name(string_of(name))) {
    return bad(std::string("name") + kNameRule);
  }
  out.name = string_of(name);
  if (const json_t* partitions = optional_member(root, "partitions")) {
    if (!json_is_integer(partitions) || json_integer_value(partitions) < 1 ||
        json_integer_value(partitions) > kMaxPartitions) {
      return bad("partitions must be an integer from 1 to " + std::to_string(kMaxPartitions));
    }
    out.partitions = static_cast<unsigned>(json_integer_value(partitions));
  }
  if (const json_t* retention = optional_member(root, "retention")) {
    const std::optional<milliseconds> value = duration_of(retention);
    if (!value || value->count() <= 0 || *value > kMaxRetention) {
      return bad("retention must be a duration above 0 like \"7d\" or milliseconds, at most " +
                 core::format_duration(kMaxRetention));
    }
    out.retention = *value;
  }
  return out;
}

Parsed<Message> parse_message(std::string_view body) { return parse_message_by(body, Path::kFast); }

Parsed<std::vector<Message>> parse_batch(std::string_view body) {
  return parse_batch_by(body, Path::kFast);
}

Parsed<Message> parse_message_reference(std::string_view body) {
  return parse_message_by(body, Path::kReference);
}

Parsed<std::vector<Message>> parse_batch_reference(std::string_view body) {
  return parse_batch_by(body, Path::kReference);
}

std::optional<unsigned> partition_for_key(std::string_view key, unsigned partitions) {
  if (key.empty() || partitions == 0) return std::nullopt;
  std::uint64_t hash = 14695981039346656037ULL;  // FNV-1a 64 offset basis
  for (const char c : key) {
    hash ^= static_cast<unsigned char>(c);
    hash *= 1099511628211ULL;  // FNV-1a 64 prime
  }
  return static_cast<unsigned>(hash % partitions);
}

std::string published_json(unsigned partition, std::string_view id) {
  return "{\"partition\":" + std::to_string(partition) +
         ",\"id\":" + (id.empty() ? std::string("null") : core::json_quote(id)) + "}";
}

std::string batch_published_json(const std::vector<std::pair<unsigned, std::string>>& results) {
  std::string out = "{\"results\":[";
  for (std::size_t i = 0; i < results.size(); ++i) {
    if (i > 0) out += ',';
    out += published_json(results[i].first, results[i].second);
  }
  out += "]}";
  return out;
}

std::string polled_json(const std::vector<StoredMessage>& messages) {
  std::string out = "{\"messages\":[";
  for (std::size_t i = 0; i < messages.size(); ++i) {
    const StoredMessage& m = messages[i];
    if (i > 0) out += ',';
    out += "{\"topic\":";
    out += core::json_quote(m.topic);
    out += ",\"partition\":";
    out += std::to_string(m.partition);
    out += ",\"id\":";
    out += core::json_quote(m.id);
    if (!m.key.empty()) {
      out += ",\"key\":";
      out += core::json_quote(m.key);
    }
    if (!m.binary && is_json(m.value)) {
      out += ",\"value\":";
      out += m.value;
    } else {
      out += ",\"value_b64\":\"";
      append_base64(out, m.value);
      out += '"';
    }
    out += ",\"headers\":";
    out += is_json_object(m.headers_json) ? std::string_view(m.headers_json) : "{}";
    out += ",\"deliveries\":";
    out += std::to_string(m.deliveries);
    out += ",\"published_at\":\"";
    out += locations::format_iso8601_utc(m.published_at_ms);
    out += "\"}";
  }
  out += "]}";
  return out;
}

Parsed<PollQuery> parse_poll_query(std::string_view query, unsigned max_poll_records) {
  const unsigned max_limit = std::max(1U, max_poll_records);
  PollQuery out;
  out.max = std::min(kDefaultPollMax, max_limit);

  const std::optional<std::string> consumer_id =
      locations::percent_decode(last_param(query, "consumer_id"), true);
  if (consumer_id && consumer_id->empty()) return bad("consumer_id is required");
  if (!consumer_id || !is_valid_consumer_id(*consumer_id)) {
    return bad(std::string("consumer_id") + kConsumerIdRule);
  }
  out.consumer_id = *consumer_id;

  if (const std::string_view raw = last_param(query, "max"); !raw.empty()) {
    const std::optional<std::string> text = locations::percent_decode(raw, true);
    unsigned value = 0;
    bool ok = text && all_digits(*text);
    if (ok) {
      const char* end = text->data() + text->size();
      const auto [ptr, ec] = std::from_chars(text->data(), end, value);
      ok = ec == std::errc() && ptr == end && value >= 1 && value <= max_limit;
    }
    if (!ok) return bad("max must be an integer from 1 to " + std::to_string(max_limit));
    out.max = value;
  }

  if (const std::string_view raw = last_param(query, "wait"); !raw.empty()) {
    const std::optional<std::string> text = locations::percent_decode(raw, true);
    std::optional<milliseconds> wait;
    if (text && all_digits(*text)) {
      std::int64_t ms = 0;
      const char* end = text->data() + text->size();
      const auto [ptr, ec] = std::from_chars(text->data(), end, ms);
      if (ec == std::errc() && ptr == end) wait = milliseconds(ms);
    } else if (text) {
      wait = core::parse_duration(*text);
    }
    if (!wait || *wait > kMaxPollWait) return bad(duration_rule("wait", kMaxPollWait));
    out.wait = *wait;
  }
  return out;
}

Parsed<ConsumerRef> parse_consumer_ref(std::string_view body) {
  auto loaded = load_object(body);
  if (auto* error = std::get_if<RequestError>(&loaded)) return std::move(*error);
  ConsumerRef out;
  if (auto error = read_consumer_id(std::get<JsonPtr>(loaded).get(), out.consumer_id)) {
    return *error;
  }
  return out;
}

Parsed<Join> parse_join(std::string_view body) {
  auto loaded = load_object(body);
  if (auto* error = std::get_if<RequestError>(&loaded)) return std::move(*error);
  const json_t* topics = json_object_get(std::get<JsonPtr>(loaded).get(), "topics");
  if (!json_is_array(topics) || json_array_size(topics) == 0 ||
      json_array_size(topics) > kMaxJoinTopics) {
    return bad("topics must be an array of 1 to " + std::to_string(kMaxJoinTopics) +
               " topic names");
  }
  Join out;
  std::set<std::string_view> seen;
  for (std::size_t i = 0; i < json_array_size(topics); ++i) {
    const json_t* name = json_array_get(topics, i);
    const std::string field = "topics[" + std::to_string(i) + "]";
    if (!json_is_string(name) || !is_valid_name(string_of(name))) {
      return bad(field + kNameRule);
    }
    if (!seen.insert(string_of(name)).second) return bad(field + " is listed twice");
    out.topics.emplace_back(string_of(name));
  }
  return out;
}

Parsed<AckRequest> parse_ack(std::string_view body, bool allow_delay) {
  auto loaded = load_object(body);
  if (auto* error = std::get_if<RequestError>(&loaded)) return std::move(*error);
  const json_t* root = std::get<JsonPtr>(loaded).get();
  AckRequest out;
  if (auto error = read_consumer_id(root, out.consumer_id)) return *error;
  const json_t* messages = json_object_get(root, "messages");
  if (!json_is_array(messages) || json_array_size(messages) == 0 ||
      json_array_size(messages) > kMaxAckMessages) {
    return bad("messages must be an array of 1 to " + std::to_string(kMaxAckMessages) +
               " {\"topic\",\"partition\",\"id\"}");
  }
  out.messages.resize(json_array_size(messages));
  for (std::size_t i = 0; i < out.messages.size(); ++i) {
    const json_t* ref = json_array_get(messages, i);
    if (!json_is_object(ref)) return bad("messages[" + std::to_string(i) + "] must be an object");
    if (auto error = read_message_ref(ref, index_prefix("messages", i), out.messages[i])) {
      return *error;
    }
  }
  if (allow_delay) {
    if (auto error = read_delay(root, "", out.delay)) return *error;
  }
  return out;
}

Parsed<CommitRequest> parse_commit(std::string_view body) {
  auto loaded = load_object(body);
  if (auto* error = std::get_if<RequestError>(&loaded)) return std::move(*error);
  const json_t* root = std::get<JsonPtr>(loaded).get();
  CommitRequest out;
  if (auto error = read_consumer_id(root, out.consumer_id)) return *error;
  if (auto error = read_message_ref(root, "", out.upto)) return *error;
  return out;
}

}  // namespace gpsrelay::topics
