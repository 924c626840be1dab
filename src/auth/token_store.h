// Device-token authentication for ingest (auth.mode = token): the set of
// accepted tokens read from auth.tokens_file, and the decision for one
// request's credentials. It owns the tokens file grammar, the digest
// lookup and the failure reasons counted in metrics. It does not read
// request headers, answer 401, log, or watch the file: the HTTP layer passes
// header values in, and the daemon builds a new store on SIGHUP and publishes
// it as std::shared_ptr<const TokenStore> (a store never changes after
// construction, so readers need no lock).
//
// The tokens file, line by line (lines end with LF; a CR before it is
// ignored, so CRLF files work):
//  - Spaces, tabs and CRs around a line are ignored. A line that is then
//    empty, or starts with '#', is skipped.
//  - Otherwise the line holds one token: visible ASCII (0x21-0x7E), the same
//    characters bearer_token() accepts, so every token in the file can be
//    presented. A token ends at the first space or tab; after it only a
//    "# comment" may follow ("k3Jq9x  # truck 17"). A '#' inside a token is
//    part of it ("ab#cd"), but a token cannot start with '#': write its
//    sha256 form instead.
//  - "sha256:<64 hex digits>" (prefix and digits in either case) holds the
//    SHA-256 of a token rather than the token, e.g. from
//    `printf %s "$TOKEN" | sha256sum` (no trailing newline). A clear token
//    that itself starts with "sha256:" must be written in this form.
//  - A UTF-8 byte order mark at the start of the file is ignored.
//  - The same token listed twice (clear or hashed) is accepted and counted
//    once.
//  - A file without any token is an error, not "refuse everyone": such a file
//    is far more often a truncated or half-written one (for example during a
//    SIGHUP reload) than an operator's intent, and rejecting it keeps the
//    tokens that were in effect.
// Error messages never quote a token, since they end up in the journal.
#pragma once

#include <array>
#include <cstddef>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace gpsrelay::auth {

using TokenDigest = std::array<unsigned char, 32>;  // SHA-256

// Larger tokens files are refused by load_file(): even 100000 devices with
// long tokens and comments fit, and a runaway file cannot exhaust memory.
inline constexpr std::size_t kMaxTokensFileBytes = 16 * 1024 * 1024;

// A tokens file that cannot be used. what() is "WHERE:LINE: message" for a
// line of the file and "WHERE: message" (line() == 0) for the file as a
// whole, where WHERE is the path or the origin name given to parse(); the
// daemon logs it as is, or prints it for a bad start-up configuration.
class TokenFileError : public std::runtime_error {
 public:
  TokenFileError(const std::string& where, std::size_t line, const std::string& message);

  const std::string& where() const { return where_; }
  std::size_t line() const { return line_; }  // 1-based; 0 = the whole file.
  const std::string& message() const { return message_; }

 private:
  std::string where_;
  std::size_t line_;
  std::string message_;
};

class TokenStore {
 public:
  // The store described by `text`, the contents of a tokens file named
  // `origin_name` (used only in error messages). Throws TokenFileError on the
  // first bad line, in file order, or when there is no token at all. Keeps
  // only digests: no clear token outlives the call in the store.
  static TokenStore parse(std::string_view text, const std::string& origin_name);

  // Reads and parses the file at `path`. Throws TokenFileError naming `path`
  // when the file cannot be opened or read, is not a regular file (a FIFO
  // would block a reload), is larger than kMaxTokensFileBytes, or does not
  // parse. The read buffer is wiped before it is freed (best effort).
  static TokenStore load_file(const std::string& path);

  // True when `presented` is one of the tokens; false for an empty one. The
  // presented token is hashed and its digest looked up among the stored
  // digests by binary search, O(log n), so thousands of devices cost no
  // more than a few. Timing can at most tell how the digest of a guess
  // sorts among the stored digests; no token can be recovered from a digest
  // (SHA-256 is preimage-resistant), so that reveals nothing usable. The
  // final comparison is CRYPTO_memcmp. Safe to call from any number of
  // threads at once.
  bool accepts(std::string_view presented) const;

  // The number of distinct tokens; at least 1 for a store that parse() or
  // load_file() returned.
  std::size_t size() const { return digests_.size(); }

 private:
  explicit TokenStore(std::vector<TokenDigest> digests) : digests_(std::move(digests)) {}

  std::vector<TokenDigest> digests_;  // Sorted, without duplicates.
};

// The outcome for one request. The failure reasons are the values of the
// `reason` label of gpsrelay_auth_failures_total. The numbers are fixed:
// the metrics keep one counter per reason, indexed by value - 1.
enum class AuthResult {
  kAccepted = 0,
  kMissing = 1,    // Neither Authorization nor X-API-Key was sent.
  kMalformed = 2,  // A header was sent, but no header held a well-formed token.
  kUnknown = 3,    // A well-formed token was sent, but no sent token is in the store.
};

// "missing", "malformed" or "unknown" for a failure; "" for kAccepted.
std::string_view failure_reason(AuthResult result);

// The token of an "Authorization: Bearer <token>" value: the scheme is
// matched case-insensitively and followed by one or more spaces or tabs; the
// token is the rest with surrounding spaces/tabs removed. The token must be
// non-empty visible ASCII (0x21-0x7E) with no inner whitespace; RFC 6750's
// narrower b64token syntax is not enforced, so tokens in the tokens file may
// use any visible ASCII. Returns an empty view (never a partial token) when
// the header is empty, uses another scheme, or is malformed. The view points
// into authorization_header.
std::string_view bearer_token(std::string_view authorization_header);

// The token of an "X-API-Key: <token>" value: the value with surrounding
// spaces and tabs removed, which must then be non-empty visible ASCII
// (0x21-0x7E), as for bearer_token(). Returns an empty view otherwise. The
// view points into header_value.
std::string_view api_key_token(std::string_view header_value);

// Decides a request from its Authorization and X-API-Key header values
// (nullopt for a header that was not sent). A request is accepted when
// either header holds a token of the store, as the contract words it ("a
// valid token in Authorization: Bearer or X-API-Key"); an Authorization
// header with another scheme, such as Basic, does not hold one. When both
// hold a well-formed token, both are looked up, so the time does not tell
// which one matched. On failure the reason is the most specific one:
// kUnknown if any well-formed token was sent, else kMalformed if any header
// was sent, else kMissing.
AuthResult check(const TokenStore& store, std::optional<std::string_view> authorization,
                 std::optional<std::string_view> api_key);

}  // namespace gpsrelay::auth
