// WsClient: the opening handshake written and parsed here (tests need to
// falsify it), frames through wslay's client event API over a non-blocking
// socket (optionally OpenSSL), and every wait a poll() against a deadline.
#include "support/ws_client.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <openssl/sha.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <wslay/wslay.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstring>
#include <stdexcept>

#include "support/header_text.h"
#include "support/unique_fd.h"

namespace gpsrelay::testing {
namespace {

using Clock = std::chrono::steady_clock;
using TimePoint = Clock::time_point;

constexpr std::chrono::milliseconds kSendTimeout{5000};
constexpr std::chrono::milliseconds kCloseTimeout{2000};
// A handshake answer larger than this is not one the tests expect.
constexpr std::size_t kMaxHeaderBytes = 64 * 1024;

int remaining_ms(TimePoint deadline) {
  const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
  return static_cast<int>(std::max<std::int64_t>(left.count(), 0));
}

std::string base64(const unsigned char* data, std::size_t length) {
  std::string out(4 * ((length + 2) / 3) + 1, '\0');
  const int written =
      EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()), data, static_cast<int>(length));
  out.resize(static_cast<std::size_t>(written));
  return out;
}

std::string openssl_errors() {
  std::string text;
  while (const unsigned long code = ERR_get_error()) {
    char line[256];
    ERR_error_string_n(code, line, sizeof(line));
    if (!text.empty()) text += "; ";
    text += line;
  }
  return text;
}

struct SslCtxDeleter {
  void operator()(SSL_CTX* context) const { SSL_CTX_free(context); }
};
struct SslDeleter {
  void operator()(SSL* ssl) const { SSL_free(ssl); }
};

}  // namespace

std::string random_websocket_key() {
  unsigned char bytes[16];
  if (RAND_bytes(bytes, sizeof(bytes)) != 1) throw std::runtime_error("RAND_bytes failed");
  return base64(bytes, sizeof(bytes));
}

std::string websocket_accept(std::string_view key) {
  const std::string input = std::string(key) + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";
  unsigned char digest[SHA_DIGEST_LENGTH];
  SHA1(reinterpret_cast<const unsigned char*>(input.data()), input.size(), digest);
  return base64(digest, sizeof(digest));
}

// A connected non-blocking TCP socket, with TLS on top when asked. read and
// write never block: they answer kWouldBlock and say (wanted()) which poll
// event lets them go on, which for TLS may be the other direction.
class WsClient::Stream {
 public:
  static constexpr ssize_t kWouldBlock = -1;
  static constexpr ssize_t kFailed = -2;

  // Connects (and completes the TLS handshake) by `deadline`; null with
  // `error` set when that fails.
  static std::unique_ptr<Stream> open(const WsOptions& options, TimePoint deadline,
                                      std::string& error) {
    auto stream = std::unique_ptr<Stream>(new Stream());
    if (!stream->connect_tcp(options, deadline, error)) return nullptr;
    if (options.tls && !stream->connect_tls(options, deadline, error)) return nullptr;
    return stream;
  }

  // > 0: bytes read; 0: orderly EOF; kWouldBlock; kFailed (reset, TLS error).
  ssize_t read(void* buffer, std::size_t length) {
    if (ssl_) {
      const int got = SSL_read(ssl_.get(), buffer, static_cast<int>(length));
      if (got > 0) return got;
      return tls_outcome(got);
    }
    while (true) {
      const ssize_t got = ::recv(fd_.get(), buffer, length, 0);
      if (got >= 0) return got;
      if (errno == EINTR) continue;
      wanted_ = POLLIN;
      return errno == EAGAIN || errno == EWOULDBLOCK ? kWouldBlock : kFailed;
    }
  }

  // > 0: bytes written; kWouldBlock; kFailed.
  ssize_t write(const void* data, std::size_t length) {
    if (ssl_) {
      const int sent = SSL_write(ssl_.get(), data, static_cast<int>(length));
      if (sent > 0) return sent;
      return tls_outcome(sent);
    }
    while (true) {
      // MSG_NOSIGNAL: a server that hung up fails the write instead of
      // killing the test binary.
      const ssize_t sent = ::send(fd_.get(), data, length, MSG_NOSIGNAL);
      if (sent >= 0) return sent;
      if (errno == EINTR) continue;
      wanted_ = POLLOUT;
      return errno == EAGAIN || errno == EWOULDBLOCK ? kWouldBlock : kFailed;
    }
  }

