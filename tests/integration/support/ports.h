// Free loopback TCP ports for servers the tests start (redis-server,
// gpsrelayd, fake upstreams). The kernel picks the port, so parallel test
// processes rarely collide; a port is never handed out twice in one process.
#pragma once

namespace gpsrelay::testing {

// A TCP port on 127.0.0.1 that was free a moment ago. The caller's server must
// bind it soon: nothing reserves it in between. Throws std::system_error.
int pick_free_port();

}  // namespace gpsrelay::testing
