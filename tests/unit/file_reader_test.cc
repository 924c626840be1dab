// Tests of read_bounded_file (core/file_reader.h): the limits and refusals
// every config, secret and tokens file read relies on. Files are written to
// a fresh temporary directory per test.
#include "core/file_reader.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <string>
#include <thread>

#include "temp_files_test_base.h"

namespace gpsrelay::core {
namespace {

class ReadBoundedFileTest : public testing_support::TempFilesTest {
 protected:
  // The message of the FileReadError reading `path` throws, or a note that
  // it threw none.
  static std::string error_of(const std::string& path, std::size_t max_bytes, FileKinds kinds) {
    try {
      read_bounded_file(path, max_bytes, kinds);
      return "no error";
    } catch (const FileReadError& e) {
      return e.what();
    }
  }
};

TEST_F(ReadBoundedFileTest, ReadsTheWholeFile) {
  const std::string contents(200 * 1024, 'x');  // Several read chunks.
  const std::string path = write("file", contents);
  EXPECT_EQ(read_bounded_file(path, contents.size(), FileKinds::kRegularOnly), contents);
}

TEST_F(ReadBoundedFileTest, AFileAtTheLimitIsReadAndOneByteMoreIsRefused) {
  const std::string at_limit = write("at", std::string(1024, 'a'));
  EXPECT_EQ(read_bounded_file(at_limit, 1024, FileKinds::kRegularOnly).size(), 1024u);
  const std::string over = write("over", std::string(1025, 'a'));
  EXPECT_EQ(error_of(over, 1024, FileKinds::kRegularOnly), "is larger than 1k bytes");
}

TEST_F(ReadBoundedFileTest, AMissingFileSaysWhy) {
  EXPECT_EQ(error_of((dir_ / "missing").string(), 1024, FileKinds::kAnyButDirectory),
            "cannot open: No such file or directory");
}

TEST_F(ReadBoundedFileTest, ADirectoryIsAlwaysRefused) {
  EXPECT_EQ(error_of(dir_.string(), 1024, FileKinds::kAnyButDirectory), "is a directory");
}

TEST_F(ReadBoundedFileTest, ADeviceIsRefusedWhenOnlyRegularFilesMay) {
  EXPECT_EQ(error_of("/dev/null", 1024, FileKinds::kRegularOnly), "is not a regular file");
  EXPECT_EQ(read_bounded_file("/dev/null", 1024, FileKinds::kAnyButDirectory), "");
}

TEST_F(ReadBoundedFileTest, AFifoIsReadToItsEndAndBounded) {
  const std::string path = (dir_ / "fifo").string();
  ASSERT_EQ(mkfifo(path.c_str(), 0600), 0);
  const auto feed = [&path](std::size_t bytes) {
    return std::thread([&path, bytes] {
      const int fd = open(path.c_str(), O_WRONLY);
      if (fd < 0) return;
      const std::string data(bytes, 'f');
      // A short write only means the reader stopped early, which the test sees.
      [[maybe_unused]] const ssize_t written = ::write(fd, data.data(), data.size());
      close(fd);
    });
  };
  std::thread writer = feed(100);
  EXPECT_EQ(read_bounded_file(path, 1024, FileKinds::kAnyButDirectory), std::string(100, 'f'));
  writer.join();
  writer = feed(2048);
  EXPECT_EQ(error_of(path, 1024, FileKinds::kAnyButDirectory), "is larger than 1k bytes");
  writer.join();
}

}  // namespace
}  // namespace gpsrelay::core