  // Writes all of `bytes` by `deadline`.
  bool write_all(std::string_view bytes, TimePoint deadline) {
    while (!bytes.empty()) {
      const ssize_t sent = write(bytes.data(), bytes.size());
      if (sent == kFailed) return false;
      if (sent == kWouldBlock) {
        if (!wait(deadline)) return false;
        continue;
      }
      bytes.remove_prefix(static_cast<std::size_t>(sent));
    }
    return true;
  }

  // Decrypted bytes OpenSSL holds that poll() cannot see.
  bool buffered() const { return ssl_ && SSL_pending(ssl_.get()) > 0; }

  // Waits for the event the last kWouldBlock asked for. False on timeout.
  bool wait(TimePoint deadline) { return wait_for(wanted_, deadline); }

  bool wait_for(short events, TimePoint deadline) {
    while (true) {
      pollfd entry{fd_.get(), events, 0};
      const int ready = ::poll(&entry, 1, remaining_ms(deadline));
      if (ready > 0) return true;  // POLLERR/POLLHUP too: the next call sees the failure
      if (ready == 0) return false;
      if (errno != EINTR) return false;
    }
  }

  // Read interest, for waiting on incoming data when nothing is pending.
  void want_read() { wanted_ = POLLIN; }

 private:
  Stream() = default;

  bool connect_tcp(const WsOptions& options, TimePoint deadline, std::string& error) {
    addrinfo hints{};
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_NUMERICSERV;
    addrinfo* found = nullptr;
    const std::string port = std::to_string(options.port);
    if (const int status = ::getaddrinfo(options.host.c_str(), port.c_str(), &hints, &found);
        status != 0) {
      error = "resolve " + options.host + ": " + gai_strerror(status);
      return false;
    }
    const std::unique_ptr<addrinfo, void (*)(addrinfo*)> owner(found, ::freeaddrinfo);
    fd_.reset(::socket(found->ai_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0));
    if (!fd_.valid()) {
      error = std::string("socket: ") + std::strerror(errno);
      return false;
    }
    if (options.receive_buffer_bytes > 0) {
      // Before connect, so the advertised window is small from the start.
      ::setsockopt(fd_.get(), SOL_SOCKET, SO_RCVBUF, &options.receive_buffer_bytes,
                   sizeof(options.receive_buffer_bytes));
    }
    const int no_delay = 1;
    ::setsockopt(fd_.get(), IPPROTO_TCP, TCP_NODELAY, &no_delay, sizeof(no_delay));
    const std::string where = options.host + ":" + port;
    if (::connect(fd_.get(), found->ai_addr, found->ai_addrlen) != 0 && errno != EINPROGRESS) {
      error = "connect " + where + ": " + std::strerror(errno);
      return false;
    }
    if (!wait_for(POLLOUT, deadline)) {
      error = "connect " + where + ": timed out";
      return false;
    }
    int socket_error = 0;
    socklen_t length = sizeof(socket_error);
    ::getsockopt(fd_.get(), SOL_SOCKET, SO_ERROR, &socket_error, &length);
    if (socket_error != 0) {
      error = "connect " + where + ": " + std::strerror(socket_error);
      return false;
    }
    return true;
  }

