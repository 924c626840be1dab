// IngestModule: report ingest as a module of gpsrelayd, always enabled.
// POST /api/gps/reports takes any well-formed JSON, byte-exact, into
// redis.stream, answered 200 with the stream id once Redis has it. The
// checks every ingest route shares (rate limit, device token, draining,
// Idempotency-Key, the edge limits) are the HTTP worker's, by route kind;
// what is left here is what makes a raw report: its type, a body, and
// well-formed JSON (http/json_scan.h).
#pragma once

#include <cstdint>
#include <memory>

#include "core/config.h"
#include "daemon/module.h"

namespace gpsrelay::ingest {

class IngestModule : public daemon::Module {
 public:
  explicit IngestModule(const core::HttpConfig& http) : max_body_bytes_(http.max_body_bytes) {}

  std::string_view name() const override { return "ingest"; }
  void add_routes(http::RouteTable& routes) const override;
  std::unique_ptr<http::RequestHandler> make_handler(const http::WorkerServices& services) override;

 private:
  const std::uint64_t max_body_bytes_;
};

}  // namespace gpsrelay::ingest
