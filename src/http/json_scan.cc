// Iterative JSON syntax scanner (see json_scan.h). Nesting is tracked in a bit
// stack (1 = object, 0 = array) instead of recursion so that hostile depth
// costs one bit per level rather than a stack frame. It does not decode
// strings or numbers: nothing here copies the payload.
#include "http/json_scan.h"

#include <array>
#include <cstdint>
#include <cstring>
#include <vector>

namespace gpsrelay::http {
namespace {

constexpr std::string_view kUnexpectedEnd = "unexpected end of input";
constexpr std::string_view kExpectedValue = "expected a JSON value";
constexpr std::string_view kTrailingData = "unexpected data after JSON text";
constexpr std::string_view kExpectedKey = "expected a string as object key";
constexpr std::string_view kExpectedColon = "expected ':' after object key";
constexpr std::string_view kExpectedArrayDelimiter = "expected ',' or ']' in array";
constexpr std::string_view kExpectedObjectDelimiter = "expected ',' or '}' in object";
constexpr std::string_view kTooDeep = "nesting too deep";
constexpr std::string_view kControlInString = "control character in string";
constexpr std::string_view kInvalidUtf8 = "invalid UTF-8 in string";
constexpr std::string_view kInvalidEscape = "invalid escape in string";
constexpr std::string_view kInvalidUnicodeEscape = "invalid \\u escape in string";
constexpr std::string_view kLeadingZero = "leading zero in number";
constexpr std::string_view kInvalidNumber = "invalid number";
constexpr std::string_view kFractionDigits = "expected digit after decimal point";
constexpr std::string_view kExponentDigits = "expected digit in exponent";
constexpr std::string_view kInvalidLiteral = "invalid literal";

// Bytes that may appear in a string without special handling: printable
// ASCII except '"' and '\\'. Everything else leaves the fast loop.
constexpr std::array<bool, 256> kPlainStringByte = [] {
  std::array<bool, 256> table{};
  for (int c = 0x20; c < 0x80; ++c) table[c] = c != '"' && c != '\\';
  return table;
}();

constexpr std::array<bool, 256> kHexDigit = [] {
  std::array<bool, 256> table{};
  for (int c = '0'; c <= '9'; ++c) table[c] = true;
  for (int c = 'a'; c <= 'f'; ++c) table[c] = true;
  for (int c = 'A'; c <= 'F'; ++c) table[c] = true;
  return table;
}();

constexpr bool is_digit(unsigned char c) { return static_cast<unsigned>(c - '0') < 10; }

constexpr bool is_whitespace(unsigned char c) {
  constexpr std::uint64_t kMask = (1ULL << ' ') | (1ULL << '\t') | (1ULL << '\n') | (1ULL << '\r');
  return c <= ' ' && ((kMask >> c) & 1) != 0;
}

// True when any of the 8 bytes is '"', '\\', below 0x20 or above 0x7F. Exact
// for the word as a whole (the classic "has zero byte" / "has less than"
// tricks), which is all the fast path needs: on true it goes byte by byte.
inline bool word_needs_attention(std::uint64_t word) {
  constexpr std::uint64_t kOnes = 0x0101010101010101ULL;
  constexpr std::uint64_t kHighBits = 0x8080808080808080ULL;
  const std::uint64_t quote = word ^ (kOnes * '"');
  const std::uint64_t backslash = word ^ (kOnes * '\\');
  const std::uint64_t special = ((quote - kOnes) & ~quote) | ((backslash - kOnes) & ~backslash) |
                                ((word - kOnes * 0x20) & ~word) | word;
  return (special & kHighBits) != 0;
}

// One bit per open container. The first 512 levels live inline so the
// default limit never allocates; deeper limits grow a vector on demand.
class ContainerStack {
 public:
  std::size_t depth() const { return depth_; }

  void push(bool is_object) {
    if (depth_ == capacity_bits_) grow();
    const std::uint64_t bit = 1ULL << (depth_ % 64);
    if (is_object) {
      words_[depth_ / 64] |= bit;
    } else {
      words_[depth_ / 64] &= ~bit;
    }
    ++depth_;
  }

  void pop() { --depth_; }

  // REQUIRES: depth() > 0.
  bool top_is_object() const {
    return ((words_[(depth_ - 1) / 64] >> ((depth_ - 1) % 64)) & 1) != 0;
  }

 private:
  void grow() {
    if (heap_.empty()) heap_.assign(inline_.begin(), inline_.end());
    heap_.resize(heap_.size() * 2);
    words_ = heap_.data();
    capacity_bits_ = heap_.size() * 64;
  }

