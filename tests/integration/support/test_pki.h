// TestPki: certificates for the TLS tests, made with the openssl CLI in a
// temp dir: two independent CAs and, for each, a server certificate for
// 127.0.0.1/localhost signed by it, plus files that are not certificates.
#pragma once

#include <filesystem>
#include <string>

#include "support/temp_dir.h"

namespace gpsrelay::testing {

class TestPki {
 public:
  // Throws std::runtime_error with openssl's output when a step fails.
  TestPki();

  struct Issued {
    std::filesystem::path ca_cert;
    std::filesystem::path cert;  // server certificate for 127.0.0.1 and localhost
    std::filesystem::path key;
  };
  const Issued& first() const { return first_; }
  const Issued& second() const { return second_; }
  // A PEM file whose content is garbage.
  const std::filesystem::path& broken_cert() const { return broken_cert_; }
  const std::filesystem::path& dir() const { return dir_.path(); }

 private:
  Issued issue(const std::string& name);

  TempDir dir_;
  Issued first_;
  Issued second_;
  std::filesystem::path broken_cert_;
};

}  // namespace gpsrelay::testing
