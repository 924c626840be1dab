// nginx as an HTTP/2 front for an UpstreamServer (see nginx_server.h).
#include "support/nginx_server.h"

#include <chrono>
#include <set>
#include <sstream>
#include <stdexcept>
#include <system_error>
#include <vector>

#include "support/eventually.h"
#include "support/http_client.h"
#include "support/ports.h"

#ifndef NGINX_PATH
#define NGINX_PATH "/usr/sbin/nginx"
#endif

namespace gpsrelay::testing {
namespace {

bool accepts_connections(int port) {
  try {
    RawConnection probe(port);
    return true;
  } catch (const std::system_error&) {
    return false;
  }
}

}  // namespace

NginxServer::NginxServer(std::optional<std::uint16_t> backend_port, std::optional<UpstreamTls> tls)
    : dir_("gpsrelay-nginx"), port_(pick_free_port()), tls_(tls.has_value()) {
  const std::string dir = dir_.path().string();
  std::ostringstream config;
  config << "worker_processes 1;\n"
         << "daemon off;\n"
         << "pid " << dir << "/nginx.pid;\n"
         << "error_log " << dir << "/error.log info;\n"
         << "events { worker_connections 1024; }\n"
         << "http {\n"
         << "  log_format connections '$connection';\n"
         << "  access_log " << dir << "/access.log connections;\n";
  // Every temp path in the temp dir: the packaged defaults need root.
  for (const char* kind : {"client_body", "proxy", "fastcgi", "uwsgi", "scgi"}) {
    config << "  " << kind << "_temp_path " << dir << "/" << kind << ";\n";
  }
  // Bodies stay in memory, so the worker (nobody, when the tests run as
  // root) never needs the private temp dir.
  config << "  client_body_buffer_size 1m;\n"
         << "  server {\n"
         << "    listen 127.0.0.1:" << port_ << (tls ? " ssl" : "") << " http2;\n";
  if (tls) {
    config << "    ssl_certificate " << tls->cert << ";\n"
           << "    ssl_certificate_key " << tls->key << ";\n";
  }
  if (backend_port) {
    config << "    location / {\n"
           << "      proxy_pass http://127.0.0.1:" << *backend_port << ";\n"
           << "      proxy_set_header X-Upstream-Protocol $server_protocol;\n"
           << "    }\n";
  } else {
    config << "    location / { return 200 '{\"status\":\"ok\"}'; }\n";
  }
  config << "  }\n"
         << "}\n";
  const auto config_path = dir_.write_file("nginx.conf", config.str());

  SpawnOptions spawn;
  spawn.argv = {NGINX_PATH, "-p", dir, "-c", config_path.string()};
  spawn.stdout_path = dir_.file("nginx.out");
  process_ = std::make_unique<ChildProcess>(spawn);
  bool exited = false;
  const bool up = eventually(
      [&] {
        exited = !process_->running();
        return exited || accepts_connections(port_);
      },
      std::chrono::seconds(5));
  if (!up || exited) {
    process_->kill();
    throw std::runtime_error("nginx on port " + std::to_string(port_) + " did not come up; log:\n" +
                             log());
  }
}

NginxServer::~NginxServer() = default;

std::string NginxServer::url(const std::string& path) const {
  return std::string(tls_ ? "https" : "http") + "://127.0.0.1:" + std::to_string(port_) + path;
}

std::vector<std::string> NginxServer::access_log_lines() const {
  std::istringstream log(read_file(dir_.file("access.log")));
  std::vector<std::string> lines;
  for (std::string line; std::getline(log, line);) lines.push_back(line);
  return lines;
}

std::size_t NginxServer::connections_used() const {
  const std::vector<std::string> lines = access_log_lines();
  return std::set<std::string>(lines.begin(), lines.end()).size();
}

std::size_t NginxServer::requests_answered() const { return access_log_lines().size(); }

std::string NginxServer::log() const {
  return read_file(dir_.file("nginx.out")) + read_file(dir_.file("error.log"));
}

}  // namespace gpsrelay::testing
