// read_bounded_file (see file_reader.h).
#include "core/file_reader.h"

#include <sys/stat.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstring>

#include "core/c_handle.h"
#include "core/units.h"

namespace gpsrelay::core {
namespace {

using FilePtr = CHandle<std::FILE, std::fclose>;

constexpr std::size_t kChunkBytes = 64 * 1024;

std::string errno_text() { return std::strerror(errno); }

// A string whose bytes are overwritten when it is dropped, unless released.
class WipingBuffer {
 public:
  WipingBuffer() = default;
  WipingBuffer(const WipingBuffer&) = delete;
  WipingBuffer& operator=(const WipingBuffer&) = delete;
  ~WipingBuffer() { wipe(bytes_); }

  std::string& bytes() { return bytes_; }

  // Room for `more` bytes after the current ones without a reallocation
  // that would leave an unwiped copy behind.
  void make_room(std::size_t more) {
    if (bytes_.capacity() - bytes_.size() >= more) return;
    std::string bigger;
    bigger.reserve(std::max(2 * bytes_.capacity(), bytes_.size() + more));
    bigger.assign(bytes_);
    wipe(bytes_);
    bytes_.swap(bigger);
  }

  std::string release() { return std::move(bytes_); }

 private:
  static void wipe(std::string& text) { explicit_bzero(text.data(), text.size()); }

  std::string bytes_;
};

}  // namespace

std::string read_bounded_file(const std::string& path, std::size_t max_bytes, FileKinds kinds) {
  // "e" is O_CLOEXEC: a process started by another thread meanwhile must not
  // inherit the descriptor of a secrets file.
  const FilePtr file(std::fopen(path.c_str(), "rbe"));
  if (!file) throw FileReadError("cannot open: " + errno_text());
  // Unbuffered: stdio's buffer would hold a copy of the contents that
  // nobody wipes. Reads are in large chunks, so this costs nothing.
  std::setvbuf(file.get(), nullptr, _IONBF, 0);
  struct stat info {};
  if (fstat(fileno(file.get()), &info) != 0) throw FileReadError("cannot stat: " + errno_text());
  if (S_ISDIR(info.st_mode)) throw FileReadError("is a directory");
  const bool regular = S_ISREG(info.st_mode);
  if (kinds == FileKinds::kRegularOnly && !regular) throw FileReadError("is not a regular file");
  const std::string too_large = "is larger than " + format_size(max_bytes) + " bytes";
  const auto size = static_cast<std::uint64_t>(info.st_size);
  if (regular && size > max_bytes) throw FileReadError(too_large);

  // Read to end of file rather than trusting st_size, which is stale if the
  // file changes while it is read. One chunk of slack past the expected size
  // lets the read that finds end of file land without a reallocation.
  WipingBuffer buffer;
  std::string& text = buffer.bytes();
  text.reserve((regular ? static_cast<std::size_t>(size) : 0) + kChunkBytes);
  for (;;) {
    buffer.make_room(kChunkBytes);
    const std::size_t used = text.size();
    text.resize(used + kChunkBytes);
    const std::size_t n = std::fread(text.data() + used, 1, kChunkBytes, file.get());
    text.resize(used + n);
    if (n < kChunkBytes || text.size() > max_bytes) break;
  }
  if (std::ferror(file.get()) != 0) throw FileReadError("cannot read: " + errno_text());
  if (text.size() > max_bytes) throw FileReadError(too_large);
  return buffer.release();
}

}  // namespace gpsrelay::core
