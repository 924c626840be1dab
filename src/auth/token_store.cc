// The tokens file parser and the digest lookup (see token_store.h).
// SHA-256 and the final constant-time comparison come from OpenSSL's libcrypto.
// Bytes are classified by their ASCII value only; no locale is consulted.
#include "auth/token_store.h"

#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>

#include <algorithm>
#include <tuple>

#include "core/file_reader.h"
#include "core/openssl_error.h"

namespace gpsrelay::auth {
namespace {

constexpr std::string_view kHashPrefix = "sha256:";
constexpr std::size_t kHexDigits = 2 * std::tuple_size_v<TokenDigest>;
constexpr std::string_view kUtf8Bom = "\xef\xbb\xbf";

constexpr bool is_blank(char c) { return c == ' ' || c == '\t'; }

constexpr bool is_visible_ascii(char c) { return c >= 0x21 && c <= 0x7e; }

std::string_view trim_blanks(std::string_view text) {
  while (!text.empty() && is_blank(text.front())) text.remove_prefix(1);
  while (!text.empty() && is_blank(text.back())) text.remove_suffix(1);
  return text;
}

constexpr char ascii_lower(char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c + 32) : c; }

// REQUIRES: lower_case is lower case ASCII.
bool starts_with_ignoring_case(std::string_view text, std::string_view lower_case) {
  if (text.size() < lower_case.size()) return false;
  for (std::size_t i = 0; i < lower_case.size(); ++i) {
    if (ascii_lower(text[i]) != lower_case[i]) return false;
  }
  return true;
}

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// Fetched once: looking "SHA256" up by name on every call would take
// OpenSSL's provider store lock on every request of every thread. Never
// freed on purpose: OpenSSL's own atexit cleanup may run before a static
// destructor would, and the process ends anyway.
const EVP_MD* sha256_md() {
  static const EVP_MD* const md = EVP_MD_fetch(nullptr, "SHA256", nullptr);
  return md;
}

// False when OpenSSL cannot hash (no default provider, out of memory); the
// reason is then on OpenSSL's error queue for the caller to report or clear.
bool sha256(std::string_view data, TokenDigest& digest) {
  const EVP_MD* md = sha256_md();
  unsigned int size = 0;
  return md != nullptr &&
         EVP_Digest(data.data(), data.size(), digest.data(), &size, md, nullptr) == 1 &&
         size == digest.size();
}

// Parses the lines of one tokens file, collecting digests.
class TokensFileParser {
 public:
  explicit TokensFileParser(const std::string& origin_name) : origin_name_(origin_name) {
    if (!sha256("", empty_token_digest_))
      fail("cannot compute SHA-256: " + core::drain_openssl_errors());
  }

  std::vector<TokenDigest> parse(std::string_view text) {
    if (text.substr(0, kUtf8Bom.size()) == kUtf8Bom) text.remove_prefix(kUtf8Bom.size());
    while (!text.empty()) {
      ++line_;
      const std::size_t end = std::min(text.find('\n'), text.size());
      parse_line(text.substr(0, end));
      text.remove_prefix(std::min(end + 1, text.size()));
    }
    line_ = 0;
    if (digests_.empty()) {
      fail("contains no tokens; with auth.mode = token every request would be refused");
    }
    std::sort(digests_.begin(), digests_.end());
    digests_.erase(std::unique(digests_.begin(), digests_.end()), digests_.end());
    return std::move(digests_);
  }

 private:
  [[noreturn]] void fail(const std::string& message) const {
    throw TokenFileError(origin_name_, line_, message);
  }

  static std::string column(std::size_t offset) { return "column " + std::to_string(offset + 1); }

  void parse_line(std::string_view line) {
    constexpr std::string_view kSpace = " \t\r";
    const std::size_t last = line.find_last_not_of(kSpace);
    if (last == std::string_view::npos) return;  // Blank.
    line = line.substr(0, last + 1);
    const std::size_t begin = line.find_first_not_of(kSpace);
    if (line[begin] == '#') return;

    std::size_t end = begin;
    while (end < line.size() && !is_blank(line[end])) ++end;
    const std::size_t rest = line.find_first_not_of(" \t", end);
    if (rest != std::string_view::npos && line[rest] != '#') {
      fail("unexpected text after the token at " + column(rest) +
           "; a token cannot contain spaces or tabs, and a comment after it starts with '#'");
    }

    const std::string_view token = line.substr(begin, end - begin);
    for (std::size_t i = 0; i < token.size(); ++i) {
      if (!is_visible_ascii(token[i])) {
        fail(std::string(static_cast<unsigned char>(token[i]) >= 0x80
                             ? "token contains a non-ASCII byte at "
                             : "token contains a control character at ") +
             column(begin + i) + "; tokens are visible ASCII (0x21-0x7E)");
      }
    }

    TokenDigest digest{};
    if (starts_with_ignoring_case(token, kHashPrefix)) {
      parse_hex(token.substr(kHashPrefix.size()), begin + kHashPrefix.size(), digest);
      if (digest == empty_token_digest_) {
        fail("this is the SHA-256 of the empty token, which is never accepted");
      }
    } else if (!sha256(token, digest)) {
      fail("cannot compute SHA-256: " + core::drain_openssl_errors());
    }
    digests_.push_back(digest);
  }