  bool connect_tls(const WsOptions& options, TimePoint deadline, std::string& error) {
    // OpenSSL writes with write(2), which raises SIGPIPE when the server has
    // gone; no test wants to die of that.
    static const bool sigpipe_ignored = [] { return ::signal(SIGPIPE, SIG_IGN) != SIG_ERR; }();
    static_cast<void>(sigpipe_ignored);

    context_.reset(SSL_CTX_new(TLS_client_method()));
    if (!context_) {
      error = "SSL_CTX_new: " + openssl_errors();
      return false;
    }
    SSL_CTX_set_verify(context_.get(), SSL_VERIFY_PEER, nullptr);
    const int loaded =
        options.ca_file.empty()
            ? SSL_CTX_set_default_verify_paths(context_.get())
            : SSL_CTX_load_verify_locations(context_.get(), options.ca_file.c_str(), nullptr);
    if (loaded != 1) {
      error = "load CA " + options.ca_file + ": " + openssl_errors();
      return false;
    }
    ssl_.reset(SSL_new(context_.get()));
    if (!ssl_ || SSL_set_fd(ssl_.get(), fd_.get()) != 1) {
      error = "SSL_new: " + openssl_errors();
      return false;
    }
    // Verify the name the client dialled: an IP address against the
    // certificate's IP SANs, a host name against its DNS names (and as SNI).
    in6_addr scratch{};
    const bool is_ip = ::inet_pton(AF_INET, options.host.c_str(), &scratch) == 1 ||
                       ::inet_pton(AF_INET6, options.host.c_str(), &scratch) == 1;
    if (is_ip) {
      X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl_.get()), options.host.c_str());
    } else {
      SSL_set1_host(ssl_.get(), options.host.c_str());
      SSL_set_tlsext_host_name(ssl_.get(), options.host.c_str());
    }
    while (true) {
      const int done = SSL_connect(ssl_.get());
      if (done == 1) return true;
      const int reason = SSL_get_error(ssl_.get(), done);
      short events = 0;
      if (reason == SSL_ERROR_WANT_READ) events = POLLIN;
      if (reason == SSL_ERROR_WANT_WRITE) events = POLLOUT;
      if (events == 0) {
        const long verify = SSL_get_verify_result(ssl_.get());
        error = "TLS handshake: " + openssl_errors();
        if (verify != X509_V_OK)
          error += std::string(" (") + X509_verify_cert_error_string(verify) + ")";
        return false;
      }
      if (!wait_for(events, deadline)) {
        error = "TLS handshake: timed out";
        return false;
      }
    }
  }

  // Maps a failed SSL_read/SSL_write to kWouldBlock (setting wanted_), EOF
  // or kFailed.
  ssize_t tls_outcome(int result) {
    switch (SSL_get_error(ssl_.get(), result)) {
      case SSL_ERROR_WANT_READ:
        wanted_ = POLLIN;
        return kWouldBlock;
      case SSL_ERROR_WANT_WRITE:
        wanted_ = POLLOUT;
        return kWouldBlock;
      case SSL_ERROR_ZERO_RETURN:
        return 0;
      case SSL_ERROR_SYSCALL:
        ERR_clear_error();
        // A TCP EOF without close_notify: the server went away, for the
        // tests the same as an orderly EOF.
        return result == 0 || errno == 0 ? 0 : kFailed;
      default:
        ERR_clear_error();
        return kFailed;
    }
  }

  UniqueFd fd_;
  std::unique_ptr<SSL_CTX, SslCtxDeleter> context_;
  std::unique_ptr<SSL, SslDeleter> ssl_;
  short wanted_ = POLLIN;
};

void WsClient::WslayContextDeleter::operator()(::wslay_event_context* context) const {
  wslay_event_context_free(context);
}

WsClient::WsClient() = default;
WsClient::~WsClient() = default;

std::unique_ptr<WsClient> WsClient::connect(const WsOptions& options,
                                            std::chrono::milliseconds timeout) {
  auto client = std::unique_ptr<WsClient>(new WsClient());
  const TimePoint deadline = Clock::now() + timeout;
  client->stream_ = Stream::open(options, deadline, client->handshake_.error);
  if (!client->stream_) {
    client->finished_ = true;
    return client;
  }
  if (!client->send_request(options, deadline) || !client->read_response(deadline)) {
    client->finished_ = true;
    return client;
  }
  client->handshake_.accept_ok =
      client->handshake_.headers.count("sec-websocket-accept") != 0 &&
      client->handshake_.headers.at("sec-websocket-accept") == websocket_accept(options.key);
  if (client->handshake_.status == 101 && client->handshake_.accept_ok) {
    client->start_framing();
  } else {
    client->finished_ = true;
  }
  return client;
}

bool WsClient::send_request(const WsOptions& options, TimePoint deadline) {
  std::string request = "GET " + options.path + " HTTP/1.1\r\n";
  request += "Host: " + options.host + ":" + std::to_string(options.port) + "\r\n";
  if (!options.upgrade.empty()) {
    request += "Upgrade: " + options.upgrade + "\r\nConnection: Upgrade\r\n";
  }
  if (!options.version.empty()) request += "Sec-WebSocket-Version: " + options.version + "\r\n";
  if (!options.key.empty()) request += "Sec-WebSocket-Key: " + options.key + "\r\n";
  if (!options.origin.empty()) request += "Origin: " + options.origin + "\r\n";
  for (const auto& [name, value] : options.headers) {
    request.append(name).append(": ").append(value).append("\r\n");
  }
  request += "\r\n";
  if (!stream_->write_all(request, deadline)) {
    handshake_.error = "sending the handshake failed";
    return false;
  }
  return true;
}

