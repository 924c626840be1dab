// TempDir: a private scratch directory per fixture (configs, logs, sockets,
// Redis data), removed with everything in it when the owner goes away. It does
// not clean up after processes still writing into it: stop those first.
#pragma once

#include <filesystem>
#include <string>
#include <string_view>

namespace gpsrelay::testing {

class TempDir {
 public:
  // Creates `$TMPDIR/<prefix>-XXXXXX` (or under /tmp). Throws
  // std::system_error when it cannot.
  explicit TempDir(std::string_view prefix = "gpsrelay-test");
  ~TempDir();

  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  const std::filesystem::path& path() const { return path_; }

  // The path of `name` inside the directory; does not create it.
  std::filesystem::path file(std::string_view name) const { return path_ / name; }

  // Writes `contents` to `name` inside the directory (replacing it) and
  // returns its path. Throws std::system_error on failure.
  std::filesystem::path write_file(std::string_view name, std::string_view contents) const;

 private:
  std::filesystem::path path_;
};

// The whole content of `path`, or an empty string if it cannot be read (a log
// that was never created reads as empty).
std::string read_file(const std::filesystem::path& path);

}  // namespace gpsrelay::testing
