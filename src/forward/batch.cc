// Batched request text (see batch.h).
#include "forward/batch.h"

namespace gpsrelay::forward {

void BatchRequestText::add(std::string_view message_id, std::string_view request_id,
                           std::string_view payload) {
  if (count_ > 0) {
    body_ += ',';
    message_ids_ += ',';
    request_ids_ += ',';
  }
  body_ += payload;
  message_ids_ += message_id;
  request_ids_ += request_id;
  ++count_;
}

std::vector<std::string> BatchRequestText::headers(unsigned attempt) const {
  return {"Content-Type: application/json", "X-GPSRelay-Message-IDs: " + message_ids_,
          "X-Request-IDs: " + request_ids_, "X-GPSRelay-Attempt: " + std::to_string(attempt)};
}

}  // namespace gpsrelay::forward
