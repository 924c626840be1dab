// The server side of one WebSocket connection (RFC 6455) after its
// handshake, over wslay's event API, without sockets: bytes come from and go
// to a Wire. wslay does the framing (masking, fragments, control
// frames, the close handshake, the message size limit); this adds what a
// live-updates server wants of it: text messages in, pre-encoded update
// frames out, keep-alive pings, close codes.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

struct wslay_event_context;

namespace gpsrelay::live {

struct WsCallbacks;

class WsProtocol {
 public:
  class Wire {
   public:
    // Up to `size` received bytes into `buffer`; 0 when none are waiting.
    virtual std::size_t read(std::uint8_t* buffer, std::size_t size) = 0;
    // Takes all of `data` (buffered; the caller bounds the buffer).
    virtual void write(const std::uint8_t* data, std::size_t size) = 0;

   protected:
    ~Wire() = default;
  };
  using OnText = std::function<void(std::string_view)>;

  // Messages longer than `max_message` bytes close the connection (1009).
  WsProtocol(Wire& wire, std::size_t max_message, OnText on_text);
  ~WsProtocol();
  WsProtocol(const WsProtocol&) = delete;
  WsProtocol& operator=(const WsProtocol&) = delete;

  // Takes what arrived and answers what needs an answer (pongs, the close
  // handshake, the close after a protocol error). False when the wire
  // failed; see finished() for the end of the close handshake.
  bool receive();
  // A frame made by encode_text_frame(), as is (one encoding shared by
  // every subscriber of an update). Dropped once closing.
  void send_frame(std::string_view frame);
  void send_text(std::string_view text);
  void ping();
  // Starts the close handshake with `code`.
  void close(std::uint16_t code, std::string_view reason);

  // A frame of any kind arrived since the last call (the keep-alive's
  // proof that the client is there).
  bool take_activity();
  bool closing() const;
  // Both sides' close frames went (or reading failed and ours is out):
  // the socket can go once what was written has left.
  bool finished() const;

 private:
  friend struct WsCallbacks;
  void flush();

  Wire& wire_;
  OnText on_text_;
  wslay_event_context* context_ = nullptr;
  bool activity_ = false;
};

// One unmasked final text frame carrying `payload` (what a server sends).
std::string encode_text_frame(std::string_view payload);

}  // namespace gpsrelay::live