  std::array<std::uint64_t, 8> inline_{};
  std::vector<std::uint64_t> heap_;
  std::uint64_t* words_ = inline_.data();
  std::size_t capacity_bits_ = inline_.size() * 64;
  std::size_t depth_ = 0;
};

class Scanner {
 public:
  Scanner(std::string_view text, std::size_t max_depth)
      : begin_(reinterpret_cast<const unsigned char*>(text.data())),
        p_(begin_),
        end_(begin_ + text.size()),
        max_depth_(max_depth) {}

  // On false, error() says where and why.
  bool run() {
    // Two states: expecting a value, or having just finished one. Containers
    // are entered and left by pushing and popping the bit stack, never by
    // calling deeper, so the C++ stack stays flat whatever the input.
    bool expect_value = true;
    for (;;) {
      skip_whitespace();
      if (expect_value) {
        if (p_ == end_) return fail(end_, kUnexpectedEnd);
        switch (*p_) {
          case '{':
          case '[': {
            const bool is_object = *p_ == '{';
            if (stack_.depth() >= max_depth_) return fail(p_, kTooDeep);
            stack_.push(is_object);
            ++p_;
            skip_whitespace();
            if (p_ == end_) return fail(end_, kUnexpectedEnd);
            if (*p_ == (is_object ? '}' : ']')) {
              ++p_;
              stack_.pop();
              expect_value = false;
            } else if (is_object && !scan_key()) {
              return false;
            }
            continue;
          }
          case '"':
            if (!scan_string()) return false;
            break;
          case 't':
            if (!scan_literal("true")) return false;
            break;
          case 'f':
            if (!scan_literal("false")) return false;
            break;
          case 'n':
            if (!scan_literal("null")) return false;
            break;
          default:
            if (*p_ != '-' && !is_digit(*p_)) return fail(p_, kExpectedValue);
            if (!scan_number()) return false;
            break;
        }
        expect_value = false;
        continue;
      }

      if (stack_.depth() == 0) {
        if (p_ != end_) return fail(p_, kTrailingData);
        return true;
      }
      const bool in_object = stack_.top_is_object();
      if (p_ == end_) return fail(end_, kUnexpectedEnd);
      if (*p_ == ',') {
        ++p_;
        if (in_object) {
          skip_whitespace();
          if (!scan_key()) return false;
        }
        expect_value = true;
      } else if (*p_ == (in_object ? '}' : ']')) {
        ++p_;
        stack_.pop();
      } else {
        return fail(p_, in_object ? kExpectedObjectDelimiter : kExpectedArrayDelimiter);
      }
    }
  }

  const JsonScanResult& error() const { return error_; }

 private:
  // Records the error; always returns false so callers can return it.
  bool fail(const unsigned char* at, std::string_view reason) {
    error_ = {false, static_cast<std::size_t>(at - begin_), reason};
    return false;
  }

  void skip_whitespace() {
    while (p_ != end_ && is_whitespace(*p_)) ++p_;
  }

  // A key, optional whitespace and the ':'; leaves p_ on the value.
  bool scan_key() {
    if (p_ == end_) return fail(end_, kUnexpectedEnd);
    if (*p_ != '"') return fail(p_, kExpectedKey);
    if (!scan_string()) return false;
    skip_whitespace();
    if (p_ == end_) return fail(end_, kUnexpectedEnd);
    if (*p_ != ':') return fail(p_, kExpectedColon);
    ++p_;
    return true;
  }

  // REQUIRES: *p_ == '"'.
  bool scan_string() {
    ++p_;
    for (;;) {
      // Most GPS payload strings are short ASCII: skip them 8 bytes at a time.
      while (end_ - p_ >= 8) {
        std::uint64_t word;
        std::memcpy(&word, p_, sizeof word);
        if (word_needs_attention(word)) break;
        p_ += 8;
      }
      while (p_ != end_ && kPlainStringByte[*p_]) ++p_;
      if (p_ == end_) return fail(end_, kUnexpectedEnd);

      const unsigned char c = *p_;
      if (c == '"') {
        ++p_;
        return true;
      }
      if (c == '\\') {
        if (!scan_escape()) return false;
      } else if (c < 0x20) {
        return fail(p_, kControlInString);
      } else if (!scan_utf8_sequence()) {
        return false;
      }
    }
  }

