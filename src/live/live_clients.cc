// The live subscribers of one worker (see live_clients.h).
#include "live/live_clients.h"

#include <algorithm>
#include <utility>

#include "live/sse_subscriber.h"
#include "live/ws_handshake.h"
#include "live/ws_subscriber.h"

namespace gpsrelay::live {
namespace {

std::int64_t unix_ms_now() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

}  // namespace

LiveClients::LiveClients(event_base* base, Options options, LiveHub& hub, LiveMetrics& metrics,
                         http::SharedBudget& budget, FetchCurrent fetch_current)
    : options_(std::move(options)),
      hub_(hub),
      metrics_(metrics),
      budget_(budget),
      fetch_current_(std::move(fetch_current)),
      mailbox_(base, [this](const std::vector<UpdatePtr>& updates) { deliver(updates); }),
      keep_alive_timer_(base, [this] { keep_alive(); }),
      remove_trigger_(base, [this] { remove_doomed(); }) {
  hub_.attach(options_.worker, mailbox_);
}

LiveClients::~LiveClients() {
  for (const std::uint64_t id : client_ids()) remove(id);
}

std::vector<std::uint64_t> LiveClients::client_ids() const {
  std::vector<std::uint64_t> ids;
  ids.reserve(clients_.size());
  for (const auto& [id, client] : clients_) ids.push_back(id);
  return ids;
}

void LiveClients::start() { keep_alive_timer_.start_periodic(kKeepAliveInterval); }

std::atomic<std::int64_t>& LiveClients::gauge(Transport transport) {
  return transport == Transport::kWebSocket ? metrics_.websocket_clients : metrics_.sse_clients;
}

bool LiveClients::reserve(http::Exchange& exchange) {
  if (budget_.try_acquire(1)) return true;
  metrics_.clients_refused.fetch_add(1, std::memory_order_relaxed);
  exchange.add_header("Retry-After", "5");
  exchange.reply_error(503, "too many live clients (locations.live_max_clients)");
  return false;
}

void LiveClients::accept_websocket(http::Exchange& exchange, const std::string& channel) {
  const HandshakeVerdict verdict = check_handshake(
      HandshakeRequest{exchange.header("Upgrade"), exchange.header("Connection"),
                       exchange.header("Sec-WebSocket-Version"),
                       exchange.header("Sec-WebSocket-Key"), exchange.header("Origin")},
      options_.allowed_origins);
  if (verdict.status != 101) {
    metrics_.handshakes_refused.fetch_add(1, std::memory_order_relaxed);
    if (verdict.status == 426) exchange.add_header("Sec-WebSocket-Version", "13");
    exchange.reply_error(verdict.status, verdict.error);
    return;
  }
  if (!reserve(exchange)) return;
  const std::uint64_t id = next_id_++;
  auto subscriber = std::make_unique<WsSubscriber>(*this, id);
  if (!subscriber->accept(exchange, verdict.accept)) {
    budget_.release(1);
    return;
  }
  add(id, std::move(subscriber), channel);
}

void LiveClients::accept_event_stream(http::Exchange& exchange, const std::string& channel) {
  if (!reserve(exchange)) return;
  const std::uint64_t id = next_id_++;
  // The stream's end is noticed inside libevent's callbacks, possibly in
  // one of our own writes: removed on the next loop turn.
  auto stream = exchange.start_stream("text/event-stream", [this, id] { remove_later(id); });
  if (!stream->open()) {
    budget_.release(1);
    return;
  }
  add(id, std::make_unique<SseSubscriber>(std::move(stream)), channel);
}

void LiveClients::add(std::uint64_t id, std::unique_ptr<Subscriber> subscriber,
                      const std::string& channel) {
  gauge(subscriber->transport()).fetch_add(1, std::memory_order_relaxed);
  clients_.emplace(id, Client{std::move(subscriber), {}});
  follow(id, channel);
}

bool LiveClients::follow(std::uint64_t id, const std::string& channel) {
  const auto found = clients_.find(id);
  if (found == clients_.end()) return true;
  std::vector<Followed>& channels = found->second.channels;
  if (std::any_of(channels.begin(), channels.end(),
                  [&](const Followed& f) { return f.channel == channel; })) {
    return true;
  }
  if (channels.size() >= kMaxChannelsPerClient) return false;
  channels.push_back(Followed{channel, false});
  auto& followers = by_channel_[channel];
  followers.push_back(id);
  if (followers.size() == 1) hub_.follow(options_.worker, channel);
  // The current state first (also for an event stream resuming with
  // Last-Event-ID: it resumes from the current state), then each update.
  fetch_current_(channel, [this, id, channel](const std::optional<std::string>& record) {
    send_current(id, channel, record);
  });
  return true;
}

void LiveClients::unfollow(std::uint64_t id, const std::string& channel) {
  const auto found = clients_.find(id);
  if (found == clients_.end()) return;
  std::vector<Followed>& channels = found->second.channels;
  const auto followed = std::find_if(channels.begin(), channels.end(),
                                     [&](const Followed& f) { return f.channel == channel; });
  if (followed == channels.end()) return;
  channels.erase(followed);
  leave(id, channel);
}

void LiveClients::leave(std::uint64_t id, const std::string& channel) {
  const auto followers = by_channel_.find(channel);
  if (followers == by_channel_.end()) return;
  std::erase(followers->second, id);
  if (followers->second.empty()) {
    by_channel_.erase(followers);
    hub_.unfollow(options_.worker, channel);
  }
}

void LiveClients::send_current(std::uint64_t id, const std::string& channel,
                               const std::optional<std::string>& record) {
  if (!record) return;
  const auto found = clients_.find(id);
  if (found == clients_.end()) return;
  const auto& channels = found->second.channels;
  const auto followed = std::find_if(channels.begin(), channels.end(),
                                     [&](const Followed& f) { return f.channel == channel; });
  if (followed == channels.end() || followed->updated) return;
  write(id, found->second, [&](Subscriber& s) { return s.push_record(*record); });
  remove_doomed();
}

template <class Write>
bool LiveClients::write(std::uint64_t id, Client& client, Write&& write) {
  if (client.subscriber->buffered() > kMaxBufferedBytes) {
    // It does not read: drop it rather than buffer without bound.
    metrics_.slow_clients_dropped.fetch_add(1, std::memory_order_relaxed);
    doomed_.push_back(id);
    return false;
  }
  if (!write(*client.subscriber)) {
    doomed_.push_back(id);
    return false;
  }
  return true;
}

void LiveClients::deliver(const std::vector<UpdatePtr>& updates) {
  for (const UpdatePtr& update : updates) {
    const auto followers = by_channel_.find(update->channel);
    if (followers == by_channel_.end()) continue;
    // A copy: a write can end a connection at once (a TLS write error),
    // and its removal changes these lists.
    const std::vector<std::uint64_t> ids = followers->second;
    std::uint64_t pushed = 0;
    for (const std::uint64_t id : ids) {
      const auto found = clients_.find(id);
      if (found == clients_.end()) continue;
      for (Followed& followed : found->second.channels) {
        if (followed.channel == update->channel) followed.updated = true;
      }
      if (write(id, found->second, [&](Subscriber& s) { return s.push(*update); })) ++pushed;
    }
    metrics_.messages_pushed.fetch_add(pushed, std::memory_order_relaxed);
    if (pushed > 0) {
      metrics_.fanout_latency.observe(
          std::chrono::milliseconds(std::max<std::int64_t>(0, unix_ms_now() - update->added_ms)));
    }
  }
  remove_doomed();
}

void LiveClients::keep_alive() {
  for (const std::uint64_t id : client_ids()) {
    const auto found = clients_.find(id);  // see deliver()
    if (found != clients_.end()) {
      write(id, found->second, [](Subscriber& s) { return s.keep_alive(); });
    }
  }
  remove_doomed();
}

void LiveClients::end_all() {
  for (const std::uint64_t id : client_ids()) {
    const auto found = clients_.find(id);
    if (found == clients_.end()) continue;
    // A WebSocket goes once its close frame is out; an event stream now.
    found->second.subscriber->end();
    if (found->second.subscriber->transport() == Transport::kEventStream) doomed_.push_back(id);
  }
  remove_doomed();
}

void LiveClients::remove_later(std::uint64_t id) {
  doomed_.push_back(id);
  remove_trigger_.trigger();
}

void LiveClients::remove_doomed() {
  for (const std::uint64_t id : std::exchange(doomed_, {})) remove(id);
}

void LiveClients::remove(std::uint64_t id) {
  const auto found = clients_.find(id);
  if (found == clients_.end()) return;
  Client client = std::move(found->second);
  clients_.erase(found);
  for (const Followed& followed : client.channels) leave(id, followed.channel);
  budget_.release(1);
  gauge(client.subscriber->transport()).fetch_sub(1, std::memory_order_relaxed);
  // `client` goes here: its subscriber ends the connection if it is there.
}

}  // namespace gpsrelay::live