bool WsClient::read_response(TimePoint deadline) {
  std::string data;
  char buffer[16 * 1024];
  bool eof = false;
  // Reads once more into `data`; false on EOF, failure or timeout.
  const auto read_more = [&]() {
    while (true) {
      const ssize_t got = stream_->read(buffer, sizeof(buffer));
      if (got > 0) {
        data.append(buffer, static_cast<std::size_t>(got));
        return true;
      }
      if (got == 0) eof = true;
      if (got != Stream::kWouldBlock) return false;
      if (!stream_->wait(deadline)) return false;
    }
  };

  std::size_t end_of_headers;
  while ((end_of_headers = data.find("\r\n\r\n")) == std::string::npos) {
    if (data.size() > kMaxHeaderBytes || !read_more()) {
      handshake_.error = eof ? "connection closed before the handshake answer"
                             : "no complete handshake answer in time";
      return false;
    }
  }
  const std::string_view head = std::string_view(data).substr(0, end_of_headers);
  const std::string_view status_line = head.substr(0, head.find("\r\n"));
  if (!status_line.starts_with("HTTP/1.") || status_line.size() < 12) {
    handshake_.error = "not an HTTP answer: " + std::string(status_line);
    return false;
  }
  try {
    handshake_.status = std::stoi(std::string(status_line.substr(9, 3)));
  } catch (const std::exception&) {
    handshake_.error = "bad status line: " + std::string(status_line);
    return false;
  }
  std::size_t line_start = head.find("\r\n");
  while (line_start != std::string_view::npos) {
    line_start += 2;
    const std::size_t line_end = head.find("\r\n", line_start);
    const std::string_view line = head.substr(line_start, line_end - line_start);
    if (const auto colon = line.find(':'); colon != std::string_view::npos) {
      auto [it, inserted] = handshake_.headers.emplace(lower(trim(line.substr(0, colon))),
                                                       std::string(trim(line.substr(colon + 1))));
      if (!inserted) it->second += ", " + std::string(trim(line.substr(colon + 1)));
    }
    line_start = line_end;
  }
  std::string rest = data.substr(end_of_headers + 4);

  if (handshake_.status == 101) {
    // Whatever came with the 101 is already the server's first frames.
    leftover_ = std::move(rest);
    return true;
  }
  const auto length_field = handshake_.headers.find("content-length");
  if (length_field != handshake_.headers.end()) {
    std::size_t length = 0;
    try {
      length = std::stoul(length_field->second);
    } catch (const std::exception&) {
      handshake_.body = std::move(rest);
      return true;
    }
    data = std::move(rest);
    while (data.size() < length && read_more()) {
    }
    handshake_.body = data.substr(0, std::min(length, data.size()));
  } else {
    // No length: the body runs to EOF (or as far as arrived by the deadline).
    data = std::move(rest);
    while (read_more()) {
    }
    handshake_.body = std::move(data);
  }
  return true;
}

void WsClient::start_framing() {
  static constexpr wslay_event_callbacks kCallbacks = {
      &WsClient::on_recv,   &WsClient::on_send, &WsClient::on_genmask, nullptr, nullptr, nullptr,
      &WsClient::on_message};
  ::wslay_event_context* context = nullptr;
  if (wslay_event_context_client_init(&context, &kCallbacks, this) != 0) {
    throw std::runtime_error("wslay_event_context_client_init failed");
  }
  wslay_.reset(context);
}

bool WsClient::open() const {
  return wslay_ != nullptr && !finished_ && !wslay_event_get_close_sent(wslay_.get());
}

ssize_t WsClient::on_recv(::wslay_event_context* context, std::uint8_t* buffer, std::size_t length,
                          int /*flags*/, void* user) {
  auto* self = static_cast<WsClient*>(user);
  if (!self->leftover_.empty()) {
    const std::size_t taken = std::min(length, self->leftover_.size());
    std::copy_n(self->leftover_.data(), taken, buffer);
    self->leftover_.erase(0, taken);
    return static_cast<ssize_t>(taken);
  }
  const ssize_t got = self->stream_->read(buffer, length);
  if (got > 0) return got;
  if (got == Stream::kWouldBlock) {
    wslay_event_set_error(context, WSLAY_ERR_WOULDBLOCK);
  } else {
    // EOF or reset: wslay_event_recv fails, and pump() ends the connection.
    wslay_event_set_error(context, WSLAY_ERR_CALLBACK_FAILURE);
  }
  return -1;
}

ssize_t WsClient::on_send(::wslay_event_context* context, const std::uint8_t* data,
                          std::size_t length, int /*flags*/, void* user) {
  auto* self = static_cast<WsClient*>(user);
  const ssize_t sent = self->stream_->write(data, length);
  if (sent > 0) return sent;
  wslay_event_set_error(
      context, sent == Stream::kWouldBlock ? WSLAY_ERR_WOULDBLOCK : WSLAY_ERR_CALLBACK_FAILURE);
  return -1;
}

