// The tests' WebSocket client (support/ws_client.h) against a small
// in-process WebSocket server written here on wslay's server API, so the
// client is known to work before the daemon's server is pointed at it:
// handshake and accept key, frames behind the 101, text both ways, ping/pong,
// close codes both ways, a 426 answer with its body, and TLS verification.
#include "support/ws_client.h"

#include <gtest/gtest.h>
#include <netinet/in.h>
#include <openssl/ssl.h>
#include <poll.h>
#include <sys/socket.h>
#include <wslay/wslay.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <string>
#include <system_error>
#include <thread>

#include "support/eventually.h"
#include "support/ports.h"
#include "support/test_pki.h"
#include "support/unique_fd.h"

namespace gpsrelay::testing {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

constexpr std::string_view kUpgradeRequiredBody = "This endpoint speaks WebSocket only.\n";

std::string lower(std::string text) {
  for (char& c : text) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return text;
}

struct SslCtxDeleter {
  void operator()(SSL_CTX* context) const { SSL_CTX_free(context); }
};
struct SslDeleter {
  void operator()(SSL* ssl) const { SSL_free(ssl); }
};
struct WslayDeleter {
  void operator()(wslay_event_context* context) const { wslay_event_context_free(context); }
};

// Serves one connection at a time on a thread, by request path:
//   /echo          101, then a "welcome" text frame in the same write as the
//                  101; echoes text messages, except the commands
//                  "close <code>" (close frame with that code, 0 = none) and
//                  "drop" (TCP close without a close frame);
//   /wrong-accept  101 with a wrong Sec-WebSocket-Accept;
//   anything without "Upgrade: websocket": 426 with a body; without a key: 400.
class EchoServer {
 public:
  // With `tls`, speaks TLS with that certificate and key.
  explicit EchoServer(const TestPki::Issued* tls = nullptr) : port_(pick_free_port()) {
    if (tls != nullptr) {
      tls_.reset(SSL_CTX_new(TLS_server_method()));
      if (!tls_ || SSL_CTX_use_certificate_chain_file(tls_.get(), tls->cert.c_str()) != 1 ||
          SSL_CTX_use_PrivateKey_file(tls_.get(), tls->key.c_str(), SSL_FILETYPE_PEM) != 1) {
        throw std::runtime_error("EchoServer: loading the TLS certificate failed");
      }
    }
    listener_.reset(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0));
    const int reuse = 1;
    ::setsockopt(listener_.get(), SOL_SOCKET, SO_REUSEADDR, &reuse, sizeof(reuse));
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    address.sin_port = htons(static_cast<std::uint16_t>(port_));
    if (::bind(listener_.get(), reinterpret_cast<const sockaddr*>(&address), sizeof(address)) !=
            0 ||
        ::listen(listener_.get(), 16) != 0) {
      throw std::system_error(errno, std::generic_category(), "EchoServer: bind/listen");
    }
    thread_ = std::thread([this] { run(); });
  }

  ~EchoServer() {
    stopping_ = true;
    thread_.join();
  }

  EchoServer(const EchoServer&) = delete;
  EchoServer& operator=(const EchoServer&) = delete;

  int port() const { return port_; }

  // The header block of the latest request, as received, each line ending
  // in CRLF.
  std::string last_request() const {
    const std::lock_guard lock(mutex_);
    return last_request_;
  }

  // The code of the latest close frame a client sent (1005 without one), 0
  // before any.
  int client_close_code() const { return client_close_code_.load(); }

 private:
  // One accepted socket, TLS or not; non-blocking, polled with a short
  // timeout so stopping_ is noticed.
  struct Connection {
    UniqueFd fd;
    std::unique_ptr<SSL, SslDeleter> ssl;
    bool drop = false;

