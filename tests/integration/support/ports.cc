// pick_free_port: ask the kernel for an ephemeral port, then release it.
#include "support/ports.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <mutex>
#include <set>
#include <system_error>

namespace gpsrelay::testing {
namespace {

// Closes the probe socket on every path out of pick_free_port.
class ProbeSocket {
 public:
  ProbeSocket() : fd_(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)) {
    if (fd_ < 0) throw std::system_error(errno, std::generic_category(), "socket");
  }
  ~ProbeSocket() { ::close(fd_); }
  ProbeSocket(const ProbeSocket&) = delete;
  ProbeSocket& operator=(const ProbeSocket&) = delete;
  int fd() const { return fd_; }

 private:
  int fd_;
};

int probe_port() {
  ProbeSocket probe;
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  address.sin_port = 0;
  if (::bind(probe.fd(), reinterpret_cast<const sockaddr*>(&address), sizeof(address)) != 0) {
    throw std::system_error(errno, std::generic_category(), "bind 127.0.0.1:0");
  }
  socklen_t length = sizeof(address);
  if (::getsockname(probe.fd(), reinterpret_cast<sockaddr*>(&address), &length) != 0) {
    throw std::system_error(errno, std::generic_category(), "getsockname");
  }
  return ntohs(address.sin_port);
}

}  // namespace

int pick_free_port() {
  // A test that starts Redis and then the daemon picks two ports before
  // either binds; the kernel may offer the same one twice, so remember them.
  static std::mutex mutex;
  static std::set<int> handed_out;
  std::lock_guard lock(mutex);
  for (int attempt = 0; attempt < 100; ++attempt) {
    const int port = probe_port();
    if (handed_out.insert(port).second) return port;
  }
  throw std::system_error(EADDRINUSE, std::generic_category(), "no fresh loopback port");
}

}  // namespace gpsrelay::testing
