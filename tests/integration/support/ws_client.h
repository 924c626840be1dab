// WsClient: a blocking WebSocket (RFC 6455) client for the integration tests,
// plain or TLS, speaking to one server over one socket. It writes the opening
// handshake itself, so a test can leave out or falsify any header the server
// must check, and hands framing to wslay's client event API (masking, pings,
// close handshake); it never parses frames by hand. Every wait is bounded by a
// timeout given by the caller. Not thread-safe: one test thread drives it.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

// wslay's C types, declared here so the header needs no wslay include.
struct wslay_event_context;
struct wslay_event_on_msg_recv_arg;

namespace gpsrelay::testing {

// A fresh Sec-WebSocket-Key: 16 random bytes (RAND_bytes), base64.
std::string random_websocket_key();

// The Sec-WebSocket-Accept a server must answer for `key`:
// base64(SHA-1(key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11")).
std::string websocket_accept(std::string_view key);

struct WsOptions {
  int port = 0;
  std::string path = "/";  // with the query, e.g. "/api/v1/orders/o1/driver-location?token=x"
  std::string host = "127.0.0.1";
  // TLS, verifying the server's chain against ca_file and its name (or IP
  // address) against `host`.
  bool tls = false;
  std::string ca_file;
  // Each header below is left out of the request when its value is empty,
  // so tests can provoke the server's 400/426 answers.
  std::string version = "13";                // Sec-WebSocket-Version
  std::string key = random_websocket_key();  // Sec-WebSocket-Key
  std::string upgrade = "websocket";         // Upgrade (and with it "Connection: Upgrade")
  std::string origin;                        // Origin
  std::vector<std::pair<std::string, std::string>> headers;  // extra, e.g. Authorization
  // SO_RCVBUF in bytes, set before connecting, to play a slow reader whose
  // window fills quickly; 0 keeps the kernel's default.
  int receive_buffer_bytes = 0;
};

struct WsHandshake {
  int status = 0;                              // 0 when no response arrived
  std::map<std::string, std::string> headers;  // names lower-cased
  std::string body;                            // of a non-101 answer, by Content-Length
  // Sec-WebSocket-Accept matches the key sent.
  bool accept_ok = false;
  // Why no response arrived: connect, TLS or timeout failure. Empty otherwise.
  std::string error;
};

class WsClient {
 public:
  // Connects, sends the opening handshake and reads the answer (status line,
  // headers, and for a non-101 answer the body by Content-Length, or up to
  // EOF without one). Never returns null and never throws for network
  // failures: those are in handshake().error. The socket is open for
  // messages when status is 101 and the accept key is right.
  static std::unique_ptr<WsClient> connect(
      const WsOptions& options, std::chrono::milliseconds timeout = std::chrono::seconds(5));

  ~WsClient();
  WsClient(const WsClient&) = delete;
  WsClient& operator=(const WsClient&) = delete;

  const WsHandshake& handshake() const { return handshake_; }
  bool open() const;

  // The next text message, waiting up to `timeout`. Pings are answered
  // while waiting. nullopt on timeout, or once the connection is closed and
  // every message received before that has been returned.
  std::optional<std::string> next_text(std::chrono::milliseconds timeout);

  // Queue a message and write it out (waiting up to 5 s for the socket).
  // False when the connection is not open or the write failed.
  bool send_text(std::string_view text);
  bool send_ping(std::string_view payload);
  // Writes `bytes` to the socket as they are (through TLS when on): for
  // malformed or unmasked frames. Messages queued before are flushed first.
  bool send_raw(std::string_view bytes);

  // Pongs received so far (answers to send_ping, or unsolicited).
  std::size_t pongs_received() const { return pongs_received_; }

  // Once the server has closed: the code of its close frame, 1005 for a
  // close frame without one, 1006 when the connection ended without a close
  // frame. nullopt while the server has not closed.
  std::optional<std::uint16_t> close_code() const { return close_code_; }

  // Reads, discarding text messages, until the server has closed or
  // `timeout` passes. True when closed.
  bool wait_closed(std::chrono::milliseconds timeout);

  // Sends a close frame with `code` and waits up to 2 s for the server's
  // close frame or EOF. Then the socket is shut.
  void close(std::uint16_t code = 1000);

 private:
  class Stream;
  struct WslayContextDeleter {
    void operator()(::wslay_event_context* context) const;
  };

  WsClient();

  // Handshake steps; false (with handshake_.error set) when they fail.
  bool send_request(const WsOptions& options, std::chrono::steady_clock::time_point deadline);
  bool read_response(std::chrono::steady_clock::time_point deadline);
  void start_framing();

  // One round of I/O: waits until the socket is readable (or buffered data
  // is there) until `deadline`, feeds wslay, writes what wslay queued
  // (pongs, the close answer). False when nothing could be read in time or
  // the connection is finished.
  bool pump(std::chrono::steady_clock::time_point deadline);
  // Writes what wslay has queued, waiting for the socket up to `deadline`.
  bool flush(std::chrono::steady_clock::time_point deadline);
  // Records that the connection is over; the code when the server never sent one.
  void mark_closed();

  // wslay callbacks (user_data is this).
  static ssize_t on_recv(::wslay_event_context* context, std::uint8_t* buffer, std::size_t length,
                         int flags, void* user);
  static ssize_t on_send(::wslay_event_context* context, const std::uint8_t* data,
                         std::size_t length, int flags, void* user);
  static int on_genmask(::wslay_event_context* context, std::uint8_t* buffer, std::size_t length,
                        void* user);
  static void on_message(::wslay_event_context* context,
                         const ::wslay_event_on_msg_recv_arg* message, void* user);

  std::unique_ptr<Stream> stream_;
  std::unique_ptr<::wslay_event_context, WslayContextDeleter> wslay_;
  WsHandshake handshake_;
  // Bytes read behind the handshake's header block (frames the server sent
  // right behind the 101); wslay is fed these before the socket.
  std::string leftover_;
  std::deque<std::string> texts_;
  std::size_t pongs_received_ = 0;
  std::optional<std::uint16_t> close_code_;
  bool finished_ = false;  // no more reading: closed, EOF or error
};

}  // namespace gpsrelay::testing
