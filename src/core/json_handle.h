// JsonPtr: the owning handle for a jansson value, for every file that
// builds JSON (status pages, gpsrelayctl). jansson's json_decref is static
// inline, so the deleter is wrapped in a function with external linkage:
// a handle type that crosses files needs one.
#pragma once

#include <jansson.h>

#include "core/c_handle.h"

namespace gpsrelay::core {

inline void release_json(json_t* value) { json_decref(value); }
using JsonPtr = CHandle<json_t, release_json>;

}  // namespace gpsrelay::core
