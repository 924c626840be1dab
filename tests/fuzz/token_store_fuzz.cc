// libFuzzer target for TokenStore::parse(), accepts() and check().
//
// Compares the parser with a deliberately naive reference built from
// std::string operations: both must agree on whether the file is valid, on
// the line of the first error, and on the number of distinct tokens. Then
// the presented token must be accepted exactly when the reference lists it
// in clear or its SHA-256 among the hash lines, and check() must agree with
// accepts() for both headers. Error messages must be single printable lines
// (they are logged, and never quote a token).
//
// Input layout: the tokens file, optionally followed by kTokenMarker and
// the presented token (any bytes).
#include <openssl/evp.h>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <optional>
#include <set>
#include <string>
#include <string_view>

#include "auth/token_store.h"

namespace {

using gpsrelay::auth::AuthResult;
using gpsrelay::auth::TokenFileError;
using gpsrelay::auth::TokenStore;

constexpr std::string_view kTokenMarker = "\n@@TOKEN\n";

[[noreturn]] void fail(const char* what, const std::string& detail = "") {
  std::fprintf(stderr, "token_store_fuzz: %s\n%s\n", what, detail.c_str());
  std::abort();
}

void check(bool condition, const char* what, const std::string& detail = "") {
  if (!condition) fail(what, detail);
}

std::string lower(std::string text) {
  for (char& c : text) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return text;
}

std::string sha256_hex(std::string_view text) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int size = 0;
  if (EVP_Digest(text.data(), text.size(), digest, &size, EVP_sha256(), nullptr) != 1) {
    fail("EVP_Digest failed");
  }
  static constexpr char kHex[] = "0123456789abcdef";
  std::string hex;
  for (unsigned int i = 0; i < size; ++i) {
    hex += kHex[digest[i] >> 4];
    hex += kHex[digest[i] & 15];
  }
  return hex;
}

// What the reference makes of a tokens file.
struct Reference {
  std::size_t error_line = 0;  // 0: valid, or no tokens when both sets are empty.
  std::set<std::string> clear;
  std::set<std::string> hashes;  // Lower case hex.
};

Reference reference_parse(std::string text) {
  Reference result;
  if (text.rfind("\xef\xbb\xbf", 0) == 0) text.erase(0, 3);
  std::size_t line_number = 0;
  std::size_t start = 0;
  while (start < text.size()) {
    ++line_number;
    std::size_t end = text.find('\n', start);
    if (end == std::string::npos) end = text.size();
    std::string line = text.substr(start, end - start);
    start = end + 1;

    const std::size_t first = line.find_first_not_of(" \t\r");
    if (first == std::string::npos) continue;
    line = line.substr(first, line.find_last_not_of(" \t\r") - first + 1);
    if (line[0] == '#') continue;
    const std::size_t blank = line.find_first_of(" \t");
    const std::string token = line.substr(0, blank);
    if (blank != std::string::npos) {
      const std::size_t rest = line.find_first_not_of(" \t", blank);
      if (rest != std::string::npos && line[rest] != '#') {
        result.error_line = line_number;
        return result;
      }
    }
    for (const char c : token) {
      if (static_cast<unsigned char>(c) <= 0x20 || static_cast<unsigned char>(c) >= 0x7f) {
        result.error_line = line_number;
        return result;
      }
    }
    if (lower(token.substr(0, 7)) == "sha256:") {
      const std::string hex = lower(token.substr(7));
      if (hex.size() != 64 || hex.find_first_not_of("0123456789abcdef") != std::string::npos ||
          hex == sha256_hex("")) {
        result.error_line = line_number;
        return result;
      }
      result.hashes.insert(hex);
    } else {
      result.clear.insert(token);
    }
  }
  return result;
}

bool is_one_printable_line(const std::string& text) {
  for (const char c : text) {
    if (c < 0x20 || c > 0x7e) return false;
  }
  return true;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  const std::size_t marker = input.find(kTokenMarker);
  const std::string_view file = input.substr(0, marker);
  const std::string_view presented = marker == std::string_view::npos
                                         ? std::string_view()
                                         : input.substr(marker + kTokenMarker.size());

  const Reference expected = reference_parse(std::string(file));
  std::optional<TokenStore> store;
  try {
    store.emplace(TokenStore::parse(file, "tokens"));
  } catch (const TokenFileError& error) {
    check(is_one_printable_line(error.what()), "error message is one printable line", error.what());
    check(error.where() == "tokens", "error names the origin");
    check(error.line() == expected.error_line, "error line matches the reference",
          std::to_string(error.line()) + " vs " + std::to_string(expected.error_line));
    if (error.line() == 0) {
      check(expected.clear.empty() && expected.hashes.empty(), "'no tokens' only without tokens");
    }
    return 0;
  }
  check(expected.error_line == 0, "parse accepts only what the reference accepts",
        "reference error at line " + std::to_string(expected.error_line));

  std::set<std::string> digests = expected.hashes;
  for (const std::string& token : expected.clear) {
    digests.insert(sha256_hex(token));
    check(store->accepts(token), "every clear token is accepted");
  }
  check(!digests.empty(), "a store has at least one token");
  check(store->size() == digests.size(), "size counts distinct tokens",
        std::to_string(store->size()) + " vs " + std::to_string(digests.size()));

  const bool known = !presented.empty() && digests.count(sha256_hex(presented)) > 0;
  check(store->accepts(presented) == known, "accepts() matches the reference");

  // Both headers trim spaces and tabs around the token; what is left must be
  // the same token either way, and is what the lookup sees.
  const std::string authorization = "Bearer " + std::string(presented);
  const std::string_view effective = gpsrelay::auth::api_key_token(presented);
  check(gpsrelay::auth::bearer_token(authorization) == effective,
        "both headers yield the same token");
  const bool effective_known = !effective.empty() && digests.count(sha256_hex(effective)) > 0;
  const AuthResult by_bearer = gpsrelay::auth::check(*store, authorization, std::nullopt);
  const AuthResult by_key = gpsrelay::auth::check(*store, std::nullopt, presented);
  const AuthResult by_both = gpsrelay::auth::check(*store, authorization, presented);
  const AuthResult want = effective.empty() ? AuthResult::kMalformed
                          : effective_known ? AuthResult::kAccepted
                                            : AuthResult::kUnknown;
  check(by_bearer == want, "check() by Authorization agrees with accepts()");
  check(by_key == want, "check() by X-API-Key agrees with accepts()");
  check(by_both == want, "check() by both headers agrees with accepts()");
  check(gpsrelay::auth::check(*store, std::nullopt, std::nullopt) == AuthResult::kMissing,
        "no header is missing");
  return 0;
}
