// EntityBatch: which events of a group commit are duplicates, which rows
// they lock and in what order, and what each row ends with — the rules of
// store/entity_store.h without a server.
#include "store/entity_batch.h"

#include <gtest/gtest.h>

#include <map>
#include <set>
#include <string>
#include <vector>

namespace gpsrelay::store {
namespace {

events::Event event(std::string uuid, std::vector<events::EntityUpdate> updates) {
  events::Event e;
  e.uuid = std::move(uuid);
  e.event_name = "n";
  e.event_type = "t";
  e.entities = std::move(updates);
  return e;
}

std::vector<const events::Event*> pointers(const std::vector<events::Event>& events) {
  std::vector<const events::Event*> out;
  for (const events::Event& e : events) out.push_back(&e);
  return out;
}

TEST(EntityBatch, UuidsAreDistinctAndSorted) {
  const std::vector<events::Event> events = {event("b", {}), event("a", {}), event("b", {})};
  const EntityBatch batch(pointers(events));
  EXPECT_EQ(batch.uuids(), (std::vector<std::string>{"a", "b"}));
}

TEST(EntityBatch, DuplicatesAreAppliedUuidsAndRepeatsWithinTheBatch) {
  const std::vector<events::Event> events = {event("old", {{"t", "1", "{}"}}),
                                             event("new", {{"t", "2", "{}"}}),
                                             event("new", {{"t", "3", "{}"}})};
  EntityBatch batch(pointers(events));
  batch.settle_duplicates({"old"});
  EXPECT_TRUE(batch.duplicate(0));
  EXPECT_FALSE(batch.duplicate(1));
  EXPECT_TRUE(batch.duplicate(2));  // the first of a repeated uuid wins
  ASSERT_EQ(batch.to_apply().size(), 1U);
  EXPECT_EQ(batch.to_apply()[0], &events[1]);
  EXPECT_EQ(batch.keys(), (std::vector<EntityKey>{{"t", "2"}}));
  EXPECT_EQ(batch.update_count(), 1U);
}

TEST(EntityBatch, KeysAreDistinctAndSortedByTypeThenId) {
  const std::vector<events::Event> events = {
      event("1", {{"vehicle", "b", "{}"}, {"driver", "z", "{}"}}),
      event("2", {{"vehicle", "a", "{}"}, {"vehicle", "b", "{}"}})};
  EntityBatch batch(pointers(events));
  batch.settle_duplicates({});
  EXPECT_EQ(batch.keys(),
            (std::vector<EntityKey>{{"driver", "z"}, {"vehicle", "a"}, {"vehicle", "b"}}));
  EXPECT_EQ(batch.update_count(), 4U);
}

TEST(EntityBatch, UpdatesMergeInEventOrderOntoStoredDocuments) {
  const std::vector<events::Event> events = {
      event("1", {{"v", "a", R"({"n":1,"keep":{"x":1,"y":2}})"}}),
      event("2",
            {{"v", "a", R"({"n":2,"keep":{"y":null}})"}, {"v", "new", R"({"z":null,"w":1})"}})};
  EntityBatch batch(pointers(events));
  batch.settle_duplicates({});
  const auto merged = batch.merged({{{"v", "a"}, R"({"old":true,"n":0})"}});
  ASSERT_TRUE(merged);
  EXPECT_EQ(merged->at({"v", "a"}), R"({"old":true,"n":2,"keep":{"x":1}})");
  // A new entity starts from {}: the patch's nulls are dropped.
  EXPECT_EQ(merged->at({"v", "new"}), R"({"w":1})");
}

TEST(EntityBatch, DuplicateEventsDoNotMerge) {
  const std::vector<events::Event> events = {event("1", {{"v", "a", R"({"n":1})"}}),
                                             event("1", {{"v", "a", R"({"n":2})"}})};
  EntityBatch batch(pointers(events));
  batch.settle_duplicates({});
  const auto merged = batch.merged({});
  ASSERT_TRUE(merged);
  EXPECT_EQ(merged->at({"v", "a"}), R"({"n":1})");
}

TEST(EntityBatch, AStoredDocumentThatIsNotJsonFailsTheMerge) {
  const std::vector<events::Event> events = {event("1", {{"v", "a", R"({"n":1})"}})};
  EntityBatch batch(pointers(events));
  batch.settle_duplicates({});
  EXPECT_FALSE(batch.merged({{{"v", "a"}, "{not json"}}));
  // A stored array (made by hand) is replaced, as RFC 7396 says.
  const auto merged = batch.merged({{{"v", "a"}, "[1,2]"}});
  ASSERT_TRUE(merged);
  EXPECT_EQ(merged->at({"v", "a"}), R"({"n":1})");
}

}  // namespace
}  // namespace gpsrelay::store
