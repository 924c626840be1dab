// TLS for the ingest listener: building the server SSL_CTX from the
// configured PEM files, and the slot through which every event-loop thread
// picks up the current one for each new connection. SIGHUP builds a new
// context and swaps it in; connections already open keep the one they
// started with (each SSL holds a reference to its SSL_CTX), and a context
// that fails to build never replaces a working one.
#pragma once

#include <openssl/ssl.h>

#include <atomic>
#include <memory>
#include <stdexcept>
#include <string>

namespace gpsrelay::http {

class TlsError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

using SslContextPtr = std::shared_ptr<SSL_CTX>;

struct TlsFiles {
  std::string cert;         // PEM chain, leaf first
  std::string key;          // PEM private key
  std::string min_version;  // "1.2" or "1.3"
};

// A server context with the certificate chain and key loaded and checked
// against each other, TLS >= min_version, forward-secret AEAD ciphers only
// for TLS 1.2, no renegotiation, compression or session tickets. Throws
// TlsError naming the file and OpenSSL's reason.
SslContextPtr load_server_context(const TlsFiles& files);

class TlsContextSlot {
 public:
  explicit TlsContextSlot(SslContextPtr initial) : current_(std::move(initial)) {}

  // Safe from any thread.
  SslContextPtr current() const { return current_.load(std::memory_order_acquire); }
  void replace(SslContextPtr next) { current_.store(std::move(next), std::memory_order_release); }

 private:
  std::atomic<SslContextPtr> current_;
};

}  // namespace gpsrelay::http
