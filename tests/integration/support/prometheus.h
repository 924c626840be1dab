// A reader for the Prometheus text exposition format (version 0.0.4), enough
// to check gpsrelayd's /metrics: samples with labels, and # TYPE lines. It
// does not validate the format beyond what it needs to read values.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace gpsrelay::testing {

struct MetricSample {
  std::string name;  // including a _bucket/_sum/_count suffix
  std::map<std::string, std::string> labels;
  double value = 0;
};

struct MetricsPage {
  std::vector<MetricSample> samples;
  std::map<std::string, std::string> types;  // metric family -> "counter", "gauge", ...
  std::vector<std::string> malformed_lines;  // lines that are neither comment nor sample

  // Sum over every sample named `name` whose labels include all of
  // `labels`; nullopt when none matches. Summing makes the check indifferent
  // to extra labels (per method, per path) the daemon may add.
  std::optional<double> sum(std::string_view name,
                            const std::map<std::string, std::string>& labels = {}) const;

  // The samples named `name`.
  std::vector<MetricSample> find(std::string_view name) const;
};

MetricsPage parse_metrics(std::string_view text);

}  // namespace gpsrelay::testing
