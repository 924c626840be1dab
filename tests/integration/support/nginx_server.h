// NginxServer: a real HTTP/2 server for the forwarding tests, nginx from
// Debian on a private port and temp dir. It speaks HTTP/2 to gpsrelayd
// (cleartext h2c with prior knowledge, or TLS with ALPN h2) and passes every
// request on as HTTP/1.1 to a test's UpstreamServer, which records it; the
// header X-Upstream-Protocol says which protocol the request reached nginx
// over, so a test sees both the bytes delivered and that HTTP/2 carried them.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "support/child_process.h"
#include "support/temp_dir.h"
#include "support/upstream_server.h"

namespace gpsrelay::testing {

class NginxServer {
 public:
  // Without `tls`: h2c (HTTP/2 only, no HTTP/1.1 on that port). With it:
  // HTTPS offering h2 and http/1.1 by ALPN. Requests go to
  // 127.0.0.1:`backend_port`; without one nginx answers 200 at once, before
  // reading the body, and resets the rest of the stream (its 'return').
  // Throws std::runtime_error, with nginx's log, when it does not come up.
  NginxServer(std::optional<std::uint16_t> backend_port,
              std::optional<UpstreamTls> tls = std::nullopt);
  ~NginxServer();
  NginxServer(const NginxServer&) = delete;
  NginxServer& operator=(const NginxServer&) = delete;

  std::string url(const std::string& path = "/ingest") const;
  // Client connections that carried at least one request (nginx's
  // $connection numbers in its access log).
  std::size_t connections_used() const;
  // Requests nginx answered (lines of its access log).
  std::size_t requests_answered() const;
  std::string log() const;

 private:
  // One line per request: the connection it came over ($connection).
  std::vector<std::string> access_log_lines() const;

  TempDir dir_;
  int port_;
  bool tls_;
  std::unique_ptr<ChildProcess> process_;
};

}  // namespace gpsrelay::testing