    // > 0 bytes; 0 EOF or failure; -1 would block.
    ssize_t read(void* buffer, std::size_t length) {
      if (ssl) {
        const int got = SSL_read(ssl.get(), buffer, static_cast<int>(length));
        if (got > 0) return got;
        const int reason = SSL_get_error(ssl.get(), got);
        return reason == SSL_ERROR_WANT_READ || reason == SSL_ERROR_WANT_WRITE ? -1 : 0;
      }
      const ssize_t got = ::recv(fd.get(), buffer, length, 0);
      if (got >= 0) return got;
      return errno == EAGAIN || errno == EINTR ? -1 : 0;
    }
    // > 0 bytes; 0 failure; -1 would block.
    ssize_t write(const void* data, std::size_t length) {
      if (ssl) {
        const int sent = SSL_write(ssl.get(), data, static_cast<int>(length));
        if (sent > 0) return sent;
        const int reason = SSL_get_error(ssl.get(), sent);
        return reason == SSL_ERROR_WANT_READ || reason == SSL_ERROR_WANT_WRITE ? -1 : 0;
      }
      const ssize_t sent = ::send(fd.get(), data, length, MSG_NOSIGNAL);
      if (sent >= 0) return sent;
      return errno == EAGAIN || errno == EINTR ? -1 : 0;
    }
    bool readable(short events = POLLIN) {
      if (ssl && SSL_pending(ssl.get()) > 0) return true;
      pollfd entry{fd.get(), events, 0};
      return ::poll(&entry, 1, 50) > 0;
    }
    bool write_all(std::string_view bytes) {
      while (!bytes.empty()) {
        const ssize_t sent = write(bytes.data(), bytes.size());
        if (sent == 0) return false;
        if (sent < 0) {
          readable(POLLOUT);
          continue;
        }
        bytes.remove_prefix(static_cast<std::size_t>(sent));
      }
      return true;
    }
  };

  void run() {
    while (!stopping_) {
      pollfd entry{listener_.get(), POLLIN, 0};
      if (::poll(&entry, 1, 50) <= 0) continue;
      UniqueFd accepted(::accept4(listener_.get(), nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC));
      if (!accepted.valid()) continue;
      Connection connection{std::move(accepted), nullptr};
      serve(connection);
    }
  }

  void serve(Connection& connection) {
    if (tls_) {
      connection.ssl.reset(SSL_new(tls_.get()));
      SSL_set_fd(connection.ssl.get(), connection.fd.get());
      while (true) {
        const int done = SSL_accept(connection.ssl.get());
        if (done == 1) break;
        const int reason = SSL_get_error(connection.ssl.get(), done);
        if ((reason != SSL_ERROR_WANT_READ && reason != SSL_ERROR_WANT_WRITE) || stopping_) {
          return;  // e.g. the client rejected our certificate
        }
        connection.readable(reason == SSL_ERROR_WANT_READ ? POLLIN : POLLOUT);
      }
    }
    std::string request;
    char buffer[4096];
    while (request.find("\r\n\r\n") == std::string::npos) {
      if (stopping_) return;
      if (!connection.readable()) continue;
      const ssize_t got = connection.read(buffer, sizeof(buffer));
      if (got == 0) return;
      if (got > 0) request.append(buffer, static_cast<std::size_t>(got));
    }
    const std::string head = request.substr(0, request.find("\r\n\r\n"));
    {
      const std::lock_guard lock(mutex_);
      last_request_ = head + "\r\n";
    }
    std::map<std::string, std::string> headers;
    std::size_t line_start = head.find("\r\n");
    while (line_start != std::string::npos) {
      line_start += 2;
      const std::size_t line_end = head.find("\r\n", line_start);
      const std::string line = head.substr(line_start, line_end - line_start);
      if (const auto colon = line.find(": "); colon != std::string::npos) {
        headers[lower(line.substr(0, colon))] = line.substr(colon + 2);
      }
      line_start = line_end;
    }
    const std::string path = head.substr(4, head.find(' ', 4) - 4);

    if (lower(headers["upgrade"]) != "websocket") {
      connection.write_all(
          "HTTP/1.1 426 Upgrade Required\r\nSec-WebSocket-Version: 13\r\n"
          "Content-Length: " +
          std::to_string(kUpgradeRequiredBody.size()) + "\r\n\r\n" +
          std::string(kUpgradeRequiredBody));
      return;
    }
    if (headers.count("sec-websocket-key") == 0) {
      connection.write_all("HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n");
      return;
    }
    const std::string accept = path == "/wrong-accept"
                                   ? websocket_accept("not the key")
                                   : websocket_accept(headers["sec-websocket-key"]);
    std::string answer =
        "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
        "Sec-WebSocket-Accept: " +
        accept + "\r\n\r\n";
    if (path != "/echo") {
      connection.write_all(answer);
      return;
    }
    echo(connection, std::move(answer));
  }

  struct Session {
    EchoServer* server;
    Connection* connection;
    std::string* corked;  // non-null: frames are appended here, not written
    // A close asked for, queued once the echoes before it are written:
    // wslay sends control frames ahead of queued data, so a close queued at
    // once would overtake them.
    std::optional<int> close_code;
  };

