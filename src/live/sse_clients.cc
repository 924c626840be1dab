// Server-Sent Events subscribers of one worker (see sse_clients.h).
#include "live/sse_clients.h"

#include <algorithm>
#include <utility>

namespace gpsrelay::live {
namespace {

std::int64_t unix_ms_now() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

}  // namespace

SseClients::SseClients(event_base* base, std::size_t worker, LiveHub& hub, LiveMetrics& metrics,
                       http::SharedBudget& clients)
    : worker_(worker),
      hub_(hub),
      metrics_(metrics),
      budget_(clients),
      mailbox_(base, [this](const std::vector<UpdatePtr>& updates) { deliver(updates); }),
      heartbeat_timer_(base, [this] { heartbeat(); }),
      remove_trigger_(base, [this] { remove_doomed(); }) {
  hub_.attach(worker_, mailbox_);
}

SseClients::~SseClients() { end_all(); }

void SseClients::end_all() {
  std::vector<std::uint64_t> ids;
  ids.reserve(clients_.size());
  for (const auto& [id, client] : clients_) ids.push_back(id);
  for (const std::uint64_t id : ids) remove(id);
}

void SseClients::start() { heartbeat_timer_.start_periodic(kHeartbeatInterval); }

std::uint64_t SseClients::add(http::Exchange& exchange, const std::string& channel) {
  if (!budget_.try_acquire(1)) {
    metrics_.clients_refused.fetch_add(1, std::memory_order_relaxed);
    exchange.add_header("Retry-After", "5");
    exchange.reply_error(503, "too many live clients (locations.live_max_clients)");
    return 0;
  }
  const std::uint64_t id = next_id_++;
  auto client = std::make_unique<Client>();
  client->channel = channel;
  // Removed on the next loop turn, never from inside the callback: a
  // connection can end while one of its own writes is under way.
  client->stream = exchange.start_stream("text/event-stream", [this, id] {
    doomed_.push_back(id);
    remove_trigger_.trigger();
  });
  if (!client->stream->open()) {
    budget_.release(1);
    return 0;
  }
  // Tells EventSource how long to wait before reconnecting.
  client->stream->send("retry: 2000\n\n");
  clients_.emplace(id, std::move(client));
  auto& followers = by_channel_[channel];
  followers.push_back(id);
  if (followers.size() == 1) hub_.follow(worker_, channel);
  metrics_.sse_clients.fetch_add(1, std::memory_order_relaxed);
  return id;
}

void SseClients::send_initial(std::uint64_t id, const std::string& frame) {
  const auto found = clients_.find(id);
  if (found == clients_.end() || found->second->updated) return;
  write(id, *found->second, frame);
  remove_doomed();
}

bool SseClients::write(std::uint64_t id, Client& client, std::string_view frame) {
  if (client.stream->buffered() > kMaxBufferedBytes) {
    // It does not read: drop it rather than buffer without bound.
    metrics_.slow_clients_dropped.fetch_add(1, std::memory_order_relaxed);
    doomed_.push_back(id);
    return false;
  }
  if (!client.stream->send(frame)) {
    doomed_.push_back(id);
    return false;
  }
  return true;
}

void SseClients::deliver(const std::vector<UpdatePtr>& updates) {
  for (const UpdatePtr& update : updates) {
    const auto followers = by_channel_.find(update->channel);
    if (followers == by_channel_.end()) continue;
    // A copy: a write can end a connection at once (a TLS write error),
    // and its close callback removes the client from these lists.
    const std::vector<std::uint64_t> ids = followers->second;
    std::uint64_t pushed = 0;
    for (const std::uint64_t id : ids) {
      const auto found = clients_.find(id);
      if (found == clients_.end()) continue;
      found->second->updated = true;
      if (write(id, *found->second, update->sse_frame)) ++pushed;
    }
    metrics_.messages_pushed.fetch_add(pushed, std::memory_order_relaxed);
    if (pushed > 0) {
      metrics_.fanout_latency.observe(
          std::chrono::milliseconds(std::max<std::int64_t>(0, unix_ms_now() - update->added_ms)));
    }
  }
  remove_doomed();
}

void SseClients::heartbeat() {
  std::vector<std::uint64_t> ids;
  ids.reserve(clients_.size());
  for (const auto& [id, client] : clients_) ids.push_back(id);
  for (const std::uint64_t id : ids) {
    const auto found = clients_.find(id);  // see deliver()
    if (found != clients_.end()) write(id, *found->second, ": keep-alive\n\n");
  }
  remove_doomed();
}

void SseClients::remove_doomed() {
  for (const std::uint64_t id : std::exchange(doomed_, {})) remove(id);
}

void SseClients::remove(std::uint64_t id) {
  const auto found = clients_.find(id);
  if (found == clients_.end()) return;
  const std::unique_ptr<Client> client = std::move(found->second);
  clients_.erase(found);
  auto followers = by_channel_.find(client->channel);
  if (followers != by_channel_.end()) {
    std::erase(followers->second, id);
    if (followers->second.empty()) {
      by_channel_.erase(followers);
      hub_.unfollow(worker_, client->channel);
    }
  }
  budget_.release(1);
  metrics_.sse_clients.fetch_sub(1, std::memory_order_relaxed);
  // `client` goes here: its stream ends the response if the client is there.
}

}  // namespace gpsrelay::live
