// The daemon's Pub/Sub subscription (see live_hub.h).
#include "live/live_hub.h"

#include <hiredis/hiredis.h>

#include <string_view>

#include "core/callback_guard.h"
#include "core/log.h"
#include "core/thread.h"
#include "live/pubsub_message.h"
#include "live/ws_protocol.h"

namespace gpsrelay::live {
namespace {

constexpr std::chrono::milliseconds kHeartbeatInterval{100};

std::int64_t steady_ns_now() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

std::string_view text_of(const redisReply* r) {
  return r != nullptr && r->type == REDIS_REPLY_STRING ? std::string_view(r->str, r->len)
                                                       : std::string_view();
}

}  // namespace

LiveHub::LiveHub(const core::RedisConfig& redis, std::size_t workers, LiveMetrics& metrics)
    : metrics_(metrics),
      mailboxes_(workers, nullptr),
      base_(core::make_event_base()),
      connection_(base_.get(), queue::RedisConnection::Options::from(redis),
                  [this](bool up) { on_connection(up); }),
      changes_trigger_(base_.get(), [this] { apply_changes(); }),
      stop_trigger_(base_.get(), [this] { event_base_loopexit(base_.get(), nullptr); }),
      heartbeat_timer_(base_.get(), [this] { heartbeat_ns_.store(steady_ns_now()); }) {}

LiveHub::~LiveHub() {
  request_stop();
  join();
}

void LiveHub::attach(std::size_t worker, Mailbox& mailbox) { mailboxes_.at(worker) = &mailbox; }

void LiveHub::start() {
  heartbeat_ns_.store(steady_ns_now());
  thread_ = core::start_loop_thread("live", [this] {
    connection_.start();
    heartbeat_timer_.start_periodic(kHeartbeatInterval);
    event_base_dispatch(base_.get());
    // Subscription callbacks get their null replies while we still exist.
    connection_.close();
  });
}

void LiveHub::request_stop() { stop_trigger_.trigger(); }

void LiveHub::join() {
  if (thread_.joinable()) thread_.join();
}

std::chrono::steady_clock::time_point LiveHub::last_heartbeat() const {
  return std::chrono::steady_clock::time_point(std::chrono::nanoseconds(heartbeat_ns_.load()));
}

void LiveHub::follow(std::size_t worker, const std::string& channel) {
  {
    const std::lock_guard<std::mutex> lock(changes_mutex_);
    changes_.push_back({worker, channel, +1});
  }
  changes_trigger_.trigger();
}

void LiveHub::unfollow(std::size_t worker, const std::string& channel) {
  {
    const std::lock_guard<std::mutex> lock(changes_mutex_);
    changes_.push_back({worker, channel, -1});
  }
  changes_trigger_.trigger();
}

void LiveHub::apply_changes() {
  std::vector<Change> changes;
  {
    const std::lock_guard<std::mutex> lock(changes_mutex_);
    changes.swap(changes_);
  }
  const auto total = [](const std::vector<int>& counts) {
    int sum = 0;
    for (const int n : counts) sum += n;
    return sum;
  };
  // Whether each touched channel was followed before this batch: what
  // Redis is told is the difference between then and now, not each step
  // (a client that leaves and one that comes in one batch change nothing,
  // where UNSUBSCRIBE and SUBSCRIBE sent in the wrong order would lose it).
  std::unordered_map<std::string, bool> followed_before;
  for (const Change& change : changes) {
    auto it = followers_.try_emplace(change.channel, mailboxes_.size(), 0).first;
    followed_before.try_emplace(change.channel, total(it->second) > 0);
    it->second.at(change.worker) += change.delta;
  }
  std::vector<std::string> added;
  std::vector<std::string> removed;
  for (const auto& [channel, before] : followed_before) {
    const auto it = followers_.find(channel);
    const bool after = total(it->second) > 0;
    if (!after) followers_.erase(it);
    if (!before && after) added.push_back(channel);
    if (before && !after) removed.push_back(channel);
  }
  subscribe(added, "SUBSCRIBE");
  subscribe(removed, "UNSUBSCRIBE");
}

void LiveHub::on_connection(bool up) {
  metrics_.pubsub_up.store(up, std::memory_order_relaxed);
  if (!up) return;
  // A new connection has no subscriptions: take every followed channel
  // again, and first the anchor. hiredis 0.14 leaves subscribed mode when an
  // UNSUBSCRIBE answer counts 0 channels, even with a SUBSCRIBE sent after
  // it still unanswered; that answer then finds no callback and hiredis
  // aborts. A client that comes and goes at once (SUBSCRIBE, UNSUBSCRIBE,
  // SUBSCRIBE of one channel) does exactly that: with a channel nobody
  // publishes on subscribed for good, the count never reaches 0.
  std::vector<std::string> channels = {std::string(kAnchorChannel)};
  channels.reserve(followers_.size() + 1);
  for (const auto& [channel, counts] : followers_) channels.push_back(channel);
  subscribe(channels, "SUBSCRIBE");
}

void LiveHub::subscribe(const std::vector<std::string>& channels, const char* command) {
  if (channels.empty() || !connection_.up()) return;  // on_connection subscribes later
  std::vector<std::string_view> args = {command};
  args.insert(args.end(), channels.begin(), channels.end());
  // hiredis keeps the callback for each subscribed channel and calls it
  // for every message; a failed send means the connection just dropped.
  connection_.send(&LiveHub::on_message, this, args);
}

void LiveHub::on_message(redisAsyncContext*, void* reply, void* self) {
  core::guarded("Pub/Sub message", [&] {
    static_cast<LiveHub*>(self)->handle_message(static_cast<const redisReply*>(reply));
  });
}

void LiveHub::handle_message(const redisReply* r) {
  // ["message", channel, payload]; also ["subscribe", channel, n] and the
  // like, and null when the connection goes.
  if (r == nullptr || r->type != REDIS_REPLY_ARRAY || r->elements != 3 ||
      text_of(r->element[0]) != "message") {
    return;
  }
  const std::string_view channel = text_of(r->element[1]);
  const auto found = followers_.find(std::string(channel));
  metrics_.messages_received.fetch_add(1, std::memory_order_relaxed);
  if (found == followers_.end()) return;  // unsubscribed meanwhile
  const std::optional<PubSubMessage> message = parse_pubsub_message(text_of(r->element[2]));
  if (!message) return;  // not ours: another writer on the channel
  auto update = std::make_shared<const LiveUpdate>(
      LiveUpdate{std::string(channel), sse_event(message->entry_id, message->record),
                 encode_text_frame(message->record), stream_id_ms(message->entry_id)});
  for (std::size_t worker = 0; worker < found->second.size(); ++worker) {
    if (found->second[worker] > 0 && mailboxes_[worker] != nullptr) {
      mailboxes_[worker]->post(update);
    }
  }
}

}  // namespace gpsrelay::live