  void echo(Connection& connection, std::string answer) {
    static constexpr wslay_event_callbacks kCallbacks = {
        [](wslay_event_context* context, std::uint8_t* buffer, std::size_t length, int,
           void* user) -> ssize_t {
          const ssize_t got = static_cast<Session*>(user)->connection->read(buffer, length);
          if (got > 0) return got;
          wslay_event_set_error(context,
                                got < 0 ? WSLAY_ERR_WOULDBLOCK : WSLAY_ERR_CALLBACK_FAILURE);
          return -1;
        },
        [](wslay_event_context* context, const std::uint8_t* data, std::size_t length, int,
           void* user) -> ssize_t {
          auto* session = static_cast<Session*>(user);
          if (session->corked != nullptr) {
            session->corked->append(reinterpret_cast<const char*>(data), length);
            return static_cast<ssize_t>(length);
          }
          const ssize_t sent = session->connection->write(data, length);
          if (sent > 0) return sent;
          wslay_event_set_error(context,
                                sent < 0 ? WSLAY_ERR_WOULDBLOCK : WSLAY_ERR_CALLBACK_FAILURE);
          return -1;
        },
        nullptr,
        nullptr,
        nullptr,
        nullptr,
        [](wslay_event_context* context, const wslay_event_on_msg_recv_arg* message, void* user) {
          auto* session = static_cast<Session*>(user);
          if (message->opcode == WSLAY_CONNECTION_CLOSE) {
            session->server->client_close_code_ =
                message->status_code != 0 ? message->status_code : 1005;
            return;
          }
          if (message->opcode != WSLAY_TEXT_FRAME) return;
          const std::string text(reinterpret_cast<const char*>(message->msg), message->msg_length);
          if (text.starts_with("close ")) {
            session->close_code = std::stoi(text.substr(6));
          } else if (text == "drop") {
            session->connection->drop = true;
          } else {
            const wslay_event_msg echo{WSLAY_TEXT_FRAME, message->msg, message->msg_length};
            wslay_event_queue_msg(context, &echo);
          }
        }};
    Session session{this, &connection, &answer, std::nullopt};
    wslay_event_context* raw = nullptr;
    if (wslay_event_context_server_init(&raw, &kCallbacks, &session) != 0) return;
    const std::unique_ptr<wslay_event_context, WslayDeleter> context(raw);

    // The first frame goes out in the same write as the 101, the way a
    // server that sends the current state at once may do it.
    const std::string welcome = "welcome";
    const wslay_event_msg first{
        WSLAY_TEXT_FRAME, reinterpret_cast<const std::uint8_t*>(welcome.data()), welcome.size()};
    wslay_event_queue_msg(context.get(), &first);
    wslay_event_send(context.get());
    session.corked = nullptr;
    if (!connection.write_all(answer)) return;

    while (!stopping_ && !connection.drop &&
           (wslay_event_want_read(context.get()) || wslay_event_want_write(context.get()))) {
      const short events =
          static_cast<short>(POLLIN | (wslay_event_want_write(context.get()) ? POLLOUT : 0));
      if (!connection.readable(events)) continue;
      if (wslay_event_recv(context.get()) != 0 || wslay_event_send(context.get()) != 0) return;
      if (session.close_code && !wslay_event_want_write(context.get())) {
        wslay_event_queue_close(context.get(), static_cast<std::uint16_t>(*session.close_code),
                                nullptr, 0);
        session.close_code.reset();
      }
    }
  }

  const int port_;
  std::unique_ptr<SSL_CTX, SslCtxDeleter> tls_;
  UniqueFd listener_;
  std::atomic<bool> stopping_{false};
  std::atomic<int> client_close_code_{0};
  mutable std::mutex mutex_;
  std::string last_request_;
  std::thread thread_;
};

WsOptions echo_options(const EchoServer& server, std::string path = "/echo") {
  WsOptions options;
  options.port = server.port();
  options.path = std::move(path);
  return options;
}

