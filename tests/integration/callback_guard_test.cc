// The catch boundaries at C-callback entry points, on a real event_base:
// a throwing Timer or CrossThreadTrigger callback is logged and the loop
// goes on; start_loop_thread names its thread, blocks signals, and turns an
// escaped exception into an abort. (No servers: these need only libevent.)
#include "core/callback_guard.h"

#include <gtest/gtest.h>
#include <pthread.h>
#include <signal.h>

#include <chrono>
#include <stdexcept>
#include <string>

#include "core/event_loop.h"
#include "core/thread.h"

namespace gpsrelay::core {
namespace {

using std::chrono::milliseconds;

class CallbackGuardTest : public ::testing::Test {
 protected:
  // Runs the loop until `done` or the deadline; false on the deadline.
  bool run_until(const bool& done, milliseconds deadline = milliseconds(5000)) {
    Timer stop(base_.get(), [this] { event_base_loopbreak(base_.get()); });
    stop.start_once(deadline);
    while (!done && stop.pending()) event_base_loop(base_.get(), EVLOOP_ONCE);
    return done;
  }

  EventBasePtr base_ = make_event_base();
};

TEST(GuardedTest, ReturnsWhetherTheBodyCompleted) {
  int runs = 0;
  EXPECT_TRUE(guarded("test", [&] { ++runs; }));
  EXPECT_FALSE(guarded("test", [&] {
    ++runs;
    throw std::runtime_error("injected fault");
  }));
  EXPECT_FALSE(guarded("test", [] { throw 42; }));
  EXPECT_EQ(runs, 2);
}

TEST_F(CallbackGuardTest, ThrowingTimerDoesNotStopTheLoopAndALaterTimerStillFires) {
  int thrown = 0;
  Timer faulty(base_.get(), [&] {
    ++thrown;
    throw std::runtime_error("injected fault");
  });
  bool later_fired = false;
  Timer later(base_.get(), [&] { later_fired = true; });
  faulty.start_once(milliseconds(1));
  later.start_once(milliseconds(30));
  EXPECT_TRUE(run_until(later_fired));
  EXPECT_EQ(thrown, 1);
}

TEST_F(CallbackGuardTest, PeriodicTimerThatThrowsKeepsFiring) {
  int fired = 0;
  bool done = false;
  Timer faulty(base_.get(), [&] {
    done = ++fired == 3;
    throw std::runtime_error("injected fault");
  });
  faulty.start_periodic(milliseconds(5));
  EXPECT_TRUE(run_until(done));
}

TEST_F(CallbackGuardTest, ThrowingCrossThreadTriggerLeavesTheLoopRunning) {
  CrossThreadTrigger faulty(base_.get(), [] { throw std::logic_error("injected fault"); });
  bool later_fired = false;
  Timer later(base_.get(), [&] { later_fired = true; });
  faulty.trigger();
  later.start_once(milliseconds(20));
  EXPECT_TRUE(run_until(later_fired));
}

TEST(StartLoopThreadTest, NamesTheThreadAndBlocksEverySignalInItOnly) {
  sigset_t before;
  pthread_sigmask(SIG_SETMASK, nullptr, &before);
  std::string name;
  bool term_blocked = false;
  bool usr1_blocked = false;
  start_loop_thread("a-name-longer-than-fifteen", [&] {
    char buffer[16] = {};
    pthread_getname_np(pthread_self(), buffer, sizeof buffer);
    name = buffer;
    sigset_t mask;
    pthread_sigmask(SIG_SETMASK, nullptr, &mask);
    term_blocked = sigismember(&mask, SIGTERM) == 1;
    usr1_blocked = sigismember(&mask, SIGUSR1) == 1;
  }).join();
  EXPECT_EQ(name, "a-name-longer-t");
  EXPECT_TRUE(term_blocked);
  EXPECT_TRUE(usr1_blocked);
  sigset_t after;
  pthread_sigmask(SIG_SETMASK, nullptr, &after);
  EXPECT_EQ(sigismember(&after, SIGTERM), sigismember(&before, SIGTERM));
  EXPECT_EQ(sigismember(&after, SIGUSR1), sigismember(&before, SIGUSR1));
}

TEST(StartLoopThreadDeathTest, AnExceptionEscapingTheBodyIsLoggedAndAbortsTheProcess) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  EXPECT_DEATH(
      start_loop_thread("doomed", [] { throw std::runtime_error("injected fault"); }).join(),
      "injected fault(.|\n)*ended by an exception");
}

}  // namespace
}  // namespace gpsrelay::core