  // REQUIRES: *p_ == '\\'.
  bool scan_escape() {
    ++p_;
    if (p_ == end_) return fail(end_, kUnexpectedEnd);
    switch (*p_) {
      case '"':
      case '\\':
      case '/':
      case 'b':
      case 'f':
      case 'n':
      case 'r':
      case 't':
        ++p_;
        return true;
      case 'u':
        ++p_;
        // Surrogate pairing is not checked: the grammar accepts any four
        // hex digits (see the header for why).
        for (int i = 0; i < 4; ++i, ++p_) {
          if (p_ == end_) return fail(end_, kUnexpectedEnd);
          if (!kHexDigit[*p_]) return fail(p_, kInvalidUnicodeEscape);
        }
        return true;
      default:
        return fail(p_, kInvalidEscape);
    }
  }

  // REQUIRES: *p_ >= 0x80. Well-formed sequences per Unicode Table 3-7; the
  // narrowed second-byte ranges are what exclude overlongs (E0, F0),
  // surrogates (ED) and code points above U+10FFFF (F4).
  bool scan_utf8_sequence() {
    const unsigned char lead = *p_;
    int continuation_bytes;
    unsigned char second_min = 0x80;
    unsigned char second_max = 0xBF;
    if (lead >= 0xC2 && lead <= 0xDF) {
      continuation_bytes = 1;
    } else if (lead == 0xE0) {
      continuation_bytes = 2;
      second_min = 0xA0;
    } else if (lead == 0xED) {
      continuation_bytes = 2;
      second_max = 0x9F;
    } else if (lead >= 0xE1 && lead <= 0xEF) {
      continuation_bytes = 2;
    } else if (lead == 0xF0) {
      continuation_bytes = 3;
      second_min = 0x90;
    } else if (lead >= 0xF1 && lead <= 0xF3) {
      continuation_bytes = 3;
    } else if (lead == 0xF4) {
      continuation_bytes = 3;
      second_max = 0x8F;
    } else {
      return fail(p_, kInvalidUtf8);
    }
    ++p_;
    for (int i = 0; i < continuation_bytes; ++i, ++p_) {
      if (p_ == end_) return fail(end_, kUnexpectedEnd);
      const unsigned char min = i == 0 ? second_min : 0x80;
      const unsigned char max = i == 0 ? second_max : 0xBF;
      if (*p_ < min || *p_ > max) return fail(p_, kInvalidUtf8);
    }
    return true;
  }

  // REQUIRES: *p_ is '-' or a digit. Digits are not accumulated: the size of
  // a number is the receiver's business.
  bool scan_number() {
    if (*p_ == '-') {
      ++p_;
      if (p_ == end_) return fail(end_, kUnexpectedEnd);
    }
    if (*p_ == '0') {
      ++p_;
      if (p_ != end_ && is_digit(*p_)) return fail(p_, kLeadingZero);
    } else if (is_digit(*p_)) {
      while (p_ != end_ && is_digit(*p_)) ++p_;
    } else {
      return fail(p_, kInvalidNumber);
    }
    if (p_ != end_ && *p_ == '.') {
      ++p_;
      if (p_ == end_) return fail(end_, kUnexpectedEnd);
      if (!is_digit(*p_)) return fail(p_, kFractionDigits);
      while (p_ != end_ && is_digit(*p_)) ++p_;
    }
    if (p_ != end_ && (*p_ == 'e' || *p_ == 'E')) {
      ++p_;
      if (p_ != end_ && (*p_ == '+' || *p_ == '-')) ++p_;
      if (p_ == end_) return fail(end_, kUnexpectedEnd);
      if (!is_digit(*p_)) return fail(p_, kExponentDigits);
      while (p_ != end_ && is_digit(*p_)) ++p_;
    }
    return true;
  }

  bool scan_literal(std::string_view word) {
    for (const char expected : word) {
      if (p_ == end_) return fail(end_, kUnexpectedEnd);
      if (*p_ != static_cast<unsigned char>(expected)) return fail(p_, kInvalidLiteral);
      ++p_;
    }
    return true;
  }

  const unsigned char* const begin_;
  const unsigned char* p_;
  const unsigned char* const end_;
  const std::size_t max_depth_;
  ContainerStack stack_;
  JsonScanResult error_{false, 0, {}};
};

}  // namespace

JsonScanResult scan_json(std::string_view text, std::size_t max_depth) {
  Scanner scanner(text, max_depth);
  if (scanner.run()) return {true, 0, {}};
  return scanner.error();
}

}  // namespace gpsrelay::http
