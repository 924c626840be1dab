// health_url and fetch_health (see daemon_health.h).
#include "ctl/daemon_health.h"

#include <curl/curl.h>

#include "core/c_handle.h"

namespace gpsrelay::ctl {
namespace {

size_t append(char* data, size_t size, size_t count, void* out) {
  static_cast<std::string*>(out)->append(data, size * count);
  return size * count;
}

}  // namespace

std::optional<std::string> fetch_health(const std::string& url) {
  core::CHandle<CURL, curl_easy_cleanup> easy(curl_easy_init());
  if (!easy) return std::nullopt;
  std::string body;
  curl_easy_setopt(easy.get(), CURLOPT_URL, url.c_str());
  curl_easy_setopt(easy.get(), CURLOPT_TIMEOUT_MS, 2000L);
  curl_easy_setopt(easy.get(), CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(easy.get(), CURLOPT_PROXY, "");
  curl_easy_setopt(easy.get(), CURLOPT_WRITEFUNCTION, &append);
  curl_easy_setopt(easy.get(), CURLOPT_WRITEDATA, &body);
  if (curl_easy_perform(easy.get()) != CURLE_OK) return std::nullopt;
  return body;
}

}  // namespace gpsrelay::ctl
