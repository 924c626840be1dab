// The locations consumer group's thread (see location_consumer.h).
#include "locations/location_consumer.h"

#include <hiredis/hiredis.h>

#include <algorithm>
#include <charconv>
#include <stdexcept>

#include "core/callback_guard.h"
#include "core/log.h"
#include "core/thread.h"
#include "locations/normalizer.h"
#include "queue/stream_groups.h"

namespace gpsrelay::locations {
namespace {

// Entries read and not yet through the state script; bounds memory and
// the size of one script call.
constexpr std::size_t kMaxEntriesInState = 4096;
constexpr std::size_t kMaxEntriesPerUpdate = 512;
constexpr std::chrono::milliseconds kSweepInterval{1000};
constexpr std::size_t kSweepBatch = 1000;
constexpr std::chrono::milliseconds kTickInterval{100};

std::int64_t unix_ms_now() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

std::int64_t steady_ns_now() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

// The milliseconds part of a stream id ("1732934400000-3"); 0 if malformed.
std::int64_t stream_id_ms(std::string_view id) {
  std::int64_t ms = 0;
  const auto [end, ec] = std::from_chars(id.data(), id.data() + id.size(), ms);
  return ec == std::errc() ? ms : 0;
}

queue::StreamConsumer::Options consumer_options(const core::Config& config,
                                                std::string consumer_name) {
  queue::StreamConsumer::Options options;
  options.connection = queue::RedisConnection::Options::from(config.redis);
  options.stream = config.redis.stream;
  options.group = config.locations.group;
  options.consumer = std::move(consumer_name);
  options.claim_idle = config.forward.claim_idle;
  options.max_batch = 256;
  options.all_groups = queue::enabled_groups(config);
  return options;
}

store::HistoryStore::Options history_options(const core::LocationsConfig& locations,
                                             const queue::Lease* upkeep_lease) {
  store::HistoryStore::Options options;
  options.upkeep_lease = upkeep_lease;
  options.batch_size = locations.batch_size;
  options.batch_interval = locations.batch_interval;
  options.retention = locations.history_retention;
  return options;
}

}  // namespace

Source source_from_field(std::string_view field) {
  for (std::size_t i = 0; i + 1 < kSourceNames.size(); ++i) {
    if (field == kSourceNames[i]) return static_cast<Source>(i);
  }
  return Source::kRaw;
}

LocationConsumer::LocationConsumer(const core::Config& config, std::string consumer_name,
                                   LocationMetrics& metrics, const queue::Lease* upkeep_lease)
    : keys_(config.redis.stream),
      ttl_ms_(config.locations.ttl.count()),
      metrics_(metrics),
      base_(core::make_event_base()),
      consumer_(base_.get(), consumer_options(config, std::move(consumer_name)), *this),
      state_(base_.get(), queue::RedisConnection::Options::from(config.redis),
             [this](bool up) { metrics_.redis_up.store(up, std::memory_order_relaxed); }),
      update_trigger_(base_.get(), [this] { send_updates(); }),
      sweep_timer_(base_.get(), [this] { sweep(); }),
      tick_timer_(base_.get(), [this] { tick(); }),
      stop_trigger_(base_.get(), [this] { event_base_loopexit(base_.get(), nullptr); }),
      committed_trigger_(base_.get(), [this] { acknowledge_committed(); }) {
  if (config.locations.history) {
    history_ = std::make_unique<store::HistoryStore>(
        config.mysql, history_options(config.locations, upkeep_lease), metrics_.history,
        [this](std::vector<std::string> ids) {
          {
            const std::lock_guard<std::mutex> lock(committed_mutex_);
            committed_ids_.insert(committed_ids_.end(), std::make_move_iterator(ids.begin()),
                                  std::make_move_iterator(ids.end()));
          }
          committed_trigger_.trigger();
        });
  }
}

LocationConsumer::~LocationConsumer() {
  request_stop();
  join();
  if (history_) {
    history_->request_stop();
    history_->join();
  }
}

void LocationConsumer::start() {
  heartbeat_ns_.store(steady_ns_now());
  if (history_) history_->start();
  thread_ = core::start_loop_thread("locations", [this] {
    state_.start();
    consumer_.start();
    sweep_timer_.start_periodic(kSweepInterval);
    tick_timer_.start_periodic(kTickInterval);
    event_base_dispatch(base_.get());
    // Replies still outstanding come back as null (lost) here, while the
    // loop's members are alive: those entries simply stay pending.
    state_.close();
  });
}

void LocationConsumer::request_stop() {
  stop_trigger_.trigger();
  if (history_) history_->request_stop();
}

void LocationConsumer::join() {
  if (thread_.joinable()) thread_.join();
}

std::chrono::steady_clock::time_point LocationConsumer::last_heartbeat() const {
  return std::chrono::steady_clock::time_point(std::chrono::nanoseconds(heartbeat_ns_.load()));
}

std::size_t LocationConsumer::free_slots() const {
  return kMaxEntriesInState - std::min(entries_in_state_, kMaxEntriesInState);
}

void LocationConsumer::on_entry(queue::StreamEntry entry) {
  const Source source = source_from_field(entry.source);
  const auto index = static_cast<std::size_t>(source);
  const std::int64_t added_ms = stream_id_ms(entry.id);
  // The receipt time stands in for a missing timestamp, so a redelivered
  // entry yields the very same records (and history rows) as the first time.
  ParseResult parsed = extract_report_location(
      entry.payload, entry.received_at_ms > 0 ? entry.received_at_ms : added_ms);
  if (!parsed.ok() || parsed.records.empty()) {
    core::bump(parsed.status == ParseStatus::kInvalid ? metrics_.unparsable[index]
                                                      : metrics_.not_locations[index]);
    if (parsed.status == ParseStatus::kInvalid) {
      core::log_debug("location entry not usable",
                      {{"MESSAGE_ID", entry.id}, {"ERROR", parsed.error}});
    }
    consumer_.finish(entry.id);  // nothing for this group to do
    return;
  }
  std::string record_json;
  if (source != Source::kRaw && parsed.records.size() == 1) record_json = std::move(entry.payload);
  waiting_.push_back(
      {std::move(entry.id), source, added_ms, std::move(parsed.records), std::move(record_json)});
  ++entries_in_state_;
  if (waiting_.size() == 1) update_trigger_.trigger();
}

void LocationConsumer::send_updates() {
  while (!waiting_.empty()) {
    if (!state_.up()) {
      // Leave them pending: after the reconnect the consumer reads its own
      // pending entries again.
      for (const Entry& entry : waiting_) consumer_.release(entry.id);
      entries_in_state_ -= waiting_.size();
      waiting_.clear();
      return;
    }
    const std::size_t count = std::min(waiting_.size(), kMaxEntriesPerUpdate);
    std::vector<Entry> batch(std::make_move_iterator(waiting_.begin()),
                             std::make_move_iterator(waiting_.begin() + static_cast<long>(count)));
    waiting_.erase(waiting_.begin(), waiting_.begin() + static_cast<long>(count));
    UpdateBatch update(keys_, ttl_ms_, unix_ms_now());
    for (const Entry& entry : batch) {
      if (!entry.record_json.empty()) {
        update.add(entry.records.front(), entry.id, entry.record_json);
        continue;
      }
      for (const LocationRecord& record : entry.records) update.add(record, entry.id);
    }
    std::vector<std::string_view> args = {"EVAL", kUpdateScript, "0"};
    args.insert(args.end(), update.args().begin(), update.args().end());
    if (state_.send(&LocationConsumer::on_update_reply, this, args)) {
      updating_.push_back(std::move(batch));
    } else {
      for (const Entry& entry : batch) consumer_.release(entry.id);
      entries_in_state_ -= batch.size();
    }
  }
}

void LocationConsumer::on_update_reply(redisAsyncContext*, void* reply, void* self) {
  core::guarded("location update reply", [&] {
    static_cast<LocationConsumer*>(self)->handle_update_reply(
        static_cast<const redisReply*>(reply));
  });
}

void LocationConsumer::handle_update_reply(const redisReply* r) {
  if (updating_.empty()) return;
  std::vector<Entry> batch = std::move(updating_.front());
  updating_.pop_front();
  entries_in_state_ -= batch.size();
  if (r == nullptr || r->type != REDIS_REPLY_ARRAY) {
    // Lost or refused: every entry of the batch stays pending and comes
    // back (own pending list after a reconnect, or a reclaim).
    if (r != nullptr) {
      core::bump(metrics_.state_errors);
      state_error_log_.log(
          core::LogLevel::kWarning, "Redis refused a location state update",
          {{"ERROR", r->type == REDIS_REPLY_ERROR ? std::string_view(r->str, r->len)
                                                  : std::string_view("unexpected reply")}});
    }
    for (const Entry& entry : batch) consumer_.release(entry.id);
    consumer_.wake();
    return;
  }
  const std::int64_t now_ms = unix_ms_now();
  std::size_t result = 0;
  for (Entry& entry : batch) {
    const auto index = static_cast<std::size_t>(entry.source);
    for (std::size_t i = 0; i < entry.records.size() && result < r->elements; ++i, ++result) {
      switch (static_cast<UpdateResult>(r->element[result]->integer)) {
        case UpdateResult::kApplied:
          core::bump(metrics_.processed[index]);
          break;
        case UpdateResult::kStale:
          core::bump(metrics_.stale[index]);
          break;
        case UpdateResult::kDuplicate:
          core::bump(metrics_.duplicates[index]);
          break;
      }
    }
    metrics_.processing_lag.observe(
        std::chrono::milliseconds(std::max<std::int64_t>(0, now_ms - entry.added_ms)));
    after_update(entry);
  }
  consumer_.wake();
}

void LocationConsumer::after_update(Entry& entry) {
  if (!history_) {
    consumer_.finish(entry.id);
    return;
  }
  std::string id = entry.id;
  try {
    if (!history_->submit({std::move(entry.id), std::move(entry.records)})) {
      // Pending in Redis until a reclaim brings it back; the state is done.
      core::bump(metrics_.history_deferred);
      consumer_.release(id);
    }
  } catch (const std::invalid_argument& e) {
    // MySQL would refuse these rows on every retry; the normaliser never
    // makes such records, so this is another writer's entry.
    core::log_warning("location entry cannot be kept in history",
                      {{"MESSAGE_ID", id}, {"ERROR", e.what()}});
    consumer_.finish(id);
  }
}

void LocationConsumer::acknowledge_committed() {
  std::vector<std::string> ids;
  {
    const std::lock_guard<std::mutex> lock(committed_mutex_);
    ids.swap(committed_ids_);
  }
  for (const std::string& id : ids) consumer_.finish(id);
}

void LocationConsumer::sweep() {
  if (sweep_in_flight_ || !state_.up()) return;
  const std::string now = std::to_string(unix_ms_now());
  const std::string batch = std::to_string(kSweepBatch);
  sweep_in_flight_ = state_.send(&LocationConsumer::on_sweep_reply, this,
                                 {"EVAL", kSweepScript, "0", keys_.prefix(), now, batch});
}

void LocationConsumer::on_sweep_reply(redisAsyncContext*, void* reply, void* self) {
  auto& consumer = *static_cast<LocationConsumer*>(self);
  core::guarded("location sweep reply", [&] {
    consumer.sweep_in_flight_ = false;
    const auto* r = static_cast<const redisReply*>(reply);
    if (r == nullptr || r->type != REDIS_REPLY_ARRAY || r->elements != 2) return;
    consumer.metrics_.drivers_active.store(r->element[1]->integer, std::memory_order_relaxed);
    // A full batch means more are due: go on at once.
    if (static_cast<std::size_t>(r->element[0]->integer) == kSweepBatch) consumer.sweep();
  });
}

void LocationConsumer::tick() {
  heartbeat_ns_.store(steady_ns_now());
  metrics_.group_pending.store(consumer_.group_pending(), std::memory_order_relaxed);
  metrics_.group_lag.store(consumer_.group_lag(), std::memory_order_relaxed);
  metrics_.reclaimed.store(consumer_.entries_reclaimed(), std::memory_order_relaxed);
  // Entries released while the state connection was down come back once
  // the consumer reads again.
  consumer_.wake();
}

}  // namespace gpsrelay::locations
