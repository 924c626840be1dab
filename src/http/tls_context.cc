// load_server_context (see tls_context.h).
#include "http/tls_context.h"

#include <openssl/err.h>

#include "core/openssl_error.h"

namespace gpsrelay::http {
namespace {

// TLS 1.2 suites of Mozilla's "intermediate" profile: ECDHE key exchange
// with AES-GCM or ChaCha20-Poly1305. TLS 1.3 suites are OpenSSL's defaults.
constexpr const char* kTls12Ciphers =
    "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:"
    "ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:"
    "ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305";

}  // namespace

SslContextPtr load_server_context(const TlsFiles& files) {
  ERR_clear_error();
  SslContextPtr ctx(SSL_CTX_new(TLS_server_method()), &SSL_CTX_free);
  if (!ctx) throw TlsError("cannot create a TLS context: " + core::drain_openssl_errors());
  const int min_version = files.min_version == "1.3" ? TLS1_3_VERSION : TLS1_2_VERSION;
  SSL_CTX_set_min_proto_version(ctx.get(), min_version);
  SSL_CTX_set_options(ctx.get(),
                      SSL_OP_NO_RENEGOTIATION | SSL_OP_NO_COMPRESSION | SSL_OP_NO_TICKET);
  // Idle keep-alive connections from many devices: give buffers back.
  SSL_CTX_set_mode(ctx.get(), SSL_MODE_RELEASE_BUFFERS);
  if (SSL_CTX_set_cipher_list(ctx.get(), kTls12Ciphers) != 1) {
    throw TlsError("cannot set the TLS 1.2 ciphers: " + core::drain_openssl_errors());
  }
  if (SSL_CTX_use_certificate_chain_file(ctx.get(), files.cert.c_str()) != 1) {
    throw TlsError("http.tls_cert " + files.cert + ": " + core::drain_openssl_errors());
  }
  if (SSL_CTX_use_PrivateKey_file(ctx.get(), files.key.c_str(), SSL_FILETYPE_PEM) != 1) {
    throw TlsError("http.tls_key " + files.key + ": " + core::drain_openssl_errors());
  }
  if (SSL_CTX_check_private_key(ctx.get()) != 1) {
    throw TlsError("http.tls_key " + files.key + " does not match the certificate in " +
                   files.cert + ": " + core::drain_openssl_errors());
  }
  return ctx;
}

}  // namespace gpsrelay::http
