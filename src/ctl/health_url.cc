// health_url (see health_url.h).
#include "ctl/health_url.h"

namespace gpsrelay::ctl {

std::string health_url(const core::Endpoint& listen) {
  std::string host = listen.host;
  if (host == "0.0.0.0" || host.empty()) host = "127.0.0.1";
  if (host == "::") host = "::1";
  if (host.find(':') != std::string::npos) host = "[" + host + "]";
  return "http://" + host + ":" + std::to_string(listen.port) + "/health";
}

}  // namespace gpsrelay::ctl
