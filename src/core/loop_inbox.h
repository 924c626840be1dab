// LoopInbox: how a thread that is not an event loop (a MySQL worker) hands
// work back to one: tasks posted from any thread run on the loop's thread,
// in order, a batch per wake-up.
//
// Unlike Mailbox, the handle other threads keep (Poster) outlives the
// inbox safely: once the inbox is gone, post() refuses and the poster
// keeps its task, so whoever holds an unanswered request can abandon it
// instead of answering on the wrong thread. Tasks still queued when the
// inbox is destroyed run then, on the destroying thread (the loop has
// ended; its server still exists).
#pragma once

#include <functional>
#include <memory>
#include <mutex>
#include <utility>
#include <vector>

#include "core/event_loop.h"

namespace gpsrelay::core {

class LoopInbox {
 public:
  using Task = std::function<void()>;

 private:
  struct State {
    std::mutex mutex;
    CrossThreadTrigger* trigger = nullptr;  // null once the inbox is gone
    std::vector<Task> tasks;
  };

 public:
  class Poster {
   public:
    // From any thread. False, with `task` not run and already destroyed,
    // when the inbox is gone.
    bool post(Task task) const {
      const std::lock_guard<std::mutex> lock(state_->mutex);
      if (state_->trigger == nullptr) return false;
      const bool first = state_->tasks.empty();
      state_->tasks.push_back(std::move(task));
      if (first) state_->trigger->trigger();
      return true;
    }

   private:
    friend class LoopInbox;
    explicit Poster(std::shared_ptr<State> state) : state_(std::move(state)) {}
    std::shared_ptr<State> state_;
  };

  explicit LoopInbox(event_base* base)
      : state_(std::make_shared<State>()), trigger_(base, [this] { run(); }) {
    state_->trigger = &trigger_;
  }
  ~LoopInbox() {
    {
      const std::lock_guard<std::mutex> lock(state_->mutex);
      state_->trigger = nullptr;
    }
    run();
  }
  LoopInbox(const LoopInbox&) = delete;
  LoopInbox& operator=(const LoopInbox&) = delete;

  Poster poster() const { return Poster(state_); }

 private:
  void run() {
    std::vector<Task> tasks;
    {
      const std::lock_guard<std::mutex> lock(state_->mutex);
      tasks.swap(state_->tasks);
    }
    for (Task& task : tasks) task();
  }

  std::shared_ptr<State> state_;
  CrossThreadTrigger trigger_;
};

}  // namespace gpsrelay::core
