// A client connection taken over from HTTP after a 101 Switching Protocols
// answer (a WebSocket): raw bytes both ways on the worker's thread, until
// either side closes. The worker's edge (request deadline, in-flight byte
// budget) no longer applies to it; the protocol on top bounds what it
// reads and what it lets wait in output().
#pragma once

#include <event2/buffer.h>

namespace gpsrelay::http {

class UpgradedConnection {
 public:
  // What happens to the connection, on the worker's thread.
  class Events {
   public:
    // Bytes arrived in input().
    virtual void on_readable() = 0;
    // Everything in output() was handed to the socket.
    virtual void on_flushed() = 0;
    // The connection is gone (hang-up, error, close(), the server
    // stopping); called once, possibly from inside close() or a write, so
    // the UpgradedConnection must not be destroyed there and then.
    virtual void on_gone() = 0;

   protected:
    ~Events() = default;
  };

  // Closes the connection if it is still open (without calling on_gone).
  virtual ~UpgradedConnection() = default;
  virtual evbuffer* input() = 0;
  // Written out as the socket takes it.
  virtual evbuffer* output() = 0;
  // Closes at once; what output() still holds is dropped.
  virtual void close() = 0;
  virtual bool open() const = 0;
};

}  // namespace gpsrelay::http
