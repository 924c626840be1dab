// What the load clients (ws_load, topics_load, stream_consume_ceiling)
// share: durations on their command lines, latency percentiles as they
// print them, and the CPU and memory of a process from /proc.
#pragma once

#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <iterator>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

namespace gpsrelay::load {

// "30s", "500ms", "2m" or bare seconds.
inline double parse_seconds(const std::string& text) {
  std::size_t end = 0;
  const double value = std::stod(text, &end);
  const std::string unit = text.substr(end);
  if (unit.empty() || unit == "s") return value;
  if (unit == "ms") return value / 1000;
  if (unit == "m") return value * 60;
  throw std::invalid_argument("bad duration '" + text + "' (use 30s, 500ms, 2m)");
}

// p50 p90 p99 p99.9 max of `values` (sorted here), as one line.
inline std::string percentiles(std::vector<float>& values) {
  if (values.empty()) return "n/a n/a n/a n/a n/a";
  std::sort(values.begin(), values.end());
  const auto at = [&](double q) {
    const auto index = static_cast<std::size_t>(std::ceil(q * static_cast<double>(values.size())));
    return values[std::min(values.size() - 1, index == 0 ? 0 : index - 1)];
  };
  char line[160];
  std::snprintf(line, sizeof(line), "%.2f %.2f %.2f %.2f %.2f", at(0.5), at(0.9), at(0.99),
                at(0.999), values.back());
  return line;
}

// This process's user + system CPU seconds (and each, when asked).
inline double own_cpu_seconds(double* user_out = nullptr, double* system_out = nullptr) {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  const double user = static_cast<double>(usage.ru_utime.tv_sec) + usage.ru_utime.tv_usec / 1e6;
  const double system = static_cast<double>(usage.ru_stime.tv_sec) + usage.ru_stime.tv_usec / 1e6;
  if (user_out != nullptr) *user_out = user;
  if (system_out != nullptr) *system_out = system;
  return user + system;
}

// utime + stime of `pid` in seconds, -1 when unreadable.
inline double cpu_seconds_of(int pid) {
  std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
  std::string text((std::istreambuf_iterator<char>(stat)), std::istreambuf_iterator<char>());
  const auto close_paren = text.rfind(')');
  if (close_paren == std::string::npos) return -1;
  std::istringstream fields(text.substr(close_paren + 2));
  std::string field;
  double ticks = 0;
  for (int index = 3; fields >> field; ++index) {
    if (index == 14 || index == 15) ticks += std::stod(field);
    if (index == 15) break;
  }
  return ticks / static_cast<double>(sysconf(_SC_CLK_TCK));
}

// VmRSS of `pid` in MiB, -1 when unreadable.
inline long rss_mib(int pid) {
  std::ifstream status("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(status, line)) {
    if (line.rfind("VmRSS:", 0) == 0) return std::stol(line.substr(6)) / 1024;
  }
  return -1;
}

}  // namespace gpsrelay::load
