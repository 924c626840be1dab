// NotifySocket: a bound AF_UNIX SOCK_DGRAM socket drained by one thread.
#include "support/notify_socket.h"

#include <poll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/un.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <cstring>
#include <system_error>

namespace gpsrelay::testing {

NotifySocket::NotifySocket(std::filesystem::path path) : path_(std::move(path)) {
  sockaddr_un address{};
  address.sun_family = AF_UNIX;
  const std::string text = path_.string();
  if (text.size() >= sizeof(address.sun_path)) {
    throw std::system_error(ENAMETOOLONG, std::generic_category(),
                            "notify socket path (set a shorter TMPDIR): " + text);
  }
  std::memcpy(address.sun_path, text.c_str(), text.size() + 1);
  socket_.reset(::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0));
  if (!socket_.valid()) throw std::system_error(errno, std::generic_category(), "socket");
  if (::bind(socket_.get(), reinterpret_cast<const sockaddr*>(&address), sizeof(address)) != 0) {
    throw std::system_error(errno, std::generic_category(), "bind " + text);
  }
  wakeup_.reset(::eventfd(0, EFD_CLOEXEC));
  if (!wakeup_.valid()) throw std::system_error(errno, std::generic_category(), "eventfd");
  reader_ = std::thread([this] { receive_loop(); });
}

NotifySocket::~NotifySocket() {
  const std::uint64_t one = 1;
  [[maybe_unused]] const ssize_t ignored = ::write(wakeup_.get(), &one, sizeof(one));
  reader_.join();
  std::error_code ignored_error;
  std::filesystem::remove(path_, ignored_error);
}

void NotifySocket::receive_loop() {
  std::vector<char> buffer(64 * 1024);
  while (true) {
    pollfd fds[2] = {{socket_.get(), POLLIN, 0}, {wakeup_.get(), POLLIN, 0}};
    if (::poll(fds, 2, -1) < 0) {
      if (errno == EINTR) continue;
      return;
    }
    if (fds[1].revents != 0) return;
    if ((fds[0].revents & POLLIN) == 0) continue;
    const ssize_t got = ::recv(socket_.get(), buffer.data(), buffer.size(), MSG_DONTWAIT);
    if (got < 0) continue;
    {
      std::lock_guard lock(mutex_);
      messages_.emplace_back(buffer.data(), static_cast<size_t>(got));
    }
    arrived_.notify_all();
  }
}

std::vector<std::string> NotifySocket::messages() const {
  std::lock_guard lock(mutex_);
  return messages_;
}

size_t NotifySocket::size() const {
  std::lock_guard lock(mutex_);
  return messages_.size();
}

std::optional<size_t> NotifySocket::wait_for(std::string_view needle,
                                             std::chrono::milliseconds timeout, size_t from) const {
  std::unique_lock lock(mutex_);
  std::optional<size_t> found;
  arrived_.wait_for(lock, timeout, [&] {
    for (size_t i = from; i < messages_.size(); ++i) {
      if (messages_[i].find(needle) != std::string::npos) {
        found = i;
        return true;
      }
    }
    // Later scans start where this one stopped.
    from = std::max(from, messages_.size());
    return false;
  });
  return found;
}

size_t NotifySocket::count(std::string_view needle, size_t from) const {
  std::lock_guard lock(mutex_);
  size_t matches = 0;
  for (size_t i = from; i < messages_.size(); ++i) {
    if (messages_[i].find(needle) != std::string::npos) ++matches;
  }
  return matches;
}

std::string NotifySocket::describe() const {
  std::string out;
  for (const auto& message : messages()) {
    std::string line;
    for (char c : message) line += (c == '\n') ? std::string("\\n") : std::string(1, c);
    out += "  " + line + "\n";
  }
  return out.empty() ? "  (no notifications)\n" : out;
}

}  // namespace gpsrelay::testing
