// SharedSlot: one immutable object that the event-loop threads read on
// their hot paths and that SIGHUP replaces (the TLS context, the device
// tokens). Readers take a reference with an atomic load and keep the object
// alive while they use it; a reload builds the new object completely first,
// so readers only ever see a whole old one or a whole new one, and a reload
// that fails to build one replaces nothing.
#pragma once

#include <atomic>
#include <memory>

namespace gpsrelay::core {

template <typename T>
class SharedSlot {
 public:
  explicit SharedSlot(std::shared_ptr<T> initial) : current_(std::move(initial)) {}
  SharedSlot(const SharedSlot&) = delete;
  SharedSlot& operator=(const SharedSlot&) = delete;

  // Safe from any thread.
  std::shared_ptr<T> current() const { return current_.load(std::memory_order_acquire); }
  void replace(std::shared_ptr<T> next) {
    current_.store(std::move(next), std::memory_order_release);
  }

 private:
  std::atomic<std::shared_ptr<T>> current_;
};

}  // namespace gpsrelay::core
