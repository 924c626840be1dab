// NotifySocket: the receiving end of sd_notify(3), standing in for systemd.
// It binds an AF_UNIX datagram socket (the path goes into the daemon's
// NOTIFY_SOCKET) and records every datagram on a background thread: the
// kernel queues only a handful of datagrams per socket (net.unix.
// max_dgram_qlen), and a full queue would block the daemon's sd_notify.
// It does not check the sender's credentials.
#pragma once

#include <chrono>
#include <condition_variable>
#include <filesystem>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "support/unique_fd.h"

namespace gpsrelay::testing {

class NotifySocket {
 public:
  // Binds `path` (at most 107 bytes) and starts receiving. Throws
  // std::system_error.
  explicit NotifySocket(std::filesystem::path path);
  // Stops the reader, closes the socket and removes the path.
  ~NotifySocket();

  NotifySocket(const NotifySocket&) = delete;
  NotifySocket& operator=(const NotifySocket&) = delete;

  const std::filesystem::path& path() const { return path_; }

  // Every datagram received so far, in arrival order.
  std::vector<std::string> messages() const;
  size_t size() const;

  // Waits until a datagram with index >= `from` contains `needle` (e.g.
  // "READY=1") and returns its index; nullopt after `timeout`. Pass the
  // index after an earlier match as `from` to wait for the next one.
  std::optional<size_t> wait_for(std::string_view needle, std::chrono::milliseconds timeout,
                                 size_t from = 0) const;

  // How many datagrams with index >= `from` contain `needle`.
  size_t count(std::string_view needle, size_t from = 0) const;

  // The messages, one per line with "\n" shown as "\\n", for failure output.
  std::string describe() const;

 private:
  void receive_loop();

  std::filesystem::path path_;
  UniqueFd socket_;
  UniqueFd wakeup_;  // eventfd that tells the reader to stop
  mutable std::mutex mutex_;
  mutable std::condition_variable arrived_;
  std::vector<std::string> messages_;
  std::thread reader_;
};

}  // namespace gpsrelay::testing
