// WebSocket framing over wslay (see ws_protocol.h).
#include "live/ws_protocol.h"

#include <wslay/wslay.h>

#include <new>
#include <stdexcept>
#include <utility>

namespace gpsrelay::live {
// wslay's callbacks, with the protocol object as their user data.
struct WsCallbacks {
  static ssize_t recv(wslay_event_context_ptr context, uint8_t* buffer, size_t length,
                      int /*flags*/, void* user_data) {
    const std::size_t got = static_cast<WsProtocol*>(user_data)->wire_.read(buffer, length);
    if (got == 0) {
      wslay_event_set_error(context, WSLAY_ERR_WOULDBLOCK);
      return -1;
    }
    return static_cast<ssize_t>(got);
  }

  static ssize_t send(wslay_event_context_ptr /*context*/, const uint8_t* data, size_t length,
                      int /*flags*/, void* user_data) {
    static_cast<WsProtocol*>(user_data)->wire_.write(data, length);
    return static_cast<ssize_t>(length);
  }

  static void on_message(wslay_event_context_ptr context,
                         const wslay_event_on_msg_recv_arg* message, void* user_data) {
    auto& protocol = *static_cast<WsProtocol*>(user_data);
    protocol.activity_ = true;
    if (message->opcode == WSLAY_TEXT_FRAME) {
      protocol.on_text_(
          std::string_view(reinterpret_cast<const char*>(message->msg), message->msg_length));
    } else if (message->opcode == WSLAY_BINARY_FRAME) {
      static constexpr std::string_view kReason = "binary messages are not accepted";
      wslay_event_queue_close(context, WSLAY_CODE_UNSUPPORTED_DATA,
                              reinterpret_cast<const uint8_t*>(kReason.data()), kReason.size());
    }
    // Pings are answered by wslay; pongs only count as activity.
  }
};

WsProtocol::WsProtocol(Wire& wire, std::size_t max_message, OnText on_text)
    : wire_(wire), on_text_(std::move(on_text)) {
  static const wslay_event_callbacks callbacks = {
      &WsCallbacks::recv,      &WsCallbacks::send, nullptr, nullptr, nullptr, nullptr,
      &WsCallbacks::on_message};
  if (wslay_event_context_server_init(&context_, &callbacks, this) != 0) throw std::bad_alloc();
  wslay_event_config_set_max_recv_msg_length(context_, max_message);
}

WsProtocol::~WsProtocol() { wslay_event_context_free(context_); }

bool WsProtocol::receive() {
  if (wslay_event_recv(context_) != 0) return false;
  flush();
  return true;
}

void WsProtocol::flush() {
  // The wire takes everything, so this never stops half-way: no
  // frame of wslay's is ever left partly written for send_frame to split.
  wslay_event_send(context_);
}

void WsProtocol::send_frame(std::string_view frame) {
  if (closing()) return;
  wire_.write(reinterpret_cast<const std::uint8_t*>(frame.data()), frame.size());
}

void WsProtocol::send_text(std::string_view text) {
  const wslay_event_msg message = {WSLAY_TEXT_FRAME, reinterpret_cast<const uint8_t*>(text.data()),
                                   text.size()};
  if (wslay_event_queue_msg(context_, &message) == 0) flush();
}

void WsProtocol::ping() {
  const wslay_event_msg message = {WSLAY_PING, nullptr, 0};
  if (wslay_event_queue_msg(context_, &message) == 0) flush();
}

void WsProtocol::close(std::uint16_t code, std::string_view reason) {
  if (wslay_event_queue_close(context_, code, reinterpret_cast<const uint8_t*>(reason.data()),
                              reason.size()) == 0) {
    flush();
  }
}

bool WsProtocol::take_activity() { return std::exchange(activity_, false); }

bool WsProtocol::closing() const { return wslay_event_get_close_sent(context_) != 0; }

bool WsProtocol::finished() const {
  return wslay_event_want_read(context_) == 0 && wslay_event_want_write(context_) == 0;
}

std::string encode_text_frame(std::string_view payload) {
  std::string frame;
  frame.reserve(payload.size() + 10);
  const wslay_frame_callbacks callbacks = {
      [](const uint8_t* data, size_t length, int /*flags*/, void* out) -> ssize_t {
        static_cast<std::string*>(out)->append(reinterpret_cast<const char*>(data), length);
        return static_cast<ssize_t>(length);
      },
      nullptr, nullptr};
  wslay_frame_context_ptr context = nullptr;
  if (wslay_frame_context_init(&context, &callbacks, &frame) != 0) throw std::bad_alloc();
  wslay_frame_iocb frame_io{};
  frame_io.fin = 1;
  frame_io.opcode = WSLAY_TEXT_FRAME;
  frame_io.payload_length = payload.size();
  frame_io.data = reinterpret_cast<const uint8_t*>(payload.data());
  frame_io.data_length = payload.size();
  // The callback takes everything, so one call writes header and payload.
  const ssize_t sent = wslay_frame_send(context, &frame_io);
  wslay_frame_context_free(context);
  if (sent != static_cast<ssize_t>(payload.size())) throw std::runtime_error("wslay_frame_send");
  return frame;
}

}  // namespace gpsrelay::live
