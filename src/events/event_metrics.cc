// Entity-event counters as Prometheus text (see event_metrics.h).
#include "events/event_metrics.h"

namespace gpsrelay::events {

EventResultLabel label_of(store::EventOutcome outcome) {
  switch (outcome) {
    case store::EventOutcome::kApplied:
      return EventResultLabel::kApplied;
    case store::EventOutcome::kDuplicate:
      return EventResultLabel::kDuplicate;
    case store::EventOutcome::kUnavailable:
      return EventResultLabel::kUnavailable;
    case store::EventOutcome::kFailed:
      break;
  }
  return EventResultLabel::kFailed;
}

void EventMetrics::render(std::string& out) const {
  core::append_header(out, "gpsrelay_events_total", "counter",
                      "Entity events received, by result (invalid: refused by validation).");
  for (std::size_t i = 0; i < kEventResultNames.size(); ++i) {
    core::append_sample(
        out, std::string("gpsrelay_events_total{result=\"") + kEventResultNames[i] + "\"}",
        static_cast<double>(results_[i].load(std::memory_order_relaxed)));
  }
  core::append_metric(out, "gpsrelay_events_entity_updates_total", "counter",
                      "Entity updates merged into MySQL table entities.", store_.entity_updates);
  core::append_metric(out, "gpsrelay_events_transactions_total", "counter",
                      "Group-commit transactions committed.", store_.transactions);
  core::append_metric(out, "gpsrelay_events_transaction_retries_total", "counter",
                      "Transactions rolled back and tried again (deadlock, lock wait, a uuid "
                      "applied concurrently).",
                      store_.retries);
  core::append_header(out, "gpsrelay_events_batch_events", "histogram",
                      "Events applied per committed transaction.");
  std::uint64_t cumulative = 0;
  std::uint64_t transactions = 0;
  for (std::size_t i = 0; i < store_.batch_events.size(); ++i) {
    cumulative += store_.batch_events[i].load(std::memory_order_relaxed);
    const bool last = i + 1 == store_.batch_events.size();
    const std::string le = last ? "+Inf" : std::to_string(std::uint64_t{1} << i);
    core::append_sample(out, "gpsrelay_events_batch_events_bucket{le=\"" + le + "\"}",
                        static_cast<double>(cumulative));
    transactions = cumulative;
  }
  core::append_sample(out, "gpsrelay_events_batch_events_sum",
                      static_cast<double>(store_.events_applied.load(std::memory_order_relaxed)));
  core::append_sample(out, "gpsrelay_events_batch_events_count", static_cast<double>(transactions));
  core::append_header(out, "gpsrelay_events_commit_duration_seconds", "histogram",
                      "One group-commit transaction, from START TRANSACTION to COMMIT's answer.");
  core::append_histogram(out, "gpsrelay_events_commit_duration_seconds", store_.commit_duration);
}

}  // namespace gpsrelay::events
