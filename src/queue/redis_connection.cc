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
      connect_timer_(base, [this] {
        if (!up_) reset("connect timeout");
      }) {}

RedisConnection::~RedisConnection() { close(); }

void RedisConnection::start() { connect(); }

void RedisConnection::close() {
  closed_ = true;
  reconnect_timer_.stop();
  connect_timer_.stop();
  if (context_ != nullptr) {
    redisAsyncContext* context = context_;
    context_ = nullptr;
    redisAsyncFree(context);
  }
  set_up(false);
}

void RedisConnection::reset(const char* reason) {
  if (closed_) return;
  core::log_warning("dropping Redis connection", {{"REASON", reason}});
  if (context_ != nullptr) {
    redisAsyncContext* context = context_;
    context_ = nullptr;  // on_disconnect sees a foreign context and leaves us alone
    redisAsyncFree(context);
  }
  handle_lost(reason);
}

void RedisConnection::connect() {
  if (closed_ || context_ != nullptr) return;
  const core::Endpoint& address = options_.address;
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
  // AUTH and SELECT are pipelined; the connection counts as up only when
  // every handshake reply is positive.
  handshake_replies_pending_ = 0;
  if (!options_.password.empty()) send_handshake({"AUTH", options_.password});
  send_handshake({"SELECT", std::to_string(options_.db)});
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
  if (--handshake_replies_pending_ > 0) return;
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
