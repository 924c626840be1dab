// Listening sockets for the HTTP server. Each event-loop thread binds its
// own socket to the same address with SO_REUSEPORT, so the kernel spreads
// new connections across threads and no accept lock is shared.
#pragma once

#include <cstdint>
#include <string>

#include "core/config.h"

namespace gpsrelay::http {

// An owned file descriptor, closed on destruction.
class UniqueFd {
 public:
  UniqueFd() = default;
  explicit UniqueFd(int fd) : fd_(fd) {}
  ~UniqueFd();
  UniqueFd(UniqueFd&& other) noexcept : fd_(other.release()) {}
  UniqueFd& operator=(UniqueFd&& other) noexcept;
  UniqueFd(const UniqueFd&) = delete;
  UniqueFd& operator=(const UniqueFd&) = delete;

  int get() const { return fd_; }
  int release() {
    const int fd = fd_;
    fd_ = -1;
    return fd;
  }

 private:
  int fd_ = -1;
};

// Binds and listens (non-blocking, SO_REUSEADDR + SO_REUSEPORT).
// Throws std::runtime_error naming the address when that fails.
UniqueFd bind_listener(const core::Endpoint& address);

}  // namespace gpsrelay::http
