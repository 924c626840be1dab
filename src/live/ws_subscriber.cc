// WebSocket subscriber (see ws_subscriber.h).
#include "live/ws_subscriber.h"

#include <variant>

#include "core/json_handle.h"
#include "live/client_message.h"
#include "live/live_clients.h"

namespace gpsrelay::live {
namespace {

constexpr std::uint16_t kGoingAway = 1001;

}  // namespace

WsSubscriber::WsSubscriber(LiveClients& clients, std::uint64_t id)
    : clients_(clients),
      id_(id),
      protocol_(*this, kMaxClientMessage, [this](std::string_view text) { on_message(text); }) {}

WsSubscriber::~WsSubscriber() = default;

bool WsSubscriber::accept(http::Exchange& exchange, std::string_view accept_key) {
  std::string headers = "Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ";
  headers += accept_key;
  headers += "\r\n";
  connection_ = exchange.upgrade(headers, *this);
  if (!connection_) return false;
  // A client may send its first messages right behind the handshake.
  if (evbuffer_get_length(connection_->input()) > 0) on_readable();
  return connection_->open();
}

bool WsSubscriber::push(const LiveUpdate& update) {
  if (!connection_->open()) return false;
  protocol_.send_frame(update.ws_frame);
  return true;
}

bool WsSubscriber::push_record(std::string_view record) {
  if (!connection_->open()) return false;
  protocol_.send_text(record);
  return true;
}

bool WsSubscriber::keep_alive() {
  if (!connection_->open()) return false;
  // Silent since the last ping (not even its pong): the peer is gone
  // without a word, or does not read.
  if (!protocol_.take_activity() && pinged_) return false;
  pinged_ = true;
  protocol_.ping();
  return true;
}

std::size_t WsSubscriber::buffered() const {
  return connection_->open() ? evbuffer_get_length(connection_->output()) : 0;
}

void WsSubscriber::end() {
  if (!connection_->open()) return;
  protocol_.close(kGoingAway, "server stopping");
  close_when_done();
}

void WsSubscriber::on_readable() {
  if (!protocol_.receive() && connection_->open()) {
    connection_->close();
    return;
  }
  close_when_done();
}

void WsSubscriber::on_flushed() { close_when_done(); }

void WsSubscriber::on_gone() { clients_.remove_later(id_); }

void WsSubscriber::close_when_done() {
  if (!connection_->open() || !protocol_.finished()) return;
  if (evbuffer_get_length(connection_->output()) == 0) connection_->close();
  // Else on_flushed() comes back here once the close frame left.
}

std::size_t WsSubscriber::read(std::uint8_t* buffer, std::size_t size) {
  if (!connection_->open()) return 0;
  const int got = evbuffer_remove(connection_->input(), buffer, size);
  return got > 0 ? static_cast<std::size_t>(got) : 0;
}

void WsSubscriber::write(const std::uint8_t* data, std::size_t size) {
  // A TLS connection can fail inside a write and be gone by the next one.
  if (connection_->open()) evbuffer_add(connection_->output(), data, size);
}

void WsSubscriber::on_message(std::string_view text) {
  auto parsed = parse_client_message(text);
  std::string error;
  if (const auto* message = std::get_if<ClientMessage>(&parsed)) {
    if (message->action == ClientMessage::Action::kUnsubscribe) {
      clients_.unfollow(id_, message->channel);
      return;
    }
    if (clients_.follow(id_, message->channel)) return;
    error = "too many subscriptions on one connection";
  } else {
    error = std::get<std::string>(std::move(parsed));
  }
  protocol_.send_text("{\"error\":" + core::json_quote(error) + "}");
}

}  // namespace gpsrelay::live
