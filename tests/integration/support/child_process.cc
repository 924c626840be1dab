// ChildProcess: fork/exec with everything the child needs prepared before the
// fork, an exec-error pipe so a missing binary is an exception rather than a
// silent exit 127, and pidfd-based waiting.
#include "support/child_process.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstdint>
#include <cstdlib>
#include <sstream>
#include <stdexcept>
#include <system_error>
#include <thread>

#include "support/eventually.h"
#include "support/temp_dir.h"
#include "support/unique_fd.h"

extern char** environ;

namespace gpsrelay::testing {
namespace {

// What the child reports through the exec-error pipe before exiting 127.
struct ExecFailure {
  int step;
  int error;
};

constexpr const char* kStepNames[] = {
    "setup", "open /dev/null", "open stdout file", "open stderr file", "dup2", "execve"};
enum Step { kSetup, kOpenNull, kOpenStdout, kOpenStderr, kDup, kExec };

// Everything the child touches after fork(), built beforehand: in a
// multi-threaded parent the child may only make async-signal-safe calls, so
// no allocation happens between fork() and execve().
struct ExecPlan {
  std::string program;
  std::vector<std::string> argv_storage;
  std::vector<std::string> env_storage;
  std::vector<char*> argv;
  std::vector<char*> envp;
  std::string stdout_path;
  std::string stderr_path;
  bool stderr_to_stdout = true;
  int max_fd = 1024;
};

std::string resolve_program(const std::string& name) {
  if (name.find('/') != std::string::npos) return name;
  const char* path = std::getenv("PATH");
  std::stringstream dirs(path != nullptr ? path : "/usr/bin:/bin");
  std::string dir;
  while (std::getline(dirs, dir, ':')) {
    const std::string candidate = (dir.empty() ? "." : dir) + "/" + name;
    if (::access(candidate.c_str(), X_OK) == 0) return candidate;
  }
  return name;  // execve reports ENOENT
}

bool starts_with_any(std::string_view entry, const std::vector<std::string>& prefixes) {
  return std::any_of(prefixes.begin(), prefixes.end(),
                     [&](const std::string& prefix) { return entry.starts_with(prefix); });
}

ExecPlan make_plan(const SpawnOptions& options) {
  if (options.argv.empty()) throw std::invalid_argument("ChildProcess: empty argv");
  ExecPlan plan;
  plan.program = resolve_program(options.argv[0]);
  plan.argv_storage = options.argv;
  for (char** entry = environ; entry != nullptr && *entry != nullptr; ++entry) {
    const std::string_view text(*entry);
    const std::string name(text.substr(0, text.find('=')));
    if (options.env.contains(name) || starts_with_any(name, options.drop_env_prefixes)) continue;
    plan.env_storage.emplace_back(text);
  }
  for (const auto& [name, value] : options.env) plan.env_storage.push_back(name + "=" + value);
  for (auto& arg : plan.argv_storage) plan.argv.push_back(arg.data());
  plan.argv.push_back(nullptr);
  for (auto& entry : plan.env_storage) plan.envp.push_back(entry.data());
  plan.envp.push_back(nullptr);
  plan.stdout_path = options.stdout_path.empty() ? "/dev/null" : options.stdout_path.string();
  plan.stderr_to_stdout = options.stderr_path.empty() || options.stderr_path == options.stdout_path;
  plan.stderr_path = options.stderr_path.string();
  const long open_max = ::sysconf(_SC_OPEN_MAX);
  plan.max_fd = static_cast<int>(std::clamp(open_max, 1024L, 65536L));
  return plan;
}

[[noreturn]] void child_fail(int report_fd, Step step) {
  const ExecFailure failure{step, errno};
  [[maybe_unused]] const ssize_t ignored = ::write(report_fd, &failure, sizeof(failure));
  ::_exit(127);
}

// Runs in the forked child. Async-signal-safe calls only.
[[noreturn]] void exec_child(const ExecPlan& plan, int report_fd, pid_t parent) {
  ::setpgid(0, 0);
  // Dies with the test binary even when that is SIGKILLed by a CI timeout.
  ::prctl(PR_SET_PDEATHSIG, SIGKILL);
  if (::getppid() != parent) ::_exit(127);  // the parent died before prctl

  // The test binary may block or ignore signals (gtest, curl); a daemon
  // under test must see the dispositions it would get from systemd.
  sigset_t none;
  ::sigemptyset(&none);
  ::sigprocmask(SIG_SETMASK, &none, nullptr);
  for (int sig = 1; sig < NSIG; ++sig) ::signal(sig, SIG_DFL);

  const int null_fd = ::open("/dev/null", O_RDONLY);
  if (null_fd < 0) child_fail(report_fd, kOpenNull);
  const int out_fd = ::open(plan.stdout_path.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
  if (out_fd < 0) child_fail(report_fd, kOpenStdout);
  int err_fd = out_fd;
  if (!plan.stderr_to_stdout) {
    err_fd = ::open(plan.stderr_path.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
    if (err_fd < 0) child_fail(report_fd, kOpenStderr);
  }
  if (::dup2(null_fd, 0) < 0 || ::dup2(out_fd, 1) < 0 || ::dup2(err_fd, 2) < 0) {
    child_fail(report_fd, kDup);
  }
  // Keep the report pipe at fd 3 (close-on-exec) and close everything above,
  // so the child holds none of the test's sockets or listening ports.
  if (report_fd != 3) {
    if (::dup3(report_fd, 3, O_CLOEXEC) < 0) child_fail(report_fd, kDup);
    report_fd = 3;
  }
  if (::close_range(4, ~0U, 0) != 0) {
    for (int fd = 4; fd < plan.max_fd; ++fd) ::close(fd);
  }
  ::execve(plan.program.c_str(), plan.argv.data(), plan.envp.data());
  child_fail(report_fd, kExec);
}

// A descriptor at or above 3, so the child's dup2 onto 0-2 cannot clobber it
// even when the test runner started us with stdin closed.
UniqueFd above_stdio(int fd) {
  UniqueFd original(fd);
  if (fd > 2) return original;
  const int moved = ::fcntl(fd, F_DUPFD_CLOEXEC, 3);
  if (moved < 0) throw std::system_error(errno, std::generic_category(), "fcntl");
  return UniqueFd(moved);
}

ExitStatus decode(int wait_status) {
  ExitStatus status;
  if (WIFEXITED(wait_status)) {
    status.exited = true;
    status.code = WEXITSTATUS(wait_status);
  } else if (WIFSIGNALED(wait_status)) {
    status.signal = WTERMSIG(wait_status);
  }
  return status;
}

}  // namespace

std::string ExitStatus::describe() const {
  if (exited) return "exit " + std::to_string(code);
  return "signal " + std::to_string(signal) + " (" + ::strsignal(signal) + ")";
}

std::ostream& operator<<(std::ostream& out, const ExitStatus& status) {
  return out << status.describe();
}

ChildProcess::ChildProcess(const SpawnOptions& options) {
  const ExecPlan plan = make_plan(options);
  int pipe_fds[2];
  if (::pipe2(pipe_fds, O_CLOEXEC) != 0) {
    throw std::system_error(errno, std::generic_category(), "pipe2");
  }
  UniqueFd read_end = above_stdio(pipe_fds[0]);
  UniqueFd write_end = above_stdio(pipe_fds[1]);

  const pid_t parent = ::getpid();
  const pid_t pid = ::fork();
  if (pid < 0) throw std::system_error(errno, std::generic_category(), "fork");
  if (pid == 0) exec_child(plan, write_end.get(), parent);

  pid_ = pid;
  ::setpgid(pid_, pid_);  // also done by the child; whichever runs first wins
  write_end.reset();

  ExecFailure failure{};
  ssize_t got;
  do {
    got = ::read(read_end.get(), &failure, sizeof(failure));
  } while (got < 0 && errno == EINTR);
  if (got == 0) return;  // close-on-exec closed the pipe: execve succeeded

  int wait_status = 0;
  ::waitpid(pid_, &wait_status, 0);
  status_ = decode(wait_status);
  const int step = (got == sizeof(failure) && failure.step >= 0 && failure.step <= kExec)
                       ? failure.step
                       : kSetup;
  throw std::runtime_error("cannot start " + plan.program + ": " + kStepNames[step] + ": " +
                           std::system_category().message(failure.error));
}

ChildProcess::~ChildProcess() {
  if (!status_) kill();
}

bool ChildProcess::try_reap() {
  if (status_) return true;
  int wait_status = 0;
  pid_t reaped;
  do {
    reaped = ::waitpid(pid_, &wait_status, WNOHANG);
  } while (reaped < 0 && errno == EINTR);
  if (reaped == pid_) {
    status_ = decode(wait_status);
    return true;
  }
  return false;
}

bool ChildProcess::running() { return !try_reap(); }

void ChildProcess::send_signal(int sig) {
  // Only while unreaped: after waitpid the pid may belong to someone else.
  if (!status_) ::kill(pid_, sig);
}

std::optional<ExitStatus> ChildProcess::wait_for(std::chrono::milliseconds timeout) {
  if (try_reap()) return status_;
  const Deadline deadline(timeout);
  // A pidfd becomes readable when the child exits, so the wait ends at once
  // instead of on the next poll tick.
  UniqueFd pidfd(static_cast<int>(::syscall(SYS_pidfd_open, pid_, 0)));
  while (!try_reap()) {
    if (deadline.expired()) return std::nullopt;
    const auto slice = std::min(deadline.remaining(), std::chrono::milliseconds(50));
    if (pidfd.valid()) {
      pollfd entry{pidfd.get(), POLLIN, 0};
      ::poll(&entry, 1, static_cast<int>(std::max<std::int64_t>(slice.count(), 1)));
    } else {
      std::this_thread::sleep_for(std::min(slice, std::chrono::milliseconds(5)));
    }
  }
  return status_;
}

ExitStatus ChildProcess::kill() {
  if (!status_) {
    // The whole group: a server's own children (redis' AOF rewrite) go too.
    if (::kill(-pid_, SIGKILL) != 0) ::kill(pid_, SIGKILL);
    int wait_status = 0;
    pid_t reaped;
    do {
      reaped = ::waitpid(pid_, &wait_status, 0);
    } while (reaped < 0 && errno == EINTR);
    status_ = decode(wait_status);
  }
  return *status_;
}

CommandResult run_command(SpawnOptions options, const std::filesystem::path& scratch,
                          std::chrono::milliseconds timeout) {
  static std::atomic<int> sequence{0};
  const std::string stem = "command-" + std::to_string(sequence++);
  options.stdout_path = scratch / (stem + ".out");
  options.stderr_path = scratch / (stem + ".err");
  CommandResult result;
  {
    ChildProcess child(options);
    result.status = child.wait_for(timeout);
  }
  result.out = read_file(options.stdout_path);
  result.err = read_file(options.stderr_path);
  return result;
}

}  // namespace gpsrelay::testing
