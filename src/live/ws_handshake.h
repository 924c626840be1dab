// The WebSocket opening handshake (RFC 6455, section 4.2), pure: whether a
// request asks for an upgrade, whether it may have one, and the accept key
// of the answer. The HTTP worker has checked the route and the read token
// before this runs; what is left is the protocol's part and the Origin
// allow-list (locations.live_origins).
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace gpsrelay::live {

// The request's headers that matter here; absent ones are nullopt.
struct HandshakeRequest {
  std::optional<std::string_view> upgrade;
  std::optional<std::string_view> connection;
  std::optional<std::string_view> version;  // Sec-WebSocket-Version
  std::optional<std::string_view> key;      // Sec-WebSocket-Key
  std::optional<std::string_view> origin;
};

struct HandshakeVerdict {
  int status = 101;    // 101, or the error to answer: 400, 403, 426
  std::string error;   // why, for the error answer
  std::string accept;  // Sec-WebSocket-Accept, with 101
};

// True when the Upgrade header names websocket (the request wants a
// WebSocket rather than a plain read).
bool asks_for_websocket(std::optional<std::string_view> upgrade);

// Checks a request that asks_for_websocket(). `allowed_origins` are
// lower-cased; empty lets any Origin in. A request without Origin is not a
// browser's, so the allow-list (which protects users' browsers from other
// sites' pages) does not apply to it.
HandshakeVerdict check_handshake(const HandshakeRequest& request,
                                 const std::vector<std::string>& allowed_origins);

// base64(SHA-1(key + the RFC's GUID)).
std::string accept_key(std::string_view key);

}  // namespace gpsrelay::live
