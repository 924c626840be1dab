// MysqlWorker<Job>: threads of its own (one or more, each with its own
// MySQL session in the caller's hands) sharing a queue of jobs from other
// threads, taken in batches, for the MySQL work the HTTP loops must never
// block on. The queue is bounded: a full one refuses at once (the caller
// answers 503) instead of letting waits grow without limit.
//
// A batch is everything queued when a thread comes round, up to max_batch
// jobs: while one transaction runs, the next one's jobs gather, which is
// what makes group commit work without a timer. With several threads a
// second transaction runs while the first waits for MySQL. What a batch
// means is the `Run` callback's business; the worker only guarantees that
// every job accepted by submit() reaches exactly one call of Run or, when
// the worker stops first, of Abandon.
#pragma once

#include <algorithm>
#include <condition_variable>
#include <cstddef>
#include <deque>
#include <functional>
#include <iterator>
#include <mutex>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "core/thread.h"

namespace gpsrelay::store {

template <class Job>
class MysqlWorker {
 public:
  // On a worker thread (`thread` is its index, 0 to threads - 1). Neither
  // may throw (core/thread.h).
  using Run = std::function<void(std::size_t thread, std::vector<Job>& batch)>;
  using Abandon = std::function<void(std::vector<Job>& jobs)>;

  MysqlWorker(std::string thread_name, std::size_t threads, std::size_t max_queued,
              std::size_t max_batch, Run run, Abandon abandon)
      : thread_name_(std::move(thread_name)),
        thread_count_(std::max<std::size_t>(threads, 1)),
        max_queued_(max_queued),
        max_batch_(max_batch),
        run_(std::move(run)),
        abandon_(std::move(abandon)) {}
  ~MysqlWorker() {
    request_stop();
    join();
    // Never started, or stopped with jobs left: nobody else will answer them.
    abandon_all();
  }
  MysqlWorker(const MysqlWorker&) = delete;
  MysqlWorker& operator=(const MysqlWorker&) = delete;

  void start() {
    for (std::size_t i = 0; i < thread_count_; ++i) {
      threads_.push_back(core::start_loop_thread(
          thread_count_ == 1 ? thread_name_ : thread_name_ + "-" + std::to_string(i),
          [this, i] { loop(i); }));
    }
  }

  // From any thread. False (and `job` untouched by the worker) when the
  // queue is full or the worker is stopping.
  bool submit(Job&& job) {
    {
      const std::lock_guard<std::mutex> lock(mutex_);
      if (stopping_ || queue_.size() >= max_queued_) return false;
      queue_.push_back(std::move(job));
    }
    wake_.notify_one();
    return true;
  }

  // Ends the thread after the batch under way; jobs still queued go to
  // Abandon.
  void request_stop() {
    {
      const std::lock_guard<std::mutex> lock(mutex_);
      stopping_ = true;
    }
    wake_.notify_all();
  }
  void join() {
    for (std::thread& thread : threads_) {
      if (thread.joinable()) thread.join();
    }
  }

  // Jobs waiting, for /metrics; any thread.
  std::size_t queued() const {
    const std::lock_guard<std::mutex> lock(mutex_);
    return queue_.size();
  }

 private:
  void loop(std::size_t thread) {
    std::vector<Job> batch;
    for (;;) {
      batch.clear();
      {
        std::unique_lock<std::mutex> lock(mutex_);
        wake_.wait(lock, [&] { return stopping_ || !queue_.empty(); });
        if (stopping_) break;
        const std::size_t take = std::min(queue_.size(), max_batch_);
        std::move(queue_.begin(), queue_.begin() + static_cast<std::ptrdiff_t>(take),
                  std::back_inserter(batch));
        queue_.erase(queue_.begin(), queue_.begin() + static_cast<std::ptrdiff_t>(take));
      }
      run_(thread, batch);
    }
    abandon_all();
  }

  void abandon_all() {
    std::vector<Job> left;
    {
      const std::lock_guard<std::mutex> lock(mutex_);
      std::move(queue_.begin(), queue_.end(), std::back_inserter(left));
      queue_.clear();
    }
    if (!left.empty()) abandon_(left);
  }

  const std::string thread_name_;
  const std::size_t thread_count_;
  const std::size_t max_queued_;
  const std::size_t max_batch_;
  const Run run_;
  const Abandon abandon_;

  mutable std::mutex mutex_;
  std::condition_variable wake_;
  std::deque<Job> queue_;
  bool stopping_ = false;
  std::vector<std::thread> threads_;
};

}  // namespace gpsrelay::store
