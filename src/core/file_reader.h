// Reading a whole file of bounded size: the config file, *_file secrets and
// the tokens file.
//
// Owns the checks every such read needs (not a directory, optionally a
// regular file only, not larger than a limit), the descriptor's O_CLOEXEC,
// and the error wording, so that all of them report a bad file alike. It
// does not parse, and it does not name the path in its errors: callers
// prefix their own origin ("gpsrelay.conf: ...", "cannot use
// 'password_file' ...").
#pragma once

#include <cstddef>
#include <stdexcept>
#include <string>

namespace gpsrelay::core {

// A file that cannot be read or is not acceptable. what() is a phrase that
// follows the path: "cannot open: No such file or directory", "is a
// directory", "is not a regular file", "is larger than 64k bytes",
// "cannot read: ...".
class FileReadError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

enum class FileKinds {
  // Anything but a directory: a FIFO or /dev/stdin works, e.g. for a config
  // given through process substitution.
  kAnyButDirectory,
  // Only a regular file. For files read at start-up or on reload without an
  // operator watching, where a FIFO or device would block or never end.
  kRegularOnly,
};

// The contents of the file at `path`, at most `max_bytes` long. Throws
// FileReadError. A regular file larger than the limit is refused before
// anything is read. The contents are read into one buffer reserved up front,
// so for a regular file that does not grow meanwhile the returned string is
// the only copy; any buffer the reader drops itself (on an error, or when a
// growing file needs more room) is wiped first, and stdio buffers nothing.
// So a caller holding secrets can wipe the result and know that no copy is
// left behind in the heap.
std::string read_bounded_file(const std::string& path, std::size_t max_bytes, FileKinds kinds);

}  // namespace gpsrelay::core
