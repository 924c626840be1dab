// The WebSocket opening handshake checks (live/ws_handshake.h).
#include "live/ws_handshake.h"

#include <gtest/gtest.h>

namespace gpsrelay::live {
namespace {

HandshakeRequest browser_request() {
  return HandshakeRequest{"websocket", "keep-alive, Upgrade", "13",
                          "dGhlIHNhbXBsZSBub25jZQ==", "https://dispatch.example.com"};
}

TEST(WsHandshakeTest, AcceptKeyIsTheRfcExample) {
  // RFC 6455, section 1.3.
  EXPECT_EQ(accept_key("dGhlIHNhbXBsZSBub25jZQ=="), "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
}

TEST(WsHandshakeTest, AsksForWebSocketOnlyWithTheUpgradeToken) {
  EXPECT_TRUE(asks_for_websocket("websocket"));
  EXPECT_TRUE(asks_for_websocket("WebSocket"));
  EXPECT_TRUE(asks_for_websocket("h2c, websocket"));
  EXPECT_FALSE(asks_for_websocket("h2c"));
  EXPECT_FALSE(asks_for_websocket(""));
  EXPECT_FALSE(asks_for_websocket(std::nullopt));
}

TEST(WsHandshakeTest, AcceptsABrowsersRequest) {
  const HandshakeVerdict verdict = check_handshake(browser_request(), {});
  EXPECT_EQ(verdict.status, 101);
  EXPECT_EQ(verdict.accept, "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
}

TEST(WsHandshakeTest, NeedsConnectionUpgrade) {
  HandshakeRequest request = browser_request();
  request.connection = "keep-alive";
  EXPECT_EQ(check_handshake(request, {}).status, 400);
  request.connection = std::nullopt;
  EXPECT_EQ(check_handshake(request, {}).status, 400);
}

TEST(WsHandshakeTest, OtherVersionsAreAskedToUpgrade) {
  HandshakeRequest request = browser_request();
  request.version = "8";
  const HandshakeVerdict verdict = check_handshake(request, {});
  EXPECT_EQ(verdict.status, 426);
  EXPECT_NE(verdict.error.find("13"), std::string::npos);
  request.version = std::nullopt;
  EXPECT_EQ(check_handshake(request, {}).status, 426);
}

TEST(WsHandshakeTest, KeyMustBeSixteenBytesInBase64) {
  HandshakeRequest request = browser_request();
  for (const std::string_view bad :
       {"", "abc", "dGhlIHNhbXBsZSBub25jZQ", "dGhlIHNhbXBsZSBub25jZQ=", "dGhlIHNhbXBsZSBub25j*Q==",
        "dGhlIHNhbXBsZSBub25jZQ==dGhl", "dGhlIHNhbXBsZSBub25jZSE="}) {
    request.key = bad;
    EXPECT_EQ(check_handshake(request, {}).status, 400) << bad;
  }
  request.key = std::nullopt;
  EXPECT_EQ(check_handshake(request, {}).status, 400);
}

TEST(WsHandshakeTest, OriginAllowListAppliesToBrowsers) {
  const std::vector<std::string> allowed = {"https://dispatch.example.com"};
  HandshakeRequest request = browser_request();
  EXPECT_EQ(check_handshake(request, allowed).status, 101);
  request.origin = "HTTPS://Dispatch.Example.com";  // origins compare case-insensitively
  EXPECT_EQ(check_handshake(request, allowed).status, 101);
  request.origin = "https://evil.example";
  EXPECT_EQ(check_handshake(request, allowed).status, 403);
  request.origin = "null";  // a sandboxed page or file://
  EXPECT_EQ(check_handshake(request, allowed).status, 403);
  // Not a browser: nothing to protect with an Origin check.
  request.origin = std::nullopt;
  EXPECT_EQ(check_handshake(request, allowed).status, 101);
}

}  // namespace
}  // namespace gpsrelay::live
