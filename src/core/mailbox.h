// Mailbox<T>: items posted from any thread, handed over in batches on the
// loop of the thread that owns the mailbox (one lock per batch, none per
// item on the receiving side). How the live hub and the topics notifier
// reach the HTTP workers.
#pragma once

#include <functional>
#include <mutex>
#include <utility>
#include <vector>

#include "core/event_loop.h"

namespace gpsrelay::core {

template <class T>
class Mailbox {
 public:
  using Deliver = std::function<void(const std::vector<T>&)>;

  Mailbox(event_base* owner_base, Deliver deliver)
      : deliver_(std::move(deliver)), trigger_(owner_base, [this] { drain(); }) {}
  Mailbox(const Mailbox&) = delete;
  Mailbox& operator=(const Mailbox&) = delete;

  // From any thread.
  void post(T item) {
    bool first = false;
    {
      const std::lock_guard<std::mutex> lock(mutex_);
      first = items_.empty();
      items_.push_back(std::move(item));
    }
    // One wake-up per batch: the drain takes everything posted until then.
    if (first) trigger_.trigger();
  }

 private:
  void drain() {
    std::vector<T> items;
    {
      const std::lock_guard<std::mutex> lock(mutex_);
      items.swap(items_);
    }
    if (!items.empty()) deliver_(items);
  }

  const Deliver deliver_;
  std::mutex mutex_;
  std::vector<T> items_;
  CrossThreadTrigger trigger_;
};

}  // namespace gpsrelay::core
