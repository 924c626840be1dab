// ChildProcess: one spawned program (redis-server, gpsrelayd, a CLI run)
// owned by a test. It owns the pid: the destructor kills the child's whole
// process group with SIGKILL and reaps it, so no test leaves a server behind.
// It does not interpret output; stdout and stderr go to files the caller names.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <filesystem>
#include <map>
#include <optional>
#include <ostream>
#include <string>
#include <vector>

namespace gpsrelay::testing {

// How a reaped child ended.
struct ExitStatus {
  bool exited = false;  // true: returned from main/exit(); false: killed by `signal`
  int code = -1;        // exit code when `exited`
  int signal = 0;       // terminating signal when !exited

  bool exited_with(int expected_code) const { return exited && code == expected_code; }
  std::string describe() const;  // "exit 0", "signal 9 (Killed)"
};

std::ostream& operator<<(std::ostream& out, const ExitStatus& status);

struct SpawnOptions {
  // argv[0] is the program: an absolute path, or a name looked up in $PATH.
  std::vector<std::string> argv;
  // Variables added to (or replacing those of) the test's own environment.
  std::map<std::string, std::string> env;
  // Inherited variables whose name starts with one of these are dropped, so
  // the runner's environment (NOTIFY_SOCKET, GPSRELAY_* overrides) cannot
  // leak into the child. Variables in `env` are kept regardless.
  std::vector<std::string> drop_env_prefixes;
  // Empty: /dev/null. Files are created or appended to.
  std::filesystem::path stdout_path;
  // Empty: the same file as stdout.
  std::filesystem::path stderr_path;
};

class ChildProcess {
 public:
  // Forks and execs. The child gets stdin from /dev/null, its own process
  // group, default signal dispositions, no inherited descriptors beyond 0-2,
  // and SIGKILL when the spawning *thread* dies (PR_SET_PDEATHSIG), which
  // covers a test binary that crashes or is killed by a timeout. Spawn from
  // the test's main thread, not from a short-lived helper thread.
  // Throws std::runtime_error when the program cannot be executed.
  explicit ChildProcess(const SpawnOptions& options);
  ~ChildProcess();

  ChildProcess(const ChildProcess&) = delete;
  ChildProcess& operator=(const ChildProcess&) = delete;

  pid_t pid() const { return pid_; }

  // True until the child has exited; reaps it as soon as it has.
  bool running();

  // Set once the child was reaped.
  const std::optional<ExitStatus>& exit_status() const { return status_; }

  // Sends `sig` to the child (not its group); does nothing once reaped.
  void send_signal(int sig);

  // Waits up to `timeout` for the child to exit; nullopt if it is still
  // running then.
  std::optional<ExitStatus> wait_for(std::chrono::milliseconds timeout);

  // SIGKILL to the process group, then reaps. Returns how the child ended
  // (which may be a normal exit if it had already finished).
  ExitStatus kill();

 private:
  bool try_reap();

  pid_t pid_ = -1;
  std::optional<ExitStatus> status_;
};

// Runs a command to completion with stdout and stderr captured separately.
struct CommandResult {
  std::optional<ExitStatus> status;  // nullopt: killed after the timeout
  std::string out;
  std::string err;
};

// Runs `options.argv` (the output paths are chosen here, inside `scratch`)
// and waits up to `timeout`; a command still running then is killed.
CommandResult run_command(SpawnOptions options, const std::filesystem::path& scratch,
                          std::chrono::milliseconds timeout);

}  // namespace gpsrelay::testing
