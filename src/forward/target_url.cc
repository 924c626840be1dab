// origin_of and health_url (see target_url.h).
#include "forward/target_url.h"

namespace gpsrelay::forward {

std::string_view origin_of(std::string_view url) {
  const std::size_t scheme_end = url.find("://");
  const std::size_t authority = scheme_end == std::string_view::npos ? 0 : scheme_end + 3;
  const std::size_t end = url.find_first_of("/?#", authority);
  return end == std::string_view::npos ? url : url.substr(0, end);
}

std::string health_url(std::string_view target_url, std::string_view health_path) {
  return std::string(origin_of(target_url)) + std::string(health_path);
}

}  // namespace gpsrelay::forward
