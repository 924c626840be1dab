// CHandle: a unique_ptr that frees a C library object with that library's own
// free function. Every C handle in gpsrelay (event_base, evhttp, event,
// redisContext, CURLM, MYSQL, json_t, ...) is owned through one of these, so
// there is exactly one place that releases it and no manual cleanup paths.
#pragma once

#include <memory>

namespace gpsrelay::core {

template <typename T, auto FreeFn>
struct CFree {
  void operator()(T* handle) const noexcept {
    if (handle != nullptr) FreeFn(handle);
  }
};

template <typename T, auto FreeFn>
using CHandle = std::unique_ptr<T, CFree<T, FreeFn>>;

}  // namespace gpsrelay::core
