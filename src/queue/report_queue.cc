// Stream appends, backlog sampling and consumer-group setup (see report_queue.h).
#include "queue/report_queue.h"

#include <hiredis/hiredis.h>

#include <charconv>
#include <cstring>

#include "core/log.h"
#include "queue/stream_schema.h"

namespace gpsrelay::queue {

ReportQueue::ReportQueue(event_base* base, Options options, ReportQueueListener& listener)
    : options_(std::move(options)),
      listener_(listener),
      connection_(base, options_.connection, [this](bool up) { on_connection_state(up); }),
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
  if (!connection_.send(&ReportQueue::on_append_reply, this,
                        {"XADD", options_.stream, "*", kPayloadField, report.payload,
                         kReceivedAtField, received_at_text, kRequestIdField, report.request_id})) {
    return AppendStatus::kUnavailable;
  }
  sent_at_.push_back(std::chrono::steady_clock::now());
  return AppendStatus::kSent;
}

void ReportQueue::on_append_reply(redisAsyncContext*, void* reply, void* privdata) {
  auto* self = static_cast<ReportQueue*>(privdata);
  self->sent_at_.pop_front();
  const auto* r = static_cast<const redisReply*>(reply);
  if (r == nullptr) {
    self->listener_.on_report_failed("Redis connection lost");
  } else if (r->type == REDIS_REPLY_STRING) {
    if (self->queue_length_ >= 0) ++self->queue_length_;
    self->listener_.on_report_stored(std::string_view(r->str, r->len));
  } else {
    const std::string error =
        r->type == REDIS_REPLY_ERROR ? std::string(r->str, r->len) : "unexpected XADD reply";
    core::log_error("XADD failed", {{"ERROR", error}});
    self->listener_.on_report_failed(error);
  }
}

void ReportQueue::poll() {
  if (!sent_at_.empty() &&
      std::chrono::steady_clock::now() - sent_at_.front() > options_.reply_timeout) {
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
    return;
  }
  send_create_group(connection_, &ReportQueue::on_group_reply, this, options_.stream,
                    options_.group);
}

void ReportQueue::on_group_reply(redisAsyncContext*, void* reply, void* privdata) {
  auto* self = static_cast<ReportQueue*>(privdata);
  const auto* r = static_cast<const redisReply*>(reply);
  if (r == nullptr) return;  // connection lost; the next connect retries
  if (!group_created(*r)) {
    core::log_error("cannot create the consumer group",
                    {{"ERROR", std::string(r->str, r->len)}, {"STREAM", self->options_.stream}});
    self->connection_.reset("consumer group setup failed");
    return;
  }
  self->set_ready(true);
  self->poll();
}

void ReportQueue::set_ready(bool ready) {
  if (ready == ready_) return;
  ready_ = ready;
  listener_.on_queue_ready_changed(ready);
}

}  // namespace gpsrelay::queue
