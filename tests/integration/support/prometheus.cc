// parse_metrics: line-oriented reader of the Prometheus text format.
#include "support/prometheus.h"

#include <cstdlib>
#include <sstream>

namespace gpsrelay::testing {
namespace {

std::string_view trim(std::string_view text) {
  const auto first = text.find_first_not_of(" \t\r");
  if (first == std::string_view::npos) return {};
  return text.substr(first, text.find_last_not_of(" \t\r") - first + 1);
}

// Parses `{a="x",b="y\"z"}` starting at text[0] == '{'. Returns the position
// after '}', or npos when malformed.
size_t parse_labels(std::string_view text, std::map<std::string, std::string>& labels) {
  size_t pos = 1;
  while (pos < text.size()) {
    while (pos < text.size() && (text[pos] == ' ' || text[pos] == ',')) ++pos;
    if (pos < text.size() && text[pos] == '}') return pos + 1;
    const size_t equals = text.find('=', pos);
    if (equals == std::string_view::npos || equals + 1 >= text.size() || text[equals + 1] != '"') {
      return std::string_view::npos;
    }
    const std::string name(trim(text.substr(pos, equals - pos)));
    std::string value;
    pos = equals + 2;
    while (pos < text.size() && text[pos] != '"') {
      if (text[pos] == '\\' && pos + 1 < text.size()) {
        ++pos;
        value += text[pos] == 'n' ? '\n' : text[pos];
      } else {
        value += text[pos];
      }
      ++pos;
    }
    if (pos >= text.size()) return std::string_view::npos;
    labels[name] = value;
    ++pos;  // closing quote
  }
  return std::string_view::npos;
}

bool parse_sample(std::string_view line, MetricSample& sample) {
  const size_t name_end = line.find_first_of("{ \t");
  if (name_end == std::string_view::npos || name_end == 0) return false;
  sample.name = std::string(line.substr(0, name_end));
  std::string_view rest = line.substr(name_end);
  if (rest.front() == '{') {
    const size_t after = parse_labels(rest, sample.labels);
    if (after == std::string_view::npos) return false;
    rest = rest.substr(after);
  }
  rest = trim(rest);
  const std::string value(rest.substr(0, rest.find_first_of(" \t")));  // drop a timestamp
  if (value.empty()) return false;
  char* end = nullptr;
  sample.value = std::strtod(value.c_str(), &end);  // accepts NaN, +Inf, -Inf
  return end != nullptr && *end == '\0';
}

}  // namespace

std::optional<double> MetricsPage::sum(std::string_view name,
                                       const std::map<std::string, std::string>& labels) const {
  std::optional<double> total;
  for (const auto& sample : samples) {
    if (sample.name != name) continue;
    bool matches = true;
    for (const auto& [key, value] : labels) {
      const auto it = sample.labels.find(key);
      if (it == sample.labels.end() || it->second != value) matches = false;
    }
    if (matches) total = total.value_or(0) + sample.value;
  }
  return total;
}

std::vector<MetricSample> MetricsPage::find(std::string_view name) const {
  std::vector<MetricSample> found;
  for (const auto& sample : samples) {
    if (sample.name == name) found.push_back(sample);
  }
  return found;
}

MetricsPage parse_metrics(std::string_view text) {
  MetricsPage page;
  std::istringstream lines{std::string(text)};
  std::string raw;
  while (std::getline(lines, raw)) {
    const std::string_view line = trim(raw);
    if (line.empty()) continue;
    if (line.front() == '#') {
      std::istringstream words{std::string(line)};
      std::string hash, keyword, family, type;
      words >> hash >> keyword >> family >> type;
      if (keyword == "TYPE" && !family.empty()) page.types[family] = type;
      continue;
    }
    MetricSample sample;
    if (parse_sample(line, sample)) {
      page.samples.push_back(std::move(sample));
    } else {
      page.malformed_lines.emplace_back(line);
    }
  }
  return page;
}

}  // namespace gpsrelay::testing
