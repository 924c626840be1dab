// Whether a libcurl can carry a forward.http2 mode: a plain rule over the
// library's version and features (HttpSender says which libcurl this
// process runs with), unit-tested with any version; the daemon applies it
// at start and in --check-config alike.
#pragma once

#include <optional>
#include <string>

#include "core/config.h"

namespace gpsrelay::forward {

struct CurlFacts {
  unsigned version_num = 0;  // LIBCURL_VERSION_NUM layout: 0xXXYYZZ
  std::string version;       // "7.88.1"
  bool http2 = false;        // built with HTTP/2 (nghttp2)
};

// Why `mode` cannot work with `curl`; nullopt when it can.
std::optional<std::string> http2_unsupported(core::ForwardConfig::Http2 mode,
                                             const CurlFacts& curl);

}  // namespace gpsrelay::forward
