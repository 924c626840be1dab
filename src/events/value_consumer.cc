// The write-behind values' consumer thread (see value_consumer.h).
#include "events/value_consumer.h"

#include "core/log.h"
#include "core/thread.h"

namespace gpsrelay::events {
namespace {

constexpr std::chrono::milliseconds kTickInterval{100};

std::int64_t steady_ns_now() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

queue::StreamConsumer::Options consumer_options(const core::Config& config,
                                                std::string consumer_name) {
  queue::StreamConsumer::Options options;
  options.connection = queue::RedisConnection::Options::from(config.redis);
  options.stream = config.events.values_stream;
  options.group = std::string(kValuesGroup);
  options.all_groups = {std::string(kValuesGroup)};
  options.consumer = std::move(consumer_name);
  options.claim_idle = config.forward.claim_idle;
  options.max_batch = 256;
  return options;
}

store::ValueStore::Options store_options(const core::EventsConfig& events) {
  store::ValueStore::Options options;
  options.batch_size = events.batch_size;
  options.batch_interval = events.batch_interval;
  return options;
}

}  // namespace

ValueConsumer::ValueConsumer(const core::Config& config, std::string consumer_name,
                             ValueMetrics& metrics)
    : metrics_(metrics),
      base_(core::make_event_base()),
      consumer_(base_.get(), consumer_options(config, std::move(consumer_name)), *this),
      cache_(base_.get(), config.redis, config.events),
      tick_timer_(base_.get(), [this] { tick(); }),
      stop_trigger_(base_.get(), [this] { event_base_loopexit(base_.get(), nullptr); }),
      committed_trigger_(base_.get(), [this] { acknowledge_committed(); }),
      store_(std::make_unique<store::ValueStore>(
          config.mysql, store_options(config.events), metrics_.store,
          [this](std::vector<std::string> ids, std::vector<ValueRecord> records) {
            {
              const std::lock_guard<std::mutex> lock(committed_mutex_);
              committed_ids_.insert(committed_ids_.end(), std::make_move_iterator(ids.begin()),
                                    std::make_move_iterator(ids.end()));
              committed_records_.insert(committed_records_.end(),
                                        std::make_move_iterator(records.begin()),
                                        std::make_move_iterator(records.end()));
            }
            committed_trigger_.trigger();
          })) {}

ValueConsumer::~ValueConsumer() {
  request_stop();
  join();
  store_->request_stop();
  store_->join();
}

void ValueConsumer::start() {
  heartbeat_ns_.store(steady_ns_now());
  store_->start();
  thread_ = core::start_loop_thread("values", [this] {
    consumer_.start();
    cache_.start();
    tick_timer_.start_periodic(kTickInterval);
    event_base_dispatch(base_.get());
  });
}

void ValueConsumer::request_stop() {
  stop_trigger_.trigger();
  store_->request_stop();
}

void ValueConsumer::join() {
  if (thread_.joinable()) thread_.join();
  store_->join();
}

std::chrono::steady_clock::time_point ValueConsumer::last_heartbeat() const {
  return std::chrono::steady_clock::time_point(std::chrono::nanoseconds(heartbeat_ns_.load()));
}

std::size_t ValueConsumer::free_slots() const { return store_->room(); }

void ValueConsumer::on_entry(queue::StreamEntry entry) {
  std::optional<ValueRecord> record = parse_value_record(entry.payload);
  if (!record) {
    // Not written by POST /write (another writer on this stream): nothing
    // MySQL could take, and holding it would hold it for ever.
    ValueMetrics::add(metrics_.entries_unusable);
    core::log_warning("values stream entry holds no value record; acknowledged unwritten",
                      {{"MESSAGE_ID", entry.id}});
    consumer_.finish(entry.id);
    return;
  }
  std::string id = entry.id;
  if (!store_->submit({std::move(entry.id), std::move(*record)})) {
    // The backlog is full (MySQL down for long): pending in Redis until
    // a reclaim or a restart brings it back.
    consumer_.release(id);
  }
}

void ValueConsumer::acknowledge_committed() {
  std::vector<std::string> ids;
  std::vector<ValueRecord> records;
  {
    const std::lock_guard<std::mutex> lock(committed_mutex_);
    ids.swap(committed_ids_);
    records.swap(committed_records_);
  }
  for (const std::string& id : ids) consumer_.finish(id);
  // Best effort: with Redis down the fill fails, and the cache (if it
  // still holds anything) expires after cache_ttl.
  for (const ValueRecord& record : records) cache_.fill(record, [](bool) {});
  consumer_.wake();
}

void ValueConsumer::tick() {
  heartbeat_ns_.store(steady_ns_now());
  metrics_.group_pending.store(consumer_.group_pending(), std::memory_order_relaxed);
  metrics_.group_lag.store(consumer_.group_lag(), std::memory_order_relaxed);
  metrics_.reclaimed.store(consumer_.entries_reclaimed(), std::memory_order_relaxed);
  metrics_.consumer_redis_up.store(consumer_.up(), std::memory_order_relaxed);
  // Room freed by a flush: read on.
  consumer_.wake();
}

}  // namespace gpsrelay::events