int WsClient::on_genmask(::wslay_event_context* /*context*/, std::uint8_t* buffer,
                         std::size_t length, void* /*user*/) {
  return RAND_bytes(buffer, static_cast<int>(length)) == 1 ? 0 : -1;
}

void WsClient::on_message(::wslay_event_context* /*context*/,
                          const ::wslay_event_on_msg_recv_arg* message, void* user) {
  auto* self = static_cast<WsClient*>(user);
  switch (message->opcode) {
    case WSLAY_TEXT_FRAME:
      self->texts_.emplace_back(reinterpret_cast<const char*>(message->msg), message->msg_length);
      break;
    case WSLAY_PONG:
      ++self->pongs_received_;
      break;
    case WSLAY_CONNECTION_CLOSE:
      // 0 means the frame had no code; RFC 6455 reports that as 1005.
      self->close_code_ = message->status_code != 0 ? message->status_code
                                                    : std::uint16_t{WSLAY_CODE_NO_STATUS_RCVD};
      break;
    default:
      break;  // binary messages: the server never sends them; not recorded
  }
}

void WsClient::mark_closed() {
  finished_ = true;
  if (!close_code_) close_code_ = WSLAY_CODE_ABNORMAL_CLOSURE;
}

bool WsClient::flush(TimePoint deadline) {
  while (wslay_event_want_write(wslay_.get())) {
    if (wslay_event_send(wslay_.get()) != 0) {
      mark_closed();
      return false;
    }
    if (!wslay_event_want_write(wslay_.get())) break;
    if (!stream_->wait(deadline)) return false;
  }
  return true;
}

bool WsClient::pump(TimePoint deadline) {
  if (finished_ || !wslay_) return false;
  if (leftover_.empty() && !stream_->buffered()) {
    stream_->want_read();
    if (!stream_->wait(deadline)) return false;
  }
  if (wslay_event_recv(wslay_.get()) != 0) {
    mark_closed();
    return false;
  }
  // Answers wslay queued while reading: pongs, the reply to a close.
  flush(Clock::now() + kSendTimeout);
  if (close_code_ || !wslay_event_want_read(wslay_.get())) {
    finished_ = true;
    if (!close_code_) close_code_ = WSLAY_CODE_ABNORMAL_CLOSURE;
  }
  return true;
}

std::optional<std::string> WsClient::next_text(std::chrono::milliseconds timeout) {
  const TimePoint deadline = Clock::now() + timeout;
  while (texts_.empty()) {
    if (!pump(deadline)) break;
  }
  if (texts_.empty()) return std::nullopt;
  std::string text = std::move(texts_.front());
  texts_.pop_front();
  return text;
}

bool WsClient::send_text(std::string_view text) {
  if (!open()) return false;
  const wslay_event_msg message{WSLAY_TEXT_FRAME,
                                reinterpret_cast<const std::uint8_t*>(text.data()), text.size()};
  if (wslay_event_queue_msg(wslay_.get(), &message) != 0) return false;
  return flush(Clock::now() + kSendTimeout);
}

bool WsClient::send_ping(std::string_view payload) {
  if (!open()) return false;
  const wslay_event_msg message{WSLAY_PING, reinterpret_cast<const std::uint8_t*>(payload.data()),
                                payload.size()};
  if (wslay_event_queue_msg(wslay_.get(), &message) != 0) return false;
  return flush(Clock::now() + kSendTimeout);
}

bool WsClient::send_raw(std::string_view bytes) {
  if (!stream_) return false;
  const TimePoint deadline = Clock::now() + kSendTimeout;
  if (wslay_ && !flush(deadline)) return false;
  return stream_->write_all(bytes, deadline);
}

bool WsClient::wait_closed(std::chrono::milliseconds timeout) {
  const TimePoint deadline = Clock::now() + timeout;
  while (!finished_ && Clock::now() < deadline) {
    texts_.clear();
    pump(deadline);
  }
  texts_.clear();
  return finished_ && close_code_.has_value();
}

void WsClient::close(std::uint16_t code) {
  if (open() && wslay_event_queue_close(wslay_.get(), code, nullptr, 0) == 0) {
    const TimePoint deadline = Clock::now() + kCloseTimeout;
    flush(deadline);
    while (!finished_ && Clock::now() < deadline) pump(deadline);
  }
  finished_ = true;
  stream_.reset();
}

}  // namespace gpsrelay::testing
