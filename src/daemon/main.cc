// gpsrelayd entry point: command line, configuration, and the exit codes of
// the contract (0 clean stop, 1 bad configuration, 2 runtime failure).
#include <curl/curl.h>
#include <getopt.h>

#include <cstdio>
#include <exception>
#include <stdexcept>
#include <string>

#include "core/config.h"
#include "core/event_loop.h"
#include "core/log.h"
#include "daemon/daemon.h"
#include "forward/http_sender.h"
#include "queue/sentinel_query.h"

namespace {

constexpr const char* kDefaultConfigPath = "/etc/gpsrelay/gpsrelay.conf";

void print_usage(std::FILE* out) {
  std::fprintf(out,
               "Usage: gpsrelayd [-c|--config PATH] [--check-config] [--version] [-h|--help]\n"
               "\n"
               "Accepts GPS reports over HTTP and makes each durable in a Redis stream.\n"
               "Runs in the foreground; systemd supervises it.\n"
               "\n"
               "  -c, --config PATH  configuration file (default %s)\n"
               "      --check-config parse and validate, print the effective configuration\n"
               "                     with secrets masked, and exit (0 valid, 1 invalid)\n"
               "      --version      print the version and exit\n"
               "  -h, --help         print this help and exit\n",
               kDefaultConfigPath);
}

}  // namespace

int main(int argc, char** argv) {
  using gpsrelay::daemon::kExitBadConfig;
  using gpsrelay::daemon::kExitClean;
  using gpsrelay::daemon::kExitRuntimeFailure;

  std::string config_path = kDefaultConfigPath;
  bool check_only = false;
  enum { kCheckConfig = 1000, kVersion };
  const option options[] = {{"config", required_argument, nullptr, 'c'},
                            {"check-config", no_argument, nullptr, kCheckConfig},
                            {"version", no_argument, nullptr, kVersion},
                            {"help", no_argument, nullptr, 'h'},
                            {nullptr, 0, nullptr, 0}};
  int opt = 0;
  while ((opt = getopt_long(argc, argv, "c:h", options, nullptr)) != -1) {
    switch (opt) {
      case 'c':
        config_path = optarg;
        break;
      case kCheckConfig:
        check_only = true;
        break;
      case kVersion:
        std::printf("gpsrelayd %s\n", GPSRELAY_VERSION);
        return kExitClean;
      case 'h':
        print_usage(stdout);
        return kExitClean;
      default:
        print_usage(stderr);
        return kExitBadConfig;
    }
  }
  if (optind < argc) {
    std::fprintf(stderr, "gpsrelayd: unexpected argument '%s'\n", argv[optind]);
    return kExitBadConfig;
  }

  // A configuration error: its message, and for --check-config the verdict.
  const auto invalid = [&](const std::string& message) {
    std::fprintf(stderr, "%s\n", message.c_str());
    if (check_only) {
      std::fprintf(stderr, "gpsrelayd: configuration %s is invalid\n", config_path.c_str());
    }
    return kExitBadConfig;
  };

  gpsrelay::core::Config config;
  try {
    config = gpsrelay::core::load_config(config_path, gpsrelay::core::process_environment());
    if (const auto why = gpsrelay::forward::http2_unsupported(
            config.forward.http2, gpsrelay::forward::this_process_curl())) {
      throw gpsrelay::core::ConfigError(config_path, *why);
    }
    if (check_only) {
      // The daemon reads these files at start and on SIGHUP; --check-config
      // reads them now, so a bad certificate or tokens file shows here.
      if (config.http.tls_listen) {
        gpsrelay::http::load_server_context(gpsrelay::daemon::tls_files(config));
      }
      if (config.auth.mode == gpsrelay::core::AuthConfig::Mode::kToken) {
        gpsrelay::auth::TokenStore::load_file(config.auth.tokens_file);
      }
      if (!config.auth.read_tokens_file.empty()) {
        gpsrelay::auth::TokenStore::load_file(config.auth.read_tokens_file);
      }
    }
  } catch (const gpsrelay::core::ConfigError& e) {
    return invalid(e.what());
  } catch (const gpsrelay::http::TlsError& e) {
    return invalid(config_path + ": " + e.what());
  } catch (const gpsrelay::auth::TokenFileError& e) {
    return invalid(e.what());
  }
  if (check_only) {
    std::fputs(gpsrelay::core::render_config(config).c_str(), stdout);
    if (!config.redis.sentinels.empty()) {
      // Not a verdict on the file (the sentinels may be down right now),
      // but what an operator checking a failover setup wants to see.
      try {
        const gpsrelay::queue::ResolvedPrimary primary =
            gpsrelay::queue::resolve_primary(config.redis);
        std::fprintf(stderr, "gpsrelayd: Redis primary '%s' is %s (named by sentinel %s)\n",
                     config.redis.master_name.c_str(), primary.address.to_string().c_str(),
                     primary.sentinel.to_string().c_str());
      } catch (const gpsrelay::queue::SentinelQueryError& e) {
        std::fprintf(stderr, "gpsrelayd: warning: %s\n", e.what());
      }
    }
    std::fprintf(stderr, "gpsrelayd: configuration %s is valid\n", config_path.c_str());
    return kExitClean;
  }

  gpsrelay::daemon::apply_log_config(config.log);
  try {
    gpsrelay::core::enable_libevent_threads();
    gpsrelay::core::route_libevent_log();
    // Before any thread starts: curl_global_init is not thread-safe.
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
      throw std::runtime_error("curl_global_init failed");
    // Loads the TLS certificate and the tokens file (once); a file that
    // does not load is a configuration error, exit 1.
    gpsrelay::daemon::Daemon daemon(config_path, std::move(config));
    return daemon.run();
  } catch (const gpsrelay::http::TlsError& e) {
    return invalid(config_path + ": " + e.what());
  } catch (const gpsrelay::auth::TokenFileError& e) {
    return invalid(e.what());
  } catch (const std::exception& e) {
    gpsrelay::core::log_error("fatal", {{"ERROR", e.what()}});
    return kExitRuntimeFailure;
  }
}
