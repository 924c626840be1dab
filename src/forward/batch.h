// BatchRequestText: the body and identifying headers of one batched POST
// (forward.batch_max > 1). Payloads are JSON text already, so the body is
// the payloads joined into a JSON array in the order added, byte for byte,
// never parsed or re-encoded; the id lists name the entries in the same
// order, so an upstream can pair ids with array elements and de-duplicate.
//
// It does not decide how many entries make a batch or when one is sent
// (the forwarder does), and it builds no headers for single-report
// delivery, which keeps the contract's one-object body.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace gpsrelay::forward {

class BatchRequestText {
 public:
  // Appends one report. Message and request ids contain no commas (stream
  // ids are digits and '-', request ids are sanitised to [A-Za-z0-9._:/+=-]),
  // so the comma-joined lists stay unambiguous.
  void add(std::string_view message_id, std::string_view request_id, std::string_view payload);

  std::size_t size() const { return count_; }
  // "[p1,p2,...]"; "[]" when nothing was added.
  std::string body() const { return body_ + "]"; }
  // "id1,id2,..." in the order of body()'s elements.
  const std::string& message_ids() const { return message_ids_; }
  const std::string& request_ids() const { return request_ids_; }
  // The request's headers besides forward.header: Content-Type, the id
  // lists (X-GPSRelay-Message-IDs, X-Request-IDs) and X-GPSRelay-Attempt.
  std::vector<std::string> headers(unsigned attempt) const;

 private:
  std::size_t count_ = 0;
  std::string body_ = "[";  // without its closing bracket
  std::string message_ids_;
  std::string request_ids_;
};

}  // namespace gpsrelay::forward
