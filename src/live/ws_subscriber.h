// A WebSocket subscriber: the connection taken over after the handshake,
// WsProtocol (wslay) on it. Updates go out as text frames encoded once by
// the hub; the client's text messages subscribe and unsubscribe
// (client_message.h), answered with an {"error":…} frame when they are
// not understood; pings keep it alive; a close from either side ends it.
#pragma once

#include <cstdint>
#include <memory>

#include "http/request_handler.h"
#include "live/subscriber.h"
#include "live/ws_protocol.h"

namespace gpsrelay::live {

class LiveClients;

// What a client may send in one message: a subscribe or unsubscribe.
inline constexpr std::size_t kMaxClientMessage = 4096;

class WsSubscriber final : public Subscriber,
                           private http::UpgradedConnection::Events,
                           private WsProtocol::Wire {
 public:
  WsSubscriber(LiveClients& clients, std::uint64_t id);
  ~WsSubscriber() override;
  WsSubscriber(const WsSubscriber&) = delete;
  WsSubscriber& operator=(const WsSubscriber&) = delete;

  // Answers 101 with `accept_key` and takes the connection; false when the
  // client went meanwhile.
  bool accept(http::Exchange& exchange, std::string_view accept_key);

  bool push(const LiveUpdate& update) override;
  bool push_record(std::string_view record) override;
  bool keep_alive() override;
  std::size_t buffered() const override;
  void end() override;
  Transport transport() const override { return Transport::kWebSocket; }

 private:
  // http::UpgradedConnection::Events
  void on_readable() override;
  void on_flushed() override;
  void on_gone() override;
  // WsProtocol::Wire
  std::size_t read(std::uint8_t* buffer, std::size_t size) override;
  void write(const std::uint8_t* data, std::size_t size) override;

  void on_message(std::string_view text);
  // Closes the socket once the close handshake is over and written.
  void close_when_done();

  LiveClients& clients_;
  const std::uint64_t id_;
  WsProtocol protocol_;
  std::unique_ptr<http::UpgradedConnection> connection_;
  bool pinged_ = false;
};

}  // namespace gpsrelay::live
