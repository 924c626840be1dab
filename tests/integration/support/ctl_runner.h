// Running gpsrelayctl from an integration test: the built binary, with the
// test's environment overrides and none of the caller's GPSRELAY_* ones.
#pragma once

#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include "support/child_process.h"

namespace gpsrelay::testing {

// gpsrelayctl `args` (e.g. {"-c", path, "status"}); `scratch` holds its output files.
CommandResult run_gpsrelayctl(const std::vector<std::string>& args,
                              std::map<std::string, std::string> env,
                              const std::filesystem::path& scratch);

// The exit code, or -1 when it did not exit normally.
int exit_code(const CommandResult& result);

}  // namespace gpsrelay::testing
