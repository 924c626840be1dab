// Plain-text tables for people: left-aligned columns separated by two
// spaces, a header row, long cells cut with "…" so a row fits a terminal.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace gpsrelay::ctl {

class Table {
 public:
  explicit Table(std::vector<std::string> headers) : headers_(std::move(headers)) {}

  // Cells beyond the header count are ignored; missing ones are empty.
  void add_row(std::vector<std::string> cells);
  std::string render() const;
  bool empty() const { return rows_.empty(); }

 private:
  std::vector<std::string> headers_;
  std::vector<std::vector<std::string>> rows_;
};

// `text` cut to at most `max` characters (counting UTF-8 code points),
// ending in "…" when cut; control characters (newlines, tabs, escapes)
// become spaces.
std::string truncate_cell(std::string_view text, std::size_t max);

}  // namespace gpsrelay::ctl
