// Report ingest (see ingest_module.h).
#include "ingest/ingest_module.h"

#include <string>

#include "http/json_scan.h"
#include "http/request_checks.h"
#include "ingest/ingest_routes.h"

namespace gpsrelay::ingest {
namespace {

constexpr http::AcceptedAnswer kReportAccepted{200, "application/json",
                                               "{\"status\":\"ok\",\"message_id\":\"", "\"}", true};

class ReportHandler final : public http::RequestHandler {
 public:
  explicit ReportHandler(std::uint64_t max_body_bytes) : max_body_bytes_(max_body_bytes) {}

  void handle(int /*route: kPostReport is the only one*/, http::Exchange& exchange) override {
    const std::optional<std::string_view> content_type = exchange.header("Content-Type");
    if (!content_type || !http::is_json_content_type(*content_type)) {
      exchange.reply_error(415, "Content-Type must be application/json");
      return;
    }
    const std::string_view payload = exchange.body();
    if (payload.empty()) {
      exchange.reply_error(400, "empty body");
      return;
    }
    // evhttp answers 413 before reading such a body; this holds if it
    // ever framed one anyway.
    if (payload.size() > max_body_bytes_) {
      exchange.reply_error(413, "body larger than http.max_body_size");
      return;
    }
    const http::JsonScanResult scan = http::scan_json(payload);
    if (!scan.ok) {
      exchange.reply_error(400, "malformed JSON at byte " + std::to_string(scan.offset) + ": " +
                                    std::string(scan.reason));
      return;
    }
    exchange.enqueue(payload, {}, kReportAccepted);
  }

 private:
  const std::uint64_t max_body_bytes_;
};

}  // namespace

void IngestModule::add_routes(http::RouteTable& routes) const { add_ingest_routes(routes); }

std::unique_ptr<http::RequestHandler> IngestModule::make_handler(const http::WorkerServices&) {
  return std::make_unique<ReportHandler>(max_body_bytes_);
}

}  // namespace gpsrelay::ingest
