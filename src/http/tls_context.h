// TLS for the ingest listener: building the server SSL_CTX from the
// configured PEM files. SIGHUP builds a new context and swaps it into the
// slot; connections already open keep the one they started with (each SSL
// holds a reference to its SSL_CTX).
#pragma once

#include <openssl/ssl.h>

#include <memory>
#include <stdexcept>
#include <string>

#include "core/shared_slot.h"

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

// Every thread takes the current context for each new connection.
using TlsContextSlot = core::SharedSlot<SSL_CTX>;

}  // namespace gpsrelay::http
