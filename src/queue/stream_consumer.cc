// Consumer-group reads, reclaims and acknowledgements (see stream_consumer.h).
#include "queue/stream_consumer.h"

#include <hiredis/hiredis.h>

#include <algorithm>
#include <charconv>
#include <cstring>

#include "core/callback_guard.h"
#include "core/log.h"
#include "queue/stream_schema.h"

namespace gpsrelay::queue {
namespace {

constexpr std::chrono::milliseconds kRetryDelay{1000};

std::string_view text_of(const redisReply* r) {
  return r != nullptr && (r->type == REDIS_REPLY_STRING || r->type == REDIS_REPLY_STATUS)
             ? std::string_view(r->str, r->len)
             : std::string_view();
}

}  // namespace

StreamConsumer::StreamConsumer(event_base* base, Options options, StreamConsumerListener& listener)
    : options_(std::move(options)),
      listener_(listener),
      reader_(base, options_.connection, [this](bool up) { on_reader_state(up); }),
      writer_(base, options_.connection, [this](bool up) { on_writer_state(up); }),
      retry_timer_(base, [this] { read(); }),
      claim_timer_(base, [this] { claim(); }),
      stats_timer_(base, [this] { sample_group(); }),
      flush_trigger_(base, [this] { flush_finished(); }) {}

StreamConsumer::~StreamConsumer() {
  retry_timer_.stop();
  claim_timer_.stop();
  stats_timer_.stop();
  reader_.close();
  writer_.close();
}

void StreamConsumer::start() {
  reader_.start();
  writer_.start();
  // Check for abandoned entries a few times per claim_idle, at most once a second.
  claim_timer_.start_periodic(std::max(options_.claim_idle / 4, std::chrono::milliseconds(1000)));
  stats_timer_.start_periodic(std::chrono::milliseconds(1000));
}

void StreamConsumer::wake() { read(); }

void StreamConsumer::on_reader_state(bool up) {
  read_in_flight_ = false;
  if (!up) return;
  // After a loss, entries whose acknowledgement failed are still pending
  // for us: read our own pending list again before new entries.
  phase_ = Phase::kOwnPending;
  pending_cursor_ = "0";
  read();
}

void StreamConsumer::on_writer_state(bool up) {
  claim_in_flight_ = false;
  if (!up) return;
  // The forwarder may start before any report created the group.
  send_create_group(writer_, &StreamConsumer::on_ack_reply, this, options_.stream, options_.group);
}

void StreamConsumer::read() {
  if (read_in_flight_ || !reader_.up()) return;
  const std::size_t slots = std::min(listener_.free_slots(), options_.max_batch);
  if (slots == 0) return;
  const std::string count = std::to_string(slots);
  if (phase_ == Phase::kOwnPending) {
    read_in_flight_ = reader_.send(&StreamConsumer::on_read_reply, this,
                                   {"XREADGROUP", "GROUP", options_.group, options_.consumer,
                                    "COUNT", count, "STREAMS", options_.stream, pending_cursor_});
    return;
  }
  const std::string block = std::to_string(options_.block.count());
  read_in_flight_ = reader_.send(&StreamConsumer::on_read_reply, this,
                                 {"XREADGROUP", "GROUP", options_.group, options_.consumer, "COUNT",
                                  count, "BLOCK", block, "STREAMS", options_.stream, ">"});
}

// Each reply callback is a boundary (hiredis is C). An exception there
// loses no entry: whatever was read but not handed out is pending for this
// consumer in Redis and comes back through our own pending list or
// XAUTOCLAIM; the forwarder's tick wakes reading again.
void StreamConsumer::on_read_reply(redisAsyncContext*, void* reply, void* privdata) {
  core::guarded("XREADGROUP reply", [&] {
    static_cast<StreamConsumer*>(privdata)->handle_read_reply(
        static_cast<const redisReply*>(reply));
  });
}

void StreamConsumer::handle_read_reply(const redisReply* r) {
  if (!read_in_flight_) return;  // a reply from before a reconnect
  read_in_flight_ = false;
  if (r == nullptr) return;  // connection lost; on_reader_state restarts reading
  if (r->type == REDIS_REPLY_ERROR) {
    core::log_warning("XREADGROUP failed; retrying",
                      {{"ERROR", std::string(r->str, r->len)}, {"STREAM", options_.stream}});
    retry_later();
    return;
  }
  std::size_t held = 0;
  // [[stream, [entries...]]], or nil when BLOCK timed out.
  if (r->type == REDIS_REPLY_ARRAY && r->elements == 1 &&
      r->element[0]->type == REDIS_REPLY_ARRAY && r->element[0]->elements == 2) {
    held = deliver(r->element[0]->element[1], false);
  }
  if (phase_ == Phase::kOwnPending && held == 0) {
    phase_ = Phase::kNew;
    core::log_debug("own pending entries done; reading new entries");
  }
  read();
}

std::size_t StreamConsumer::deliver(const redisReply* entries, bool reclaimed) {
  if (entries == nullptr || entries->type != REDIS_REPLY_ARRAY) return 0;
  for (std::size_t i = 0; i < entries->elements; ++i) {
    const redisReply* entry = entries->element[i];
    if (entry->type != REDIS_REPLY_ARRAY || entry->elements != 2) continue;
    StreamEntry out;
    out.id = std::string(text_of(entry->element[0]));
    if (phase_ == Phase::kOwnPending && !reclaimed) pending_cursor_ = out.id;
    if (out.id.empty() || in_flight_.count(out.id) != 0) continue;
    const redisReply* fields = entry->element[1];
    if (fields->type != REDIS_REPLY_ARRAY) {
      // Still pending but deleted from the stream: nothing left to send.
      finish(out.id);
      continue;
    }
    for (std::size_t f = 0; f + 1 < fields->elements; f += 2) {
      const std::string_view name = text_of(fields->element[f]);
      const std::string_view value = text_of(fields->element[f + 1]);
      if (name == kPayloadField) {
        out.payload = value;
      } else if (name == kRequestIdField) {
        out.request_id = value;
      } else if (name == kReceivedAtField) {
        // Another writer's malformed time is not worth losing the report
        // over: 0 says "unknown" downstream.
        if (std::from_chars(value.data(), value.data() + value.size(), out.received_at_ms).ec !=
            std::errc()) {
          out.received_at_ms = 0;
        }
      }
    }
    in_flight_.insert(out.id);
    ++(reclaimed ? entries_reclaimed_ : entries_read_);
    // One entry is the unit of work: if the listener throws, this entry is
    // no longer in flight (so a reclaim can hand it out again) and the
    // others in the reply are still handed out.
    std::string id = out.id;
    if (!core::guarded("stream entry", [&] { listener_.on_entry(std::move(out)); })) {
      in_flight_.erase(id);
    }
  }
  return entries->elements;
}

void StreamConsumer::claim() {
  if (claim_in_flight_ || !writer_.up()) return;
  const std::size_t slots = std::min(listener_.free_slots(), options_.max_batch);
  if (slots == 0) return;
  const std::string idle = std::to_string(options_.claim_idle.count());
  const std::string count = std::to_string(slots);
  claim_in_flight_ = writer_.send(&StreamConsumer::on_claim_reply, this,
                                  {"XAUTOCLAIM", options_.stream, options_.group, options_.consumer,
                                   idle, claim_cursor_, "COUNT", count});
}

void StreamConsumer::on_claim_reply(redisAsyncContext*, void* reply, void* privdata) {
  core::guarded("XAUTOCLAIM reply", [&] {
    static_cast<StreamConsumer*>(privdata)->handle_claim_reply(
        static_cast<const redisReply*>(reply));
  });
}

void StreamConsumer::handle_claim_reply(const redisReply* r) {
  claim_in_flight_ = false;
  if (r == nullptr) return;
  if (r->type == REDIS_REPLY_ERROR) {
    core::log_debug("XAUTOCLAIM failed", {{"ERROR", std::string(r->str, r->len)}});
    return;
  }
  // [next-cursor, [entries...], [deleted ids...]]
  if (r->type != REDIS_REPLY_ARRAY || r->elements < 2) return;
  claim_cursor_ = std::string(text_of(r->element[0]));
  if (claim_cursor_.empty()) claim_cursor_ = "0-0";
  const std::size_t before = entries_reclaimed_;
  deliver(r->element[1], true);
  if (entries_reclaimed_ > before) {
    core::log_info("reclaimed entries idle longer than forward.claim_idle",
                   {{"COUNT", std::to_string(entries_reclaimed_ - before)}});
  }
  // More to scan: continue at once rather than at the next tick.
  if (claim_cursor_ != "0-0") claim();
}

bool StreamConsumer::finish(const std::string& id) {
  in_flight_.erase(id);
  if (!writer_.up()) return false;
  finished_.push_back(id);
  if (finished_.size() == 1) flush_trigger_.trigger();
  return true;
}

void StreamConsumer::flush_finished() {
  constexpr std::size_t kMaxIdsPerCommand = 1000;
  // If Redis went away since finish(), the entries simply stay pending.
  for (std::size_t first = 0; first < finished_.size() && writer_.up();
       first += kMaxIdsPerCommand) {
    const std::size_t count = std::min(kMaxIdsPerCommand, finished_.size() - first);
    std::vector<std::string_view> args = {"XACK", options_.stream, options_.group};
    args.insert(args.end(), finished_.begin() + static_cast<std::ptrdiff_t>(first),
                finished_.begin() + static_cast<std::ptrdiff_t>(first + count));
    // Acknowledge first: a crash between the two leaves a delivered entry in
    // the stream (the backlog overcounts), never an undelivered one removed.
    // A send refused here means the connection just dropped: the entries stay
    // pending and are read again from our own pending list after reconnect.
    if (!writer_.send(&StreamConsumer::on_ack_reply, this, args)) break;
    args.erase(args.begin() + 2);  // XDEL stream id...
    args[0] = "XDEL";
    if (!writer_.send(&StreamConsumer::on_ack_reply, this, args)) break;
  }
  finished_.clear();
}

void StreamConsumer::on_ack_reply(redisAsyncContext*, void* reply, void* privdata) {
  auto* self = static_cast<StreamConsumer*>(privdata);
  core::guarded("stream command reply", [&] {
    const auto* r = static_cast<const redisReply*>(reply);
    if (r != nullptr && !group_created(*r)) {
      // Each refused XACK batch would say the same (e.g. OOM): throttled.
      self->rejected_log_.log(core::LogLevel::kWarning, "Redis rejected a stream command",
                              {{"ERROR", std::string_view(r->str, r->len)}});
    }
  });
}

void StreamConsumer::sample_group() {
  if (!writer_.up()) return;
  writer_.send(&StreamConsumer::on_group_info_reply, this, {"XINFO", "GROUPS", options_.stream});
}

void StreamConsumer::on_group_info_reply(redisAsyncContext*, void* reply, void* privdata) {
  core::guarded("XINFO GROUPS reply", [&] {
    static_cast<StreamConsumer*>(privdata)->handle_group_info_reply(
        static_cast<const redisReply*>(reply));
  });
}

void StreamConsumer::handle_group_info_reply(const redisReply* r) {
  if (r == nullptr || r->type != REDIS_REPLY_ARRAY) return;
  // One flat [name, value, ...] array per group.
  for (std::size_t g = 0; g < r->elements; ++g) {
    const redisReply* group = r->element[g];
    if (group->type != REDIS_REPLY_ARRAY) continue;
    std::int64_t pending = -1;
    std::int64_t lag = -1;
    bool ours = false;
    for (std::size_t i = 0; i + 1 < group->elements; i += 2) {
      const std::string_view key = text_of(group->element[i]);
      const redisReply* value = group->element[i + 1];
      if (key == "name") ours = text_of(value) == options_.group;
      // lag is nil when Redis cannot tell (e.g. after deletions it did
      // not track); keep -1 then.
      if (key == "pending" && value->type == REDIS_REPLY_INTEGER) pending = value->integer;
      if (key == "lag" && value->type == REDIS_REPLY_INTEGER) lag = value->integer;
    }
    if (ours) {
      group_pending_ = pending;
      group_lag_ = lag;
      return;
    }
  }
}

void StreamConsumer::retry_later() {
  if (!retry_timer_.pending()) retry_timer_.start_once(kRetryDelay);
}

}  // namespace gpsrelay::queue
