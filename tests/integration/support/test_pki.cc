// TestPki (see test_pki.h).
#include "support/test_pki.h"

#include <chrono>
#include <stdexcept>
#include <vector>

#include "support/child_process.h"

namespace gpsrelay::testing {
namespace {

void openssl(const std::vector<std::string>& args, const std::filesystem::path& scratch) {
  SpawnOptions spawn;
  spawn.argv = {"openssl"};
  spawn.argv.insert(spawn.argv.end(), args.begin(), args.end());
  const CommandResult result = run_command(spawn, scratch, std::chrono::seconds(30));
  if (!result.status || !result.status->exited_with(0)) {
    std::string command = "openssl";
    for (const auto& arg : args) command += " " + arg;
    throw std::runtime_error(command + " failed:\n" + result.out + result.err);
  }
}

}  // namespace

TestPki::TestPki() : dir_("gpsrelay-pki") {
  first_ = issue("first");
  second_ = issue("second");
  broken_cert_ = dir_.write_file("broken.pem",
                                 "-----BEGIN CERTIFICATE-----\nnot base64 at all\n"
                                 "-----END CERTIFICATE-----\n");
}

TestPki::Issued TestPki::issue(const std::string& name) {
  const auto path = [&](const std::string& suffix) { return dir_.file(name + suffix).string(); };
  Issued issued{path("-ca.pem"), path("-server.pem"), path("-server.key")};
  // EC P-256 keys: quick to generate, and what a modern deployment uses.
  openssl({"req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
           "-keyout", path("-ca.key"), "-out", issued.ca_cert.string(), "-days", "2", "-subj",
           "/CN=gpsrelay test CA " + name, "-addext", "basicConstraints=critical,CA:TRUE",
           "-addext", "keyUsage=critical,keyCertSign,cRLSign"},
          dir_.path());
  openssl({"req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout",
           issued.key.string(), "-out", path("-server.csr"), "-subj", "/CN=gpsrelay " + name},
          dir_.path());
  dir_.write_file(name + "-ext.cnf",
                  "subjectAltName=IP:127.0.0.1,DNS:localhost\n"
                  "extendedKeyUsage=serverAuth\n");
  openssl({"x509", "-req", "-in", path("-server.csr"), "-CA", issued.ca_cert.string(), "-CAkey",
           path("-ca.key"), "-CAcreateserial", "-out", issued.cert.string(), "-days", "2",
           "-extfile", path("-ext.cnf")},
          dir_.path());
  return issued;
}

}  // namespace gpsrelay::testing
