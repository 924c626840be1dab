// WebSocket handshake checks (see ws_handshake.h).
#include "live/ws_handshake.h"

#include <openssl/evp.h>
#include <openssl/sha.h>

#include <algorithm>
#include <array>
#include <cctype>

namespace gpsrelay::live {
namespace {

constexpr std::string_view kGuid = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";

bool iequals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) ==
                  std::tolower(static_cast<unsigned char>(y));
         });
}

std::string_view trim(std::string_view text) {
  while (!text.empty() && (text.front() == ' ' || text.front() == '\t')) text.remove_prefix(1);
  while (!text.empty() && (text.back() == ' ' || text.back() == '\t')) text.remove_suffix(1);
  return text;
}

// Whether the comma-separated header `value` holds `token` (Connection:
// keep-alive, Upgrade is what Firefox sends).
bool has_token(std::string_view value, std::string_view token) {
  while (true) {
    const std::size_t comma = value.find(',');
    if (iequals(trim(value.substr(0, comma)), token)) return true;
    if (comma == std::string_view::npos) return false;
    value.remove_prefix(comma + 1);
  }
}

// The key is 16 random bytes in base64: 22 characters and "==".
bool valid_key(std::string_view key) {
  key = trim(key);
  if (key.size() != 24 || !key.ends_with("==")) return false;
  std::array<unsigned char, 18> decoded{};
  return EVP_DecodeBlock(decoded.data(), reinterpret_cast<const unsigned char*>(key.data()),
                         static_cast<int>(key.size())) == 18;
}

std::string lower(std::string_view text) {
  std::string out(text);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

}  // namespace

bool asks_for_websocket(std::optional<std::string_view> upgrade) {
  return upgrade && has_token(*upgrade, "websocket");
}

HandshakeVerdict check_handshake(const HandshakeRequest& request,
                                 const std::vector<std::string>& allowed_origins) {
  HandshakeVerdict verdict;
  const auto refuse = [&verdict](int status, std::string error) {
    verdict.status = status;
    verdict.error = std::move(error);
    return verdict;
  };
  if (!request.connection || !has_token(*request.connection, "upgrade")) {
    return refuse(400, "a WebSocket handshake needs Connection: Upgrade");
  }
  if (!request.version || trim(*request.version) != "13") {
    return refuse(426, "only WebSocket version 13 is supported (Sec-WebSocket-Version: 13)");
  }
  if (!request.key || !valid_key(*request.key)) {
    return refuse(400, "Sec-WebSocket-Key must be 16 bytes in base64");
  }
  if (request.origin && !allowed_origins.empty() &&
      std::find(allowed_origins.begin(), allowed_origins.end(), lower(trim(*request.origin))) ==
          allowed_origins.end()) {
    return refuse(403, "Origin is not in locations.live_origins");
  }
  verdict.accept = accept_key(trim(*request.key));
  return verdict;
}

std::string accept_key(std::string_view key) {
  std::string input(key);
  input += kGuid;
  std::array<unsigned char, SHA_DIGEST_LENGTH> digest{};
  SHA1(reinterpret_cast<const unsigned char*>(input.data()), input.size(), digest.data());
  std::array<unsigned char, 32> encoded{};  // 4 * ceil(20 / 3) + NUL
  const int length = EVP_EncodeBlock(encoded.data(), digest.data(), SHA_DIGEST_LENGTH);
  return {reinterpret_cast<const char*>(encoded.data()), static_cast<std::size_t>(length)};
}

}  // namespace gpsrelay::live
