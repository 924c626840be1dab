// A live subscriber as its worker's LiveClients sees it, whatever its
// transport: something updates are pushed to, kept alive, and dropped when
// it does not keep up.
#pragma once

#include <cstddef>
#include <string_view>

#include "live/live_hub.h"

namespace gpsrelay::live {

enum class Transport { kEventStream, kWebSocket };

class Subscriber {
 public:
  // Ends the connection if the client is still there.
  virtual ~Subscriber() = default;
  // Writes `update` in this transport's framing (serialised once by the
  // hub, shared by every subscriber); false when the client is gone.
  virtual bool push(const LiveUpdate& update) = 0;
  // The current record of a channel just followed.
  virtual bool push_record(std::string_view record) = 0;
  // The periodic keep-alive; false when the client is to be dropped
  // (gone, or silent since the last one).
  virtual bool keep_alive() = 0;
  // Bytes written and not yet taken by the client's socket.
  virtual std::size_t buffered() const = 0;
  // The server stops: says goodbye where the transport can.
  virtual void end() = 0;
  virtual Transport transport() const = 0;
};

}  // namespace gpsrelay::live
