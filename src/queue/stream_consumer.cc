// Consumer-group reads, reclaims and acknowledgements (see stream_consumer.h).
#include "queue/stream_consumer.h"

#include <hiredis/hiredis.h>

#include <algorithm>
#include <charconv>
#include <cstring>
#include <span>

#include "core/callback_guard.h"
#include "core/log.h"
#include "queue/stream_schema.h"

namespace gpsrelay::queue {
namespace {

constexpr std::chrono::milliseconds kRetryDelay{1000};

// Acknowledge and delete, atomically (Redis runs a script with nothing
// interleaved, so whichever group acknowledges an id last sees every other
// group's acknowledgement and deletes it).
// KEYS[1]: the stream. ARGV[1]: our group; ARGV[2]: n, the number of other
// enabled groups; ARGV[3 .. 2+n]: their names; the rest: the ids we are done
// with. Answers {newly acknowledged, deleted}.
// An id is acknowledged in group G when G has delivered it (id <= G's
// last-delivered-id) and it is not in G's pending list. XINFO GROUPS once
// per call gives every group's last-delivered-id and pending count; a group
// with nothing pending needs no more, and an id outside the [min, max] of
// G's pending list (XPENDING summary, once per group and call) needs no
// range lookup. Ids are compared as numbers written in decimal: Redis writes
// them without leading zeros, so a shorter part is a smaller one (Lua
// numbers are doubles and would round 64-bit parts). A listed group that does
// not exist holds nothing back (an operator deleted it); XACK has already
// checked every id's syntax by the time they are compared.
constexpr std::string_view kFinishScript = R"lua(
local stream, own, last_group = KEYS[1], ARGV[1], 2 + tonumber(ARGV[2])
local ids = {}
for i = last_group + 1, #ARGV do ids[#ids + 1] = ARGV[i] end
local acked = redis.call('XACK', stream, own, unpack(ids))
if redis.call('EXISTS', stream) == 0 then return {acked, 0} end
local function compare_part(a, b)
  if #a ~= #b then return #a < #b and -1 or 1 end
  if a == b then return 0 end
  return a < b and -1 or 1
end
local function compare_id(a, b)
  local a_ms, a_seq = string.match(a, '^(%d+)-?(%d*)$')
  local b_ms, b_seq = string.match(b, '^(%d+)-?(%d*)$')
  local c = compare_part(a_ms, b_ms)
  if c ~= 0 then return c end
  return compare_part(a_seq == '' and '0' or a_seq, b_seq == '' and '0' or b_seq)
end
local wanted = {}
for i = 3, last_group do wanted[ARGV[i]] = true end
wanted[own] = nil
local others = {}
for _, fields in ipairs(redis.call('XINFO', 'GROUPS', stream)) do
  local info = {}
  for i = 1, #fields, 2 do info[fields[i]] = fields[i + 1] end
  if wanted[info['name']] then
    others[#others + 1] = {name = info['name'], last = info['last-delivered-id'],
                           pending = info['pending']}
  end
end
local function acknowledged(group, id)
  if compare_id(id, group.last) > 0 then return false end
  if group.pending == 0 then return true end
  if group.min == nil then
    local summary = redis.call('XPENDING', stream, group.name)
    group.min, group.max = summary[2], summary[3]
  end
  if compare_id(id, group.min) < 0 or compare_id(id, group.max) > 0 then return true end
  return #redis.call('XPENDING', stream, group.name, id, id, 1) == 0
end
local done = {}
for _, id in ipairs(ids) do
  local everyone = true
  for _, group in ipairs(others) do
    if not acknowledged(group, id) then
      everyone = false
      break
    end
  end
  if everyone then done[#done + 1] = id end
end
local deleted = 0
if #done > 0 then deleted = redis.call('XDEL', stream, unpack(done)) end
return {acked, deleted}
)lua";

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
      renew_timer_(base, [this] { renew(); }),
      stats_timer_(base, [this] { sample_group(); }),
      flush_trigger_(base, [this] { flush_finished(); }) {
  for (const std::string& name : options_.all_groups) {
    if (name != options_.group &&
        std::find(other_groups_.begin(), other_groups_.end(), name) == other_groups_.end()) {
      other_groups_.push_back(name);
    }
  }
  other_group_count_ = std::to_string(other_groups_.size());
}

StreamConsumer::~StreamConsumer() {
  retry_timer_.stop();
  claim_timer_.stop();
  renew_timer_.stop();
  stats_timer_.stop();
  reader_.close();
  writer_.close();
}

void StreamConsumer::start() {
  reader_.start();
  writer_.start();
  // Check for abandoned entries a few times per claim_idle, at most once a second.
  claim_timer_.start_periodic(std::max(options_.claim_idle / 4, std::chrono::milliseconds(1000)));
  // Well inside claim_idle, so a held entry's idle time never reaches it.
  renew_timer_.start_periodic(std::max(options_.claim_idle / 3, std::chrono::milliseconds(100)));
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
  script_sha_.clear();  // a restarted Redis has lost its script cache
  if (!up) return;
  // The forwarder may start before any report created the group. The other
  // enabled groups too: the script ignores a group that does not exist, so
  // creating them here, ahead of our first script call on this connection,
  // keeps an entry from being deleted before a group that is enabled but
  // not yet created (the first start with [locations] enabled) has seen it.
  send_create_group(writer_, &StreamConsumer::on_group_reply, this, options_.stream,
                    options_.group);
  for (const std::string& group : other_groups_) {
    send_create_group(writer_, &StreamConsumer::on_group_reply, this, options_.stream, group);
  }
  load_script();
}

void StreamConsumer::load_script() {
  writer_.send(&StreamConsumer::on_script_reply, this, {"SCRIPT", "LOAD", kFinishScript});
}

void StreamConsumer::on_script_reply(redisAsyncContext*, void* reply, void* privdata) {
  auto* self = static_cast<StreamConsumer*>(privdata);
  core::guarded("SCRIPT LOAD reply", [&] {
    const auto* r = static_cast<const redisReply*>(reply);
    if (r == nullptr) return;  // connection lost; the next connect loads it again
    if (r->type != REDIS_REPLY_STRING) {
      // Not fatal: acknowledgements keep going out with EVAL, which needs
      // no cached script, only costs the script's text on every call.
      core::log_warning("cannot load the acknowledgement script; sending it with every call",
                        {{"ERROR", r->type == REDIS_REPLY_ERROR ? std::string_view(r->str, r->len)
                                                                : "unexpected reply"}});
      return;
    }
    self->script_sha_.assign(r->str, r->len);
  });
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
      } else if (name == kSourceField) {
        out.source = value;
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

void StreamConsumer::renew() {
  // KEYS[1]: the stream; ARGV: group, consumer, ids. Only entries still
  // pending with us are renewed: one another instance took over (we were
  // stalled past claim_idle) stays with it.
  static constexpr std::string_view kRenewScript = R"lua(
local kept = 0
for i = 3, #ARGV do
  local p = redis.call('XPENDING', KEYS[1], ARGV[1], ARGV[i], ARGV[i], 1)
  if p[1] and p[1][2] == ARGV[2] then
    redis.call('XCLAIM', KEYS[1], ARGV[1], ARGV[2], 0, ARGV[i], 'JUSTID')
    kept = kept + 1
  end
end
return {kept, #ARGV - 2}
)lua";
  constexpr std::size_t kMaxIds = 1000;
  if (in_flight_.empty() || renewals_in_flight_ > 0 || !writer_.up()) return;
  std::vector<std::string_view> args{"EVAL",          kRenewScript,   "1",
                                     options_.stream, options_.group, options_.consumer};
  const auto send = [&] {
    if (writer_.send(&StreamConsumer::on_renew_reply, this, std::span(args))) {
      ++renewals_in_flight_;
    }
    args.resize(6);
  };
  for (const std::string& id : in_flight_) {
    args.push_back(id);
    if (args.size() - 6 == kMaxIds) send();
  }
  if (args.size() > 6) send();
}

void StreamConsumer::on_renew_reply(redisAsyncContext*, void* reply, void* privdata) {
  auto* self = static_cast<StreamConsumer*>(privdata);
  const auto* r = static_cast<const redisReply*>(reply);
  core::guarded("renewal reply", [&] {
    --self->renewals_in_flight_;
    if (r == nullptr || r->type != REDIS_REPLY_ARRAY || r->elements != 2) return;
    const long long kept = r->element[0]->integer;
    const long long asked = r->element[1]->integer;
    // Finished meanwhile (acknowledged between the send and the script) is
    // not "taken"; only entries gone to another consumer are worth a word.
    if (kept < asked) {
      self->taken_log_.log(
          core::LogLevel::kDebug,
          "held stream entries were no longer ours to renew (finished, or "
          "taken over by another instance after a stall)",
          {{"GROUP", self->options_.group}, {"COUNT", std::to_string(asked - kept)}});
    }
  });
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
  constexpr std::size_t kMaxIdsPerCall = 1000;
  // If Redis went away since finish(), the entries simply stay pending.
  for (std::size_t first = 0; first < finished_.size() && writer_.up(); first += kMaxIdsPerCall) {
    const auto begin = finished_.begin() + static_cast<std::ptrdiff_t>(first);
    const std::size_t count = std::min(kMaxIdsPerCall, finished_.size() - first);
    std::vector<std::string> ids(
        std::make_move_iterator(begin),
        std::make_move_iterator(begin + static_cast<std::ptrdiff_t>(count)));
    // A send refused here means the connection just dropped: the entries stay
    // pending and are read again from our own pending list after reconnect.
    if (!send_finish(std::move(ids))) break;
  }
  finished_.clear();
}

bool StreamConsumer::send_finish(std::vector<std::string> ids) {
  // EVALSHA sends 40 bytes where EVAL would send the whole script (and make
  // Redis hash it) with every call, and most calls carry a few ids.
  const bool cached = !script_sha_.empty();
  // Queued before the send, so the reply always finds its ids.
  const std::vector<std::string>& queued = finishing_.emplace_back(std::move(ids));
  std::vector<std::string_view> args = {cached ? "EVALSHA" : "EVAL",
                                        cached ? std::string_view(script_sha_) : kFinishScript,
                                        "1",
                                        options_.stream,
                                        options_.group,
                                        other_group_count_};
  args.reserve(args.size() + other_groups_.size() + queued.size());
  args.insert(args.end(), other_groups_.begin(), other_groups_.end());
  args.insert(args.end(), queued.begin(), queued.end());
  if (writer_.send(&StreamConsumer::on_finish_reply, this, args)) return true;
  finishing_.pop_back();  // refused: no callback will come for it
  return false;
}

void StreamConsumer::on_finish_reply(redisAsyncContext*, void* reply, void* privdata) {
  core::guarded("acknowledgement script reply", [&] {
    static_cast<StreamConsumer*>(privdata)->handle_finish_reply(
        static_cast<const redisReply*>(reply));
  });
}

void StreamConsumer::handle_finish_reply(const redisReply* r) {
  // Every sent call gets exactly one callback, in order (RedisConnection::send).
  if (finishing_.empty()) {
    core::log_error("acknowledgement reply without a call; ignored");
    return;
  }
  std::vector<std::string> ids = std::move(finishing_.front());
  finishing_.pop_front();
  // Connection lost: whether the call ran or not, its entries are safe
  // (still pending for us, read again after the reconnect, or acknowledged).
  if (r == nullptr) return;
  if (r->type == REDIS_REPLY_ERROR && std::string_view(r->str, r->len).starts_with("NOSCRIPT")) {
    // SCRIPT FLUSH, or a failover to a server without our script: send these
    // ids again with EVAL (after this loop iteration, with any others) and
    // load the script for the calls after that. Nothing ran, nothing is lost.
    if (!script_sha_.empty()) {
      script_sha_.clear();
      load_script();
    }
    for (std::string& id : ids) finish(id);
    return;
  }
  if (r->type == REDIS_REPLY_ARRAY && r->elements == 2 &&
      r->element[0]->type == REDIS_REPLY_INTEGER && r->element[1]->type == REDIS_REPLY_INTEGER) {
    entries_acknowledged_ += static_cast<std::uint64_t>(r->element[0]->integer);
    entries_deleted_ += static_cast<std::uint64_t>(r->element[1]->integer);
    return;
  }
  // A script is not rolled back: an error before or in the XACK (READONLY
  // after a failover, WRONGTYPE) leaves the entries pending, to come back
  // through a reclaim or a restart (delivered twice, never lost); an error
  // after it leaves them acknowledged but in the stream (the backlog
  // overcounts). Neither removes an entry early. Each refused batch would
  // say the same: throttled.
  rejected_log_.log(core::LogLevel::kWarning, "Redis rejected the acknowledgement script",
                    {{"ERROR", r->type == REDIS_REPLY_ERROR ? std::string_view(r->str, r->len)
                                                            : "unexpected reply"},
                     {"STREAM", options_.stream},
                     {"IDS", std::to_string(ids.size())}});
}

void StreamConsumer::on_group_reply(redisAsyncContext*, void* reply, void* privdata) {
  auto* self = static_cast<StreamConsumer*>(privdata);
  core::guarded("XGROUP CREATE reply", [&] {
    const auto* r = static_cast<const redisReply*>(reply);
    if (r != nullptr && !group_created(*r)) {
      // Not fatal here: ingest accepts no report until every enabled group
      // exists (report_queue.h), and our own reads say so if ours is missing.
      // Every reconnect would say the same (e.g. OOM): throttled.
      self->rejected_log_.log(
          core::LogLevel::kWarning, "Redis refused to create a consumer group",
          {{"ERROR", std::string_view(r->str, r->len)}, {"STREAM", self->options_.stream}});
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