  // `offset` is the column of hex's first byte in the line, for messages.
  void parse_hex(std::string_view hex, std::size_t offset, TokenDigest& digest) const {
    if (hex.size() != kHexDigits) {
      fail("expected " + std::to_string(kHexDigits) + " hex digits after 'sha256:', found " +
           std::to_string(hex.size()) + " characters");
    }
    for (std::size_t i = 0; i < digest.size(); ++i) {
      const int high = hex_value(hex[2 * i]);
      const int low = hex_value(hex[2 * i + 1]);
      if (high < 0 || low < 0) {
        fail("not a hex digit at " + column(offset + 2 * i + (high < 0 ? 0 : 1)) +
             " after 'sha256:'");
      }
      digest[i] = static_cast<unsigned char>(high * 16 + low);
    }
  }

  const std::string& origin_name_;
  std::size_t line_ = 0;
  TokenDigest empty_token_digest_{};
  std::vector<TokenDigest> digests_;
};

// File contents that include clear tokens: overwritten before the memory is
// freed, so they do not linger in the heap of a long-running daemon.
// read_bounded_file() leaves no other copy behind.
struct WipedBuffer {
  WipedBuffer() = default;
  WipedBuffer(const WipedBuffer&) = delete;
  WipedBuffer& operator=(const WipedBuffer&) = delete;
  ~WipedBuffer() { OPENSSL_cleanse(bytes.data(), bytes.size()); }

  std::string bytes;
};

}  // namespace

TokenFileError::TokenFileError(const std::string& where, std::size_t line,
                               const std::string& message)
    : std::runtime_error(line > 0 ? where + ":" + std::to_string(line) + ": " + message
                                  : where + ": " + message),
      where_(where),
      line_(line),
      message_(message) {}

TokenStore TokenStore::parse(std::string_view text, const std::string& origin_name) {
  return TokenStore(TokensFileParser(origin_name).parse(text));
}

TokenStore TokenStore::load_file(const std::string& path) {
  WipedBuffer buffer;
  try {
    buffer.bytes =
        core::read_bounded_file(path, kMaxTokensFileBytes, core::FileKinds::kRegularOnly);
  } catch (const core::FileReadError& e) {
    throw TokenFileError(path, 0, e.what());
  }
  return parse(buffer.bytes, path);
}

bool TokenStore::accepts(std::string_view presented) const {
  // The length is not secret, and no stored token is empty.
  if (presented.empty()) return false;
  TokenDigest digest{};
  if (!sha256(presented, digest)) {
    ERR_clear_error();  // Fail closed; the caller answers 401.
    return false;
  }
  // See the header for why a search over digests is safe.
  const auto candidate = std::lower_bound(digests_.begin(), digests_.end(), digest);
  return candidate != digests_.end() &&
         CRYPTO_memcmp(candidate->data(), digest.data(), digest.size()) == 0;
}

std::string_view failure_reason(AuthResult result) {
  switch (result) {
    case AuthResult::kAccepted:
      return "";
    case AuthResult::kMissing:
      return "missing";
    case AuthResult::kMalformed:
      return "malformed";
    case AuthResult::kUnknown:
      return "unknown";
  }
  return "";
}

std::string_view bearer_token(std::string_view authorization_header) {
  constexpr std::string_view kScheme = "bearer";
  const std::string_view value = trim_blanks(authorization_header);
  if (value.size() <= kScheme.size() || !starts_with_ignoring_case(value, kScheme) ||
      !is_blank(value[kScheme.size()])) {
    return {};
  }
  // After the trim the token has no blank at either end, so any blank in it
  // is an inner one, which is_visible_ascii refuses.
  const std::string_view token = trim_blanks(value.substr(kScheme.size()));
  if (token.empty() || !std::all_of(token.begin(), token.end(), is_visible_ascii)) return {};
  return token;
}

std::string_view api_key_token(std::string_view header_value) {
  const std::string_view token = trim_blanks(header_value);
  if (token.empty() || !std::all_of(token.begin(), token.end(), is_visible_ascii)) return {};
  return token;
}

AuthResult check(const TokenStore& store, std::optional<std::string_view> authorization,
                 std::optional<std::string_view> api_key) {
  if (!authorization && !api_key) return AuthResult::kMissing;
  const std::string_view bearer = authorization ? bearer_token(*authorization) : "";
  const std::string_view key = api_key ? api_key_token(*api_key) : "";
  if (bearer.empty() && key.empty()) return AuthResult::kMalformed;
  // Both lookups run before either result is used, so the time does not
  // tell which header held the valid token.
  const bool bearer_accepted = store.accepts(bearer);
  const bool key_accepted = store.accepts(key);
  return bearer_accepted || key_accepted ? AuthResult::kAccepted : AuthResult::kUnknown;
}

}  // namespace gpsrelay::auth
