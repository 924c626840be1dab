// Running gpsrelayctl from a test (see ctl_runner.h).
#include "support/ctl_runner.h"

#include <chrono>

namespace gpsrelay::testing {

CommandResult run_gpsrelayctl(const std::vector<std::string>& args,
                              std::map<std::string, std::string> env,
                              const std::filesystem::path& scratch) {
  SpawnOptions spawn;
  spawn.argv = {GPSRELAYCTL_PATH};
  spawn.argv.insert(spawn.argv.end(), args.begin(), args.end());
  spawn.env = std::move(env);
  spawn.drop_env_prefixes = {"GPSRELAY_"};
  return run_command(spawn, scratch, std::chrono::seconds(30));
}

int exit_code(const CommandResult& result) {
  return result.status && result.status->exited ? result.status->code : -1;
}

}  // namespace gpsrelay::testing
