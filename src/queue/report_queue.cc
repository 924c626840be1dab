// Stream appends, backlog sampling and consumer-group setup (see report_queue.h).
#include "queue/report_queue.h"

#include <hiredis/hiredis.h>

#include <array>
#include <charconv>
#include <cstring>

#include "core/callback_guard.h"
#include "core/log.h"
#include "queue/stream_schema.h"

namespace gpsrelay::queue {

ReportQueue::ReportQueue(event_base* base, Options options, ReportQueueListener& listener)
    : options_(std::move(options)),
      listener_(listener),
      acks_(base, connection_, options_.min_replicas_acked, options_.replica_ack_timeout),
      connection_(base, options_.connection, [this](bool up) { on_connection_state(up); }),
      idempotency_ttl_ms_(std::to_string(options_.idempotency_ttl.count())),
      poll_timer_(base, [this] { poll(); }) {}

ReportQueue::~ReportQueue() {
  poll_timer_.stop();
  // Closing while this object is intact lets the null-reply callbacks of
  // outstanding appends reach the listener.
  connection_.close();
}

void ReportQueue::start() {
  connection_.start();
  poll_timer_.start_periodic(options_.length_poll_interval);
}

AppendStatus ReportQueue::append(const Report& report) {
  if (!ready_) return AppendStatus::kUnavailable;
  if (options_.max_queue_length > 0 && queue_length_ >= 0 &&
      static_cast<std::uint64_t>(queue_length_) >= options_.max_queue_length) {
    return AppendStatus::kQueueFull;
  }
  char received_at[24];
  const auto [end, ec] =
      std::to_chars(received_at, received_at + sizeof received_at, report.received_at_ms);
  (void)ec;  // 24 bytes always hold an int64
  const std::string_view received_at_text(received_at, static_cast<std::size_t>(end - received_at));
  // The fields, then (for the script) the key's lifetime.
  std::array<std::string_view, 16> args;
  std::size_t count = 0;
  const auto add = [&](std::string_view arg) { args[count++] = arg; };
  if (report.idempotency_key.empty()) {
    add("XADD");
    add(options_.stream);
    add("*");
  } else {
    key_scratch_ = options_.stream;
    key_scratch_ += ":idempotency:";
    key_scratch_ += report.idempotency_key;
    add("EVALSHA");
    add(script_sha_);
    add("2");
    add(options_.stream);
    add(key_scratch_);
  }
  add(kPayloadField);
  add(report.payload);
  add(kReceivedAtField);
  add(received_at_text);
  add(kRequestIdField);
  add(report.request_id);
  if (!report.source.empty()) {
    add(kSourceField);
    add(report.source);
  }
  if (!report.idempotency_key.empty()) add(idempotency_ttl_ms_);
  const bool sent = connection_.send(&ReportQueue::on_append_reply, this,
                                     std::span<const std::string_view>(args.data(), count));
  if (!sent) return AppendStatus::kUnavailable;
  sent_at_.push_back(std::chrono::steady_clock::now());
  acks_.note_write();
  return AppendStatus::kSent;
}

void ReportQueue::report_stored(std::string_view message_id, bool replayed) {
  if (!acks_.enabled()) {
    listener_.on_report_stored(message_id, replayed);
    return;
  }
  acks_.after_replicas([this, id = std::string(message_id), replayed](bool acked) {
    if (acked) {
      listener_.on_report_stored(id, replayed);
    } else {
      listener_.on_report_failed("too few Redis replicas confirmed the write in time");
    }
  });
}

void ReportQueue::report_failed(std::string_view reason) {
  // Queued behind the successes before it, when those wait for a WAIT: the
  // listener hears of every append in the order they were made.
  if (!acks_.enabled()) {
    listener_.on_report_failed(reason);
    return;
  }
  acks_.after_replicas(
      [this, reason = std::string(reason)](bool) { listener_.on_report_failed(reason); });
}

void ReportQueue::on_append_reply(redisAsyncContext*, void* reply, void* privdata) {
  auto* self = static_cast<ReportQueue*>(privdata);
  core::guarded("XADD reply",
                [&] { self->handle_append_reply(static_cast<const redisReply*>(reply)); });
}

void ReportQueue::handle_append_reply(const redisReply* r) {
  sent_at_.pop_front();
  if (r == nullptr) {
    report_failed("Redis connection lost");
    return;
  }
  // XADD answers the id; the idempotent script answers [id, replayed].
  const bool scripted = r->type == REDIS_REPLY_ARRAY && r->elements == 2 &&
                        r->element[0]->type == REDIS_REPLY_STRING &&
                        r->element[1]->type == REDIS_REPLY_INTEGER;
  if (r->type == REDIS_REPLY_STRING || scripted) {
    const redisReply* id = scripted ? r->element[0] : r;
    const bool replayed = scripted && r->element[1]->integer != 0;
    if (!replayed && queue_length_ >= 0) ++queue_length_;
    last_refusal_.reset();
    report_stored(std::string_view(id->str, id->len), replayed);
    return;
  }
  const std::string_view error = r->type == REDIS_REPLY_ERROR ? std::string_view(r->str, r->len)
                                                              : "unexpected reply to an append";
  handle_refusal(error);
  report_failed(error);
}

void ReportQueue::handle_refusal(std::string_view error) {
  const WriteError kind = classify_write_error(error);
  ++write_errors_[static_cast<std::size_t>(kind)];
  last_refusal_ = Refusal{kind, std::chrono::steady_clock::now()};
  // SCRIPT FLUSH, or a Redis that lost its script cache without us
  // noticing a reconnect: load it again for the next request.
  if (error.starts_with("NOSCRIPT")) load_script();
  // The primary became a replica under us (a failover; Sentinel normally
  // drops our connection itself): reconnect, which finds the new primary.
  // Not from here: this runs inside a hiredis reply callback.
  if (kind == WriteError::kReadOnly) reset_wanted_ = true;
  // One line per interval however many requests Redis refuses.
  refusal_log_.log(core::LogLevel::kError, "Redis refused an append",
                   {{"ERROR", error}, {"STREAM", options_.stream}});
}

void ReportQueue::poll() {
  if (reset_wanted_) {
    reset_wanted_ = false;
    connection_.reset("Redis answered READONLY: it is a replica now");
    return;
  }
  // A WAIT may rightly take replica_ack_timeout on top of the round trip.
  const auto overdue =
      options_.command_timeout + (options_.min_replicas_acked > 0 ? options_.replica_ack_timeout
                                                                  : std::chrono::milliseconds(0));
  if (!sent_at_.empty() && std::chrono::steady_clock::now() - sent_at_.front() > overdue) {
    connection_.reset("Redis reply overdue");
    return;
  }
  if (!ready_ || length_query_in_flight_) return;
  length_query_in_flight_ =
      connection_.send(&ReportQueue::on_length_reply, this, {"XLEN", options_.stream});
}

void ReportQueue::on_length_reply(redisAsyncContext*, void* reply, void* privdata) {
  auto* self = static_cast<ReportQueue*>(privdata);
  self->length_query_in_flight_ = false;
  const auto* r = static_cast<const redisReply*>(reply);
  if (r != nullptr && r->type == REDIS_REPLY_INTEGER) self->queue_length_ = r->integer;
}

void ReportQueue::on_connection_state(bool up) {
  if (!up) {
    set_ready(false);
    script_sha_.clear();
    return;
  }
  // Ready once every reply is in: each group exists and the script is loaded.
  // A refused send means the connection just dropped; the next connect
  // starts the setup again.
  setup_replies_pending_ = static_cast<int>(options_.groups.size()) + 1;
  for (const std::string& group : options_.groups) {
    send_create_group(connection_, &ReportQueue::on_group_reply, this, options_.stream, group);
  }
  load_script();
}

void ReportQueue::load_script() {
  // KEYS: the stream and the idempotency key's name. ARGV: the entry's
  // field names and values, then the key's lifetime in milliseconds. One
  // call, so a key and its entry are written together or not at all. A
  // replay rewrites the key as it is: a write of this connection after the
  // first report's entry, so the WAIT behind it (min_replicas_acked) only
  // answers once replicas have that entry too, whoever appended it.
  static constexpr std::string_view kIdempotentAppend = R"lua(
local id = redis.call('GET', KEYS[2])
if id then
  redis.call('SET', KEYS[2], id, 'KEEPTTL')
  return {id, 1}
end
id = redis.call('XADD', KEYS[1], '*', unpack(ARGV, 1, #ARGV - 1))
redis.call('SET', KEYS[2], id, 'PX', ARGV[#ARGV])
return {id, 0}
)lua";
  connection_.send(&ReportQueue::on_script_reply, this, {"SCRIPT", "LOAD", kIdempotentAppend});
}

void ReportQueue::on_script_reply(redisAsyncContext*, void* reply, void* privdata) {
  auto* self = static_cast<ReportQueue*>(privdata);
  const auto* r = static_cast<const redisReply*>(reply);
  core::guarded("SCRIPT LOAD reply", [&] {
    if (r == nullptr) return;  // connection lost; the next connect retries
    if (r->type != REDIS_REPLY_STRING) {
      core::log_error("cannot load the idempotent append script",
                      {{"ERROR", r->type == REDIS_REPLY_ERROR ? std::string_view(r->str, r->len)
                                                              : "unexpected reply"}});
      self->connection_.reset("script setup failed");
      return;
    }
    self->script_sha_.assign(r->str, r->len);
    self->setup_step_done();
  });
}

void ReportQueue::on_group_reply(redisAsyncContext*, void* reply, void* privdata) {
  auto* self = static_cast<ReportQueue*>(privdata);
  const auto* r = static_cast<const redisReply*>(reply);
  core::guarded("XGROUP CREATE reply", [&] {
    if (r == nullptr) return;  // connection lost; the next connect retries
    if (!group_created(*r)) {
      core::log_error(
          "cannot create the consumer group",
          {{"ERROR", std::string_view(r->str, r->len)}, {"STREAM", self->options_.stream}});
      self->connection_.reset("consumer group setup failed");
      return;
    }
    self->setup_step_done();
  });
}

void ReportQueue::setup_step_done() {
  // A reload after NOSCRIPT also lands here, with the queue ready already.
  if (setup_replies_pending_ == 0 || --setup_replies_pending_ > 0) return;
  set_ready(true);
  poll();
}

void ReportQueue::set_ready(bool ready) {
  if (ready == ready_) return;
  ready_ = ready;
  listener_.on_queue_ready_changed(ready);
}

}  // namespace gpsrelay::queue
