// RedisServer: a real redis-server on a free loopback port with its own data
// directory, for tests of the queue. It can be killed and brought back on the
// same port and directory, which is how the tests simulate an outage.
// RedisClient: a synchronous hiredis connection for inspecting what the daemon
// wrote. Neither knows anything about gpsrelay's stream layout beyond XRANGE.
#pragma once

#include <hiredis/hiredis.h>

#include <chrono>
#include <csignal>
#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "support/child_process.h"
#include "support/temp_dir.h"

#ifndef REDIS_SERVER_PATH
#define REDIS_SERVER_PATH "/usr/bin/redis-server"
#endif

namespace gpsrelay::testing {

struct RedisContextDeleter {
  void operator()(redisContext* context) const { redisFree(context); }
};
using RedisContextPtr = std::unique_ptr<redisContext, RedisContextDeleter>;

struct RedisReplyDeleter {
  void operator()(redisReply* reply) const { freeReplyObject(reply); }
};
using RedisReplyPtr = std::unique_ptr<redisReply, RedisReplyDeleter>;

// One stream entry as XRANGE returns it.
struct StreamEntry {
  std::string id;
  std::map<std::string, std::string> fields;
};

class RedisClient {
 public:
  // Connects lazily, on the first command, and again after any I/O error,
  // so one client survives a server restart.
  RedisClient(std::string host, int port, std::string password = {},
              std::chrono::milliseconds timeout = std::chrono::seconds(5));

  // Runs one command given as separate binary-safe arguments. Throws
  // std::runtime_error on a connection error or an error reply.
  RedisReplyPtr command(const std::vector<std::string>& args);

  // True when the server answers PING now; never throws.
  bool ping();

  long long xlen(std::string_view stream);
  std::vector<StreamEntry> xrange(std::string_view stream);
  // XADD with an automatic id; returns the id.
  std::string xadd(std::string_view stream, const std::map<std::string, std::string>& fields);

 private:
  void connect();

  std::string host_;
  int port_;
  std::string password_;
  std::chrono::milliseconds timeout_;
  RedisContextPtr context_;
};

// A value for a redis.conf line, quoted: paths may contain spaces (a $TMPDIR).
std::string redis_config_quoted(const std::string& value);

struct RedisServerOptions {
  int port = 0;          // 0: pick a free one
  std::string password;  // sets requirepass when not empty
  std::string appendfsync = "everysec";
  std::vector<std::string> extra_config;  // raw redis.conf lines
};

class RedisServer {
 public:
  // Starts redis-server and waits (5 s) until it answers PING. Throws
  // std::runtime_error, with the server's log, when it does not.
  explicit RedisServer(RedisServerOptions options = {});
  ~RedisServer();

  RedisServer(const RedisServer&) = delete;
  RedisServer& operator=(const RedisServer&) = delete;

  int port() const { return port_; }
  // "127.0.0.1:<port>", the form redis.address takes.
  std::string address() const;
  const std::filesystem::path& dir() const { return dir_.path(); }
  std::string log() const;

  // A fresh client for this server (with the password, if any).
  RedisClient client() const;

  bool running();

  // SIGKILL, like a crash or an OOM kill: clients see their connections drop.
  // The append-only file keeps what was acknowledged.
  void kill();

  // SIGTERM and wait (5 s, then SIGKILL).
  ExitStatus stop();

  // SIGSTOP / SIGCONT: a Redis that stalls (swapping, a long fork, a VM
  // pause) with its connections open and nothing answered.
  void pause() { process_->send_signal(SIGSTOP); }
  void resume() { process_->send_signal(SIGCONT); }

  // Starts the server again on the same port and data directory and waits for
  // PING. REQUIRES: not running.
  void restart();

 private:
  void start();

  RedisServerOptions options_;
  int port_;
  TempDir dir_;
  std::filesystem::path config_path_;
  std::filesystem::path log_path_;
  std::unique_ptr<ChildProcess> process_;
};

}  // namespace gpsrelay::testing
