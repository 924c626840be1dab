// Small facts about target URLs that the forwarder needs without a URL
// library: where a target's health endpoint is.
#pragma once

#include <string>
#include <string_view>

namespace gpsrelay::forward {

// "scheme://authority" of `url` ("http://a:8080/in?x" -> "http://a:8080");
// the whole string when it has no path.
std::string_view origin_of(std::string_view url);

// The health-check URL of a target: its origin followed by `health_path`
// (which starts with '/').
std::string health_url(std::string_view target_url, std::string_view health_path);

}  // namespace gpsrelay::forward
