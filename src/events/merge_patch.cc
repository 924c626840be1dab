// RFC 7396 MergePatch on jansson values (see merge_patch.h). Copies what it
// keeps from the target and the patch, so callers may go on changing the
// result without touching the inputs.
#include "events/merge_patch.h"

#include <cstdlib>
#include <memory>

#include "core/json_text.h"

namespace gpsrelay::events {
namespace {

using core::JsonPtr;

// Applies the object `patch` to `target`, an object this file owns (a copy
// made here), in place: copying the target once and then changing it keeps
// the whole merge linear in the sizes of both documents. false when jansson
// could not allocate.
bool merge_into(json_t* target, const json_t* patch) {
  // jansson's iterator functions take a non-const object but only read it.
  auto* patch_object = const_cast<json_t*>(patch);  // NOLINT(cppcoreguidelines-pro-type-const-cast)
  for (void* it = json_object_iter(patch_object); it != nullptr;
       it = json_object_iter_next(patch_object, it)) {
    const char* name = json_object_iter_key(it);
    const std::size_t name_len = json_object_iter_key_len(it);
    const json_t* value = json_object_iter_value(it);
    if (json_is_null(value)) {
      json_object_deln(target, name, name_len);  // fails when absent: nothing to delete
      continue;
    }
    if (!json_is_object(value)) {
      // Replaces the member in its place, or appends it.
      if (json_object_setn_new(target, name, name_len, json_deep_copy(value)) != 0) return false;
      continue;
    }
    json_t* member = json_object_getn(target, name, name_len);
    if (!json_is_object(member)) {
      // Absent or not an object: the nested merge starts from {}.
      if (json_object_setn_new(target, name, name_len, json_object()) != 0) return false;
      member = json_object_getn(target, name, name_len);
    }
    if (!merge_into(member, value)) return false;
  }
  return true;
}

}  // namespace

JsonPtr merge_patch(const json_t* target, const json_t* patch) {
  if (!json_is_object(patch)) return JsonPtr(json_deep_copy(patch));
  // The RFC: a non-object target is ignored and replaced by {}.
  JsonPtr result(json_is_object(target) ? json_deep_copy(target) : json_object());
  if (!result || !merge_into(result.get(), patch)) return nullptr;
  return result;
}

std::optional<std::string> merge_patch_text(std::string_view target_json,
                                            std::string_view patch_json) {
  const auto load = [](std::string_view text) {
    json_error_t error;
    return JsonPtr(
        json_loadb(text.data(), text.size(), JSON_DECODE_ANY | JSON_REJECT_DUPLICATES, &error));
  };
  JsonPtr target;
  if (!target_json.empty()) {
    target = load(target_json);
    if (!target) return std::nullopt;
  }
  const JsonPtr patch = load(patch_json);
  if (!patch) return std::nullopt;
  const JsonPtr result = merge_patch(target.get(), patch.get());
  if (!result) return std::nullopt;
  return core::compact_json(result.get());
}

}  // namespace gpsrelay::events
