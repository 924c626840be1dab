// JSON Merge Patch (RFC 7396) on jansson values: how an entity event's
// updatedAttributes change the attributes an entity holds.
//
// Pure: values in, a new value out. It owns no storage and no I/O; it does
// not decide where documents come from or how large they may be (the event
// parser bounds patches, the store bounds what it keeps).
//
// The RFC's algorithm, section 2, exactly:
//  - a patch that is not an object replaces the target (arrays included:
//    they are never merged element by element);
//  - an object patch applied to an absent or non-object target starts from
//    {} (so nulls in a new entity's attributes are simply dropped);
//  - a member whose value is null deletes that member; any other member is
//    merged into the target's member of that name, recursively.
// Members keep their order: changed ones stay where they were in the
// target, new ones are appended in patch order.
#pragma once

#include <jansson.h>

#include <optional>
#include <string>
#include <string_view>

#include "core/json_handle.h"

namespace gpsrelay::events {

// MergePatch(target, patch) as a new document that shares no node with
// either input; neither input is changed. `target` may be nullptr (absent:
// the entity does not exist yet). REQUIRES: `patch` is not nullptr.
// Returns nullptr only when jansson cannot allocate. Recursion follows the
// patch's object nesting, so its depth is bounded by the patch's.
core::JsonPtr merge_patch(const json_t* target, const json_t* patch);

// The same on JSON texts, for the store: `target_json` "" means absent,
// otherwise both texts must be one JSON value each (any type, duplicate
// keys refused). The result is compact JSON (jansson's JSON_COMPACT dump),
// nullopt when a text is not valid JSON.
std::optional<std::string> merge_patch_text(std::string_view target_json,
                                            std::string_view patch_json);

}  // namespace gpsrelay::events
