// The forward.http2 modes this libcurl can carry (see http2_support.h).
#include "forward/http2_support.h"

namespace gpsrelay::forward {

std::optional<std::string> http2_unsupported(core::ForwardConfig::Http2 mode,
                                             const CurlFacts& curl) {
  // auto and off work everywhere: without HTTP/2 support, auto is HTTP/1.1.
  if (mode != core::ForwardConfig::Http2::kPriorKnowledge) return std::nullopt;
  if (!curl.http2) {
    return "forward.http2 = prior-knowledge: libcurl " + curl.version +
           " is built without HTTP/2; use http2 = auto or off";
  }
  // 7.88.0 and 7.88.1 (Debian 12's) fail every request that reuses a
  // cleartext HTTP/2 connection with "Error in the HTTP2 framing layer"
  // (curl issue #10634, fixed in 8.0.0): every delivery after a
  // connection's first would fail.
  if (curl.version_num >= 0x075800 && curl.version_num < 0x075900) {
    return "forward.http2 = prior-knowledge: libcurl " + curl.version +
           " cannot reuse a cleartext HTTP/2 connection (curl issue #10634, fixed in 8.0.0); "
           "use https:// targets with http2 = auto, or http2 = off";
  }
  return std::nullopt;
}

}  // namespace gpsrelay::forward
