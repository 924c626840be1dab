// EntityBatch: what one group-commit transaction of entity events does,
// decided without MySQL: which events are duplicates (their uuid applied
// before, or earlier in this very batch), which entity rows the rest
// touch (in the one sorted order every transaction locks them in), and
// the attributes each of those rows ends with after the batch's updates
// are merged in event order (RFC 7396, events/merge_patch.h).
//
// EntityStore runs the statements around it; this class is pure so that
// the order and merge rules are unit-tested without a server.
#pragma once

#include <cstddef>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <tuple>
#include <vector>

#include "events/event_request.h"

namespace gpsrelay::store {

struct EntityKey {
  std::string type;
  std::string id;
  bool operator==(const EntityKey&) const = default;
  bool operator<(const EntityKey& other) const {
    return std::tie(type, id) < std::tie(other.type, other.id);
  }
};

class EntityBatch {
 public:
  // The batch's events in arrival order; they must outlive the batch.
  explicit EntityBatch(std::vector<const events::Event*> events);

  // Distinct uuids of the batch, sorted: what to look up in applied_events.
  std::vector<std::string> uuids() const;
  // Marks as duplicates the events whose uuid is in `applied` (already in
  // applied_events) and every later event repeating a uuid of the batch.
  void settle_duplicates(const std::set<std::string>& applied);

  std::size_t size() const { return events_.size(); }
  bool duplicate(std::size_t index) const { return duplicate_[index]; }
  // The events to apply, in order (not duplicates).
  std::vector<const events::Event*> to_apply() const;
  // Distinct keys the events to apply update, sorted.
  std::vector<EntityKey> keys() const;
  // Entity updates of the events to apply.
  std::size_t update_count() const;

  // The attributes of every key after the updates, given each key's
  // stored attributes (a JSON object's text; a key missing from `stored`
  // is a new entity, starting from {}). nullopt when a stored document is
  // not a JSON object or a patch is not JSON (neither should happen: both
  // were checked on the way in).
  std::optional<std::map<EntityKey, std::string>> merged(
      const std::map<EntityKey, std::string>& stored) const;

 private:
  std::vector<const events::Event*> events_;
  std::vector<bool> duplicate_;
};

}  // namespace gpsrelay::store