// RFC 6455 section 1.3's example.
TEST(WsClientTest, AcceptKeyIsTheRfc6455Example) {
  EXPECT_EQ(websocket_accept("dGhlIHNhbXBsZSBub25jZQ=="), "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
}

TEST(WsClientTest, RandomKeysAreSixteenBytesInBase64AndDiffer) {
  const std::string first = random_websocket_key();
  EXPECT_EQ(first.size(), 24u);
  EXPECT_TRUE(first.ends_with("=="));
  EXPECT_NE(first, random_websocket_key());
}

TEST(WsClientTest, HandshakeSendsTheKeyAndChecksTheAnswer) {
  EchoServer server;
  WsOptions options = echo_options(server);
  options.key = "dGhlIHNhbXBsZSBub25jZQ==";
  const auto client = WsClient::connect(options);
  ASSERT_EQ(client->handshake().status, 101) << client->handshake().error;
  EXPECT_EQ(client->handshake().headers.at("sec-websocket-accept"), "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
  EXPECT_TRUE(client->handshake().accept_ok);
  EXPECT_TRUE(client->open());
  const std::string request = server.last_request();
  EXPECT_TRUE(request.starts_with("GET /echo HTTP/1.1\r\n")) << request;
  EXPECT_NE(request.find("\r\nUpgrade: websocket\r\n"), std::string::npos) << request;
  EXPECT_NE(request.find("\r\nConnection: Upgrade\r\n"), std::string::npos) << request;
  EXPECT_NE(request.find("\r\nSec-WebSocket-Version: 13\r\n"), std::string::npos) << request;
  EXPECT_NE(request.find("\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"), std::string::npos)
      << request;
  EXPECT_EQ(request.find("Origin:"), std::string::npos) << request;
}

TEST(WsClientTest, AWrongAcceptKeyLeavesTheClientClosed) {
  EchoServer server;
  const auto client = WsClient::connect(echo_options(server, "/wrong-accept"));
  EXPECT_EQ(client->handshake().status, 101);
  EXPECT_FALSE(client->handshake().accept_ok);
  EXPECT_FALSE(client->open());
  EXPECT_FALSE(client->send_text("x"));
  EXPECT_EQ(client->next_text(milliseconds(100)), std::nullopt);
}

TEST(WsClientTest, HeadersCanBeLeftOutOrAdded) {
  EchoServer server;
  WsOptions options = echo_options(server);
  options.version.clear();
  options.key.clear();
  options.origin = "https://shop.example";
  options.headers = {{"Authorization", "Bearer reader-token"}};
  const auto client = WsClient::connect(options);
  EXPECT_EQ(client->handshake().status, 400);
  EXPECT_FALSE(client->open());
  const std::string request = server.last_request();
  EXPECT_EQ(request.find("Sec-WebSocket-Version"), std::string::npos) << request;
  EXPECT_EQ(request.find("Sec-WebSocket-Key"), std::string::npos) << request;
  EXPECT_NE(request.find("\r\nOrigin: https://shop.example\r\n"), std::string::npos) << request;
  EXPECT_NE(request.find("\r\nAuthorization: Bearer reader-token\r\n"), std::string::npos)
      << request;
}

TEST(WsClientTest, ANonUpgradeAnswerIsReadWithItsBody) {
  EchoServer server;
  WsOptions options = echo_options(server);
  options.upgrade.clear();
  const auto client = WsClient::connect(options);
  EXPECT_EQ(client->handshake().status, 426);
  EXPECT_EQ(client->handshake().headers.at("sec-websocket-version"), "13");
  EXPECT_EQ(client->handshake().body, kUpgradeRequiredBody);
  EXPECT_FALSE(client->open());
  const std::string request = server.last_request();
  EXPECT_EQ(request.find("Upgrade"), std::string::npos) << request;
}

TEST(WsClientTest, AFrameSentWithThe101IsTheFirstMessage) {
  EchoServer server;
  const auto client = WsClient::connect(echo_options(server));
  ASSERT_TRUE(client->open()) << client->handshake().error;
  EXPECT_EQ(client->next_text(seconds(2)), "welcome");
  EXPECT_EQ(client->next_text(milliseconds(100)), std::nullopt);  // nothing more: a timeout
  EXPECT_TRUE(client->open());
}

TEST(WsClientTest, TextMessagesRoundTripInOrder) {
  EchoServer server;
  const auto client = WsClient::connect(echo_options(server));
  ASSERT_EQ(client->next_text(seconds(2)), "welcome");
  // Large enough for a 64-bit length and several partial reads and writes.
  const std::string big(300 * 1024, 'x');
  ASSERT_TRUE(client->send_text("first"));
  ASSERT_TRUE(client->send_text(big));
  ASSERT_TRUE(client->send_text("third"));
  EXPECT_EQ(client->next_text(seconds(2)), "first");
  EXPECT_EQ(client->next_text(seconds(2)), big);
  EXPECT_EQ(client->next_text(seconds(2)), "third");
}

TEST(WsClientTest, APingIsAnsweredWithAPong) {
  EchoServer server;
  const auto client = WsClient::connect(echo_options(server));
  ASSERT_EQ(client->next_text(seconds(2)), "welcome");
  EXPECT_EQ(client->pongs_received(), 0u);
  ASSERT_TRUE(client->send_ping("are you there"));
  // The echo behind the ping arrives after its pong.
  ASSERT_TRUE(client->send_text("after the ping"));
  EXPECT_EQ(client->next_text(seconds(2)), "after the ping");
  EXPECT_EQ(client->pongs_received(), 1u);
}

TEST(WsClientTest, TheServersCloseCodeIsReported) {
  EchoServer server;
  const auto client = WsClient::connect(echo_options(server));
  ASSERT_TRUE(client->open());
  EXPECT_EQ(client->close_code(), std::nullopt);
  ASSERT_TRUE(client->send_text("close 4001"));
  EXPECT_TRUE(client->wait_closed(seconds(2)));
  EXPECT_EQ(client->close_code(), 4001);
  EXPECT_FALSE(client->open());
  EXPECT_EQ(client->next_text(milliseconds(100)), std::nullopt);
  // wslay answered the close frame with the same code.
  EXPECT_TRUE(eventually([&] { return server.client_close_code() == 4001; }, seconds(2)));
}

TEST(WsClientTest, ACloseFrameWithoutCodeIs1005) {
  EchoServer server;
  const auto client = WsClient::connect(echo_options(server));
  ASSERT_TRUE(client->send_text("close 0"));
  EXPECT_TRUE(client->wait_closed(seconds(2)));
  EXPECT_EQ(client->close_code(), 1005);
}

TEST(WsClientTest, AConnectionEndedWithoutCloseFrameIs1006) {
  EchoServer server;
  const auto client = WsClient::connect(echo_options(server));
  ASSERT_TRUE(client->send_text("drop"));
  EXPECT_TRUE(client->wait_closed(seconds(2)));
  EXPECT_EQ(client->close_code(), 1006);
}

TEST(WsClientTest, MessagesBeforeTheCloseAreStillReturned) {
  EchoServer server;
  const auto client = WsClient::connect(echo_options(server));
  ASSERT_TRUE(client->send_text("last words"));
  ASSERT_TRUE(client->send_text("close 1001"));
  EXPECT_EQ(client->next_text(seconds(2)), "welcome");
  EXPECT_EQ(client->next_text(seconds(2)), "last words");
  EXPECT_EQ(client->next_text(seconds(2)), std::nullopt);
  EXPECT_EQ(client->close_code(), 1001);
}

TEST(WsClientTest, TheClientsCloseCodeReachesTheServer) {
  EchoServer server;
  const auto client = WsClient::connect(echo_options(server));
  ASSERT_TRUE(client->open());
  client->close(4000);
  EXPECT_FALSE(client->open());
  EXPECT_EQ(server.client_close_code(), 4000);
  EXPECT_EQ(client->close_code(), 4000);  // the server's answer
}

TEST(WsClientTest, RawBytesGoOutUnframed) {
  EchoServer server;
  const auto client = WsClient::connect(echo_options(server));
  ASSERT_EQ(client->next_text(seconds(2)), "welcome");
  // An unmasked text frame: RFC 6455 requires the server to fail the
  // connection (wslay closes with 1002).
  ASSERT_TRUE(client->send_raw(std::string_view("\x81\x02hi", 4)));
  EXPECT_TRUE(client->wait_closed(seconds(2)));
  EXPECT_EQ(client->close_code(), 1002);
}

TEST(WsClientTest, ARefusedConnectionIsAnErrorNotAnException) {
  WsOptions options;
  options.port = pick_free_port();  // nothing listens there
  const auto client = WsClient::connect(options, seconds(2));
  EXPECT_EQ(client->handshake().status, 0);
  EXPECT_NE(client->handshake().error.find("refused"), std::string::npos)
      << client->handshake().error;
  EXPECT_FALSE(client->open());
  EXPECT_FALSE(client->wait_closed(milliseconds(50)));
}

TEST(WsClientTest, TlsVerifiesTheServerAgainstTheGivenCa) {
  const TestPki pki;
  EchoServer server(&pki.first());
  WsOptions options = echo_options(server);
  options.tls = true;
  options.ca_file = pki.first().ca_cert.string();
  const auto client = WsClient::connect(options);
  ASSERT_TRUE(client->open()) << client->handshake().error;
  EXPECT_EQ(client->next_text(seconds(2)), "welcome");
  ASSERT_TRUE(client->send_text("over tls"));
  EXPECT_EQ(client->next_text(seconds(2)), "over tls");
  client->close();  // the server serves one connection at a time

  options.ca_file = pki.second().ca_cert.string();
  const auto untrusting = WsClient::connect(options);
  EXPECT_EQ(untrusting->handshake().status, 0);
  EXPECT_NE(untrusting->handshake().error.find("certificate"), std::string::npos)
      << untrusting->handshake().error;
}

}  // namespace
}  // namespace gpsrelay::testing
