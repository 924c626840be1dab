// A Server-Sent Events subscriber: an open HTTP response (chunked) whose
// body is the stream of events, one per update, with comment lines as the
// keep-alive (proxies close idle streams; a failed write finds clients
// that went away).
#pragma once

#include <memory>

#include "http/request_handler.h"
#include "live/subscriber.h"

namespace gpsrelay::live {

class SseSubscriber final : public Subscriber {
 public:
  explicit SseSubscriber(std::unique_ptr<http::ResponseStream> stream);

  bool push(const LiveUpdate& update) override;
  bool push_record(std::string_view record) override;
  bool keep_alive() override;
  std::size_t buffered() const override { return stream_->buffered(); }
  void end() override {}  // the response ends with the subscriber
  Transport transport() const override { return Transport::kEventStream; }

 private:
  std::unique_ptr<http::ResponseStream> stream_;
};

}  // namespace gpsrelay::live
