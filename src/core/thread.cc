// Thread start-up (see thread.h).
#include "core/thread.h"

#include <pthread.h>
#include <signal.h>

#include <cstdlib>

#include "core/callback_guard.h"
#include "core/log.h"

namespace gpsrelay::core {
namespace {

// Blocks every signal in the calling thread for its lifetime. A thread
// inherits the mask of its creator, so blocking around std::thread's
// constructor leaves no moment in which the new thread could take a signal.
class AllSignalsBlocked {
 public:
  AllSignalsBlocked() {
    sigset_t all;
    sigfillset(&all);
    pthread_sigmask(SIG_BLOCK, &all, &previous_);
  }
  ~AllSignalsBlocked() { pthread_sigmask(SIG_SETMASK, &previous_, nullptr); }
  AllSignalsBlocked(const AllSignalsBlocked&) = delete;
  AllSignalsBlocked& operator=(const AllSignalsBlocked&) = delete;

 private:
  sigset_t previous_;
};

// The kernel keeps 15 bytes of a thread name; longer names are refused.
constexpr std::size_t kMaxThreadName = 15;

}  // namespace

std::thread start_loop_thread(std::string name, std::function<void()> body) {
  if (name.size() > kMaxThreadName) name.resize(kMaxThreadName);
  const AllSignalsBlocked blocked;
  return std::thread([name = std::move(name), body = std::move(body)] {
    // Only a label for tools: a refused name is not worth failing over.
    static_cast<void>(pthread_setname_np(pthread_self(), name.c_str()));
    if (guarded(name, body)) return;
    log_error("a gpsrelay thread ended by an exception; aborting so the daemon is restarted",
              {{"THREAD", name}});
    std::abort();
  });
}

}  // namespace gpsrelay::core
