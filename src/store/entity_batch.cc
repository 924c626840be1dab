// EntityBatch (see entity_batch.h).
#include "store/entity_batch.h"

#include <jansson.h>

#include <cstdlib>
#include <memory>
#include <utility>

#include "core/json_handle.h"
#include "core/json_text.h"
#include "events/merge_patch.h"

namespace gpsrelay::store {
namespace {

core::JsonPtr parse_object_or_null(const std::string& text) {
  json_error_t error;
  return core::JsonPtr(json_loadb(text.data(), text.size(), 0, &error));
}

}  // namespace

EntityBatch::EntityBatch(std::vector<const events::Event*> events)
    : events_(std::move(events)), duplicate_(events_.size(), false) {}

std::vector<std::string> EntityBatch::uuids() const {
  std::set<std::string> distinct;
  for (const events::Event* event : events_) distinct.insert(event->uuid);
  return {distinct.begin(), distinct.end()};
}

void EntityBatch::settle_duplicates(const std::set<std::string>& applied) {
  std::set<std::string> seen;
  for (std::size_t i = 0; i < events_.size(); ++i) {
    const std::string& uuid = events_[i]->uuid;
    duplicate_[i] = applied.count(uuid) != 0 || !seen.insert(uuid).second;
  }
}

std::vector<const events::Event*> EntityBatch::to_apply() const {
  std::vector<const events::Event*> out;
  for (std::size_t i = 0; i < events_.size(); ++i) {
    if (!duplicate_[i]) out.push_back(events_[i]);
  }
  return out;
}

std::vector<EntityKey> EntityBatch::keys() const {
  std::set<EntityKey> distinct;
  for (const events::Event* event : to_apply()) {
    for (const events::EntityUpdate& update : event->entities) {
      distinct.insert(EntityKey{update.entity_type, update.entity_id});
    }
  }
  return {distinct.begin(), distinct.end()};
}

std::size_t EntityBatch::update_count() const {
  std::size_t count = 0;
  for (const events::Event* event : to_apply()) count += event->entities.size();
  return count;
}

std::optional<std::map<EntityKey, std::string>> EntityBatch::merged(
    const std::map<EntityKey, std::string>& stored) const {
  // Each document is parsed once, patched in event order, written once.
  std::map<EntityKey, core::JsonPtr> documents;
  for (const events::Event* event : to_apply()) {
    for (const events::EntityUpdate& update : event->entities) {
      EntityKey key{update.entity_type, update.entity_id};
      auto found = documents.find(key);
      if (found == documents.end()) {
        const auto row = stored.find(key);
        core::JsonPtr document;
        if (row != stored.end()) {
          document = parse_object_or_null(row->second);
          if (!document) return std::nullopt;
        }
        found = documents.emplace(std::move(key), std::move(document)).first;
      }
      const core::JsonPtr patch = parse_object_or_null(update.attributes_json);
      if (!patch) return std::nullopt;
      found->second = events::merge_patch(found->second.get(), patch.get());
      if (!found->second) return std::nullopt;
    }
  }
  std::map<EntityKey, std::string> out;
  for (const auto& [key, document] : documents) {
    out.emplace(key, core::compact_json(document.get()));
  }
  return out;
}

}  // namespace gpsrelay::store
