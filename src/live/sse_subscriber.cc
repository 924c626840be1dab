// Server-Sent Events subscriber (see sse_subscriber.h).
#include "live/sse_subscriber.h"

#include "live/pubsub_message.h"

namespace gpsrelay::live {

SseSubscriber::SseSubscriber(std::unique_ptr<http::ResponseStream> stream)
    : stream_(std::move(stream)) {
  // Tells EventSource how long to wait before reconnecting.
  stream_->send("retry: 2000\n\n");
}

bool SseSubscriber::push(const LiveUpdate& update) { return stream_->send(update.sse_frame); }

bool SseSubscriber::push_record(std::string_view record) {
  // No id: the current state is not an update a client could resume from.
  return stream_->send(sse_event({}, record));
}

bool SseSubscriber::keep_alive() { return stream_->send(": keep-alive\n\n"); }

}  // namespace gpsrelay::live
