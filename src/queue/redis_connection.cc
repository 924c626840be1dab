// Reconnecting hiredis async connection (see redis_connection.h).
#include "queue/redis_connection.h"

#include <hiredis/adapters/libevent.h>
#include <hiredis/hiredis.h>

#include <algorithm>

#include "core/callback_guard.h"
#include "core/log.h"

namespace gpsrelay::queue {

RedisConnection::RedisConnection(event_base* base, Options options, StateCallback on_state)
    : base_(base),
      options_(std::move(options)),
      on_state_(std::move(on_state)),
      backoff_(options_.min_backoff),
      reconnect_timer_(base, [this] { connect(); }),
      connect_timer_(base,
                     [this] {
                       if (!up_) reset("connect timeout");
                     }),
      primary_timer_(base, [this] { check_primary(); }) {}

RedisConnection::~RedisConnection() { close(); }

void RedisConnection::start() {
  if (options_.primary) primary_timer_.start_periodic(options_.primary_poll);
  connect();
}

void RedisConnection::close() {
  closed_ = true;
  reconnect_timer_.stop();
  connect_timer_.stop();
  primary_timer_.stop();
  free_context();
  set_up(false);
}

void RedisConnection::reset(const char* reason) {
  if (closed_) return;
  core::log_warning("dropping Redis connection", {{"REASON", reason}});
  free_context();
  handle_lost(reason);
}

void RedisConnection::free_context() {
  if (context_ == nullptr) return;
  redisAsyncContext* context = context_;
  context_ = nullptr;  // on_disconnect sees a foreign context and leaves us alone
  redisAsyncFree(context);
}

void RedisConnection::check_primary() {
  if (closed_ || options_.primary->generation() == primary_generation_) return;
  // A failover: whatever this connection has is now the old primary (dead,
  // or a replica refusing writes). Replies still owed come back null, so
  // their requests are answered 503 and retried by their clients.
  free_context();
  set_up(false);
  connect_timer_.stop();
  reconnect_timer_.stop();
  backoff_ = options_.min_backoff;
  connect();
}

void RedisConnection::connect() {
  if (closed_ || context_ != nullptr) return;
  core::Endpoint address = options_.address;
  if (options_.primary) {
    core::RedisPrimary::Snapshot primary = options_.primary->current();
    primary_generation_ = primary.generation;
    if (!primary.address) {
      handle_lost("no sentinel has named the primary yet");
      return;
    }
    address = std::move(*primary.address);
  }
  redisAsyncContext* context = address.unix_path.empty()
                                   ? redisAsyncConnect(address.host.c_str(), address.port)
                                   : redisAsyncConnectUnix(address.unix_path.c_str());
  if (context == nullptr) {
    handle_lost("out of memory creating a Redis context");
    return;
  }
  if (context->err != 0) {
    const std::string error = context->errstr;
    redisAsyncFree(context);
    handle_lost(error);
    return;
  }
  context->data = this;
  redisLibeventAttach(context, base_);
  redisAsyncSetConnectCallback(context, &RedisConnection::on_connect);
  redisAsyncSetDisconnectCallback(context, &RedisConnection::on_disconnect);
  context_ = context;
  connect_timer_.start_once(options_.connect_timeout);
}

// hiredis' callbacks run their work through core::guarded: an exception
// must not unwind through hiredis. A connect or handshake abandoned that way
// is cut off by connect_timer_, and the next attempt starts over.
void RedisConnection::on_connect(const redisAsyncContext* context, int status) {
  auto* self = static_cast<RedisConnection*>(context->data);
  core::guarded("Redis connect", [&] { self->handle_connect(context, status); });
}

void RedisConnection::handle_connect(const redisAsyncContext* context, int status) {
  if (context_ != context) return;
  if (status != REDIS_OK) {
    // hiredis frees the context after this callback returns.
    context_ = nullptr;
    handle_lost(context->errstr);
    return;
  }
  // AUTH, SELECT and ROLE are pipelined; the connection counts as up only
  // when every handshake reply is positive.
  handshake_replies_pending_ = 0;
  if (!options_.password.empty()) send_handshake({"AUTH", options_.password});
  if (options_.db) send_handshake({"SELECT", std::to_string(*options_.db)});
  // The sentinels' word can be stale (a failover under way, a restarted old
  // primary not yet demoted): writes must only ever go to a real primary.
  if (options_.primary) send_handshake({"ROLE"});
  if (handshake_replies_pending_ == 0) handshake_done();
}

void RedisConnection::send_handshake(std::initializer_list<std::string_view> args) {
  // up_ is still false, so send() would refuse: the handshake goes first.
  const std::span<const std::string_view> command(args.begin(), args.size());
  if (send_raw(&RedisConnection::on_handshake_reply, this, command)) ++handshake_replies_pending_;
}

void RedisConnection::on_handshake_reply(redisAsyncContext* context, void* reply, void* privdata) {
  auto* self = static_cast<RedisConnection*>(privdata);
  core::guarded("Redis handshake reply", [&] {
    self->handle_handshake_reply(context, static_cast<const redisReply*>(reply));
  });
}

void RedisConnection::handle_handshake_reply(const redisAsyncContext* context,
                                             const redisReply* r) {
  if (context_ != context) return;
  if (r == nullptr) return;  // the connection is going away; on_disconnect follows
  if (r->type == REDIS_REPLY_ERROR) {
    const std::string error(r->str, r->len);
    core::log_error("Redis handshake failed", {{"ERROR", error}});
    reset("handshake failed");
    return;
  }
  // Only ROLE answers an array; its first element names the role.
  if (r->type == REDIS_REPLY_ARRAY &&
      (r->elements == 0 || r->element[0]->type != REDIS_REPLY_STRING ||
       std::string_view(r->element[0]->str, r->element[0]->len) != "master")) {
    reset("the server the sentinels named is not the primary (yet)");
    return;
  }
  if (--handshake_replies_pending_ > 0) return;
  handshake_done();
}

void RedisConnection::handshake_done() {
  connect_timer_.stop();
  backoff_ = options_.min_backoff;
  if (was_up_before_) ++reconnects_;
  was_up_before_ = true;
  set_up(true);
}

void RedisConnection::on_disconnect(const redisAsyncContext* context, int status) {
  auto* self = static_cast<RedisConnection*>(context->data);
  if (self->context_ != context) return;  // we freed it ourselves
  self->context_ = nullptr;               // hiredis frees it after this returns
  core::guarded("Redis disconnect", [&] {
    self->handle_lost(status == REDIS_OK ? "connection closed" : context->errstr);
  });
}

void RedisConnection::handle_lost(const std::string& reason) {
  connect_timer_.stop();
  const bool was_up = up_;
  set_up(false);
  if (closed_) return;
  if (was_up || reason != last_error_) {
    core::log_warning("Redis unavailable; reconnecting",
                      {{"ERROR", reason}, {"BACKOFF_MS", std::to_string(backoff_.count())}});
  }
  last_error_ = reason;
  schedule_reconnect();
}

void RedisConnection::schedule_reconnect() {
  reconnect_timer_.start_once(backoff_);
  backoff_ = std::min(backoff_ * 2, options_.max_backoff);
}

void RedisConnection::set_up(bool up) {
  if (up == up_) return;
  up_ = up;
  if (on_state_) on_state_(up);
}

bool RedisConnection::send(redisCallbackFn* callback, void* privdata,
                           std::span<const std::string_view> args) {
  if (!up_) return false;
  return send_raw(callback, privdata, args);
}

bool RedisConnection::send_raw(redisCallbackFn* callback, void* privdata,
                               std::span<const std::string_view> args) {
  if (context_ == nullptr) return false;
  argv_.clear();
  argv_lengths_.clear();
  for (const std::string_view arg : args) {
    argv_.push_back(arg.data());
    argv_lengths_.push_back(arg.size());
  }
  // hiredis copies the arguments into its output buffer before returning.
  return redisAsyncCommandArgv(context_, callback, privdata, static_cast<int>(argv_.size()),
                               argv_.data(), argv_lengths_.data()) == REDIS_OK;
}

}  // namespace gpsrelay::queue
