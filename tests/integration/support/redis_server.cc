// RedisServer and RedisClient: redis-server as a child process with a
// generated config, and the hiredis calls the tests inspect it with.
#include "support/redis_server.h"

#include <signal.h>
#include <sys/time.h>

#include <sstream>
#include <stdexcept>

#include "support/eventually.h"
#include "support/ports.h"

namespace gpsrelay::testing {
namespace {

timeval to_timeval(std::chrono::milliseconds timeout) {
  timeval tv{};
  tv.tv_sec = static_cast<time_t>(timeout.count() / 1000);
  tv.tv_usec = static_cast<suseconds_t>((timeout.count() % 1000) * 1000);
  return tv;
}

std::string reply_string(const redisReply* reply) {
  if (reply == nullptr || reply->str == nullptr) return {};
  return std::string(reply->str, reply->len);
}

}  // namespace

std::string redis_config_quoted(const std::string& value) {
  std::string out = "\"";
  for (char c : value) {
    if (c == '"' || c == '\\') out += '\\';
    out += c;
  }
  return out + "\"";
}

RedisClient::RedisClient(std::string host, int port, std::string password,
                         std::chrono::milliseconds timeout)
    : host_(std::move(host)), port_(port), password_(std::move(password)), timeout_(timeout) {}

void RedisClient::connect() {
  context_.reset(redisConnectWithTimeout(host_.c_str(), port_, to_timeval(timeout_)));
  if (!context_) throw std::runtime_error("redis: cannot allocate a context");
  if (context_->err != 0) {
    const std::string message = context_->errstr;
    context_.reset();
    throw std::runtime_error("redis " + host_ + ":" + std::to_string(port_) + ": " + message);
  }
  redisSetTimeout(context_.get(), to_timeval(timeout_));
  if (!password_.empty()) command({"AUTH", password_});
}

RedisReplyPtr RedisClient::command(const std::vector<std::string>& args) {
  if (!context_ || context_->err != 0) connect();
  std::vector<const char*> argv;
  std::vector<size_t> lengths;
  for (const auto& arg : args) {
    argv.push_back(arg.data());
    lengths.push_back(arg.size());
  }
  RedisReplyPtr reply(static_cast<redisReply*>(redisCommandArgv(
      context_.get(), static_cast<int>(argv.size()), argv.data(), lengths.data())));
  if (!reply) {
    // hiredis leaves the context unusable after an I/O error; the next
    // command reconnects.
    const std::string message = context_->errstr;
    context_.reset();
    throw std::runtime_error("redis " + (args.empty() ? "" : args[0]) + ": " + message);
  }
  if (reply->type == REDIS_REPLY_ERROR) {
    throw std::runtime_error("redis " + args[0] + ": " + reply_string(reply.get()));
  }
  return reply;
}

bool RedisClient::ping() {
  try {
    const RedisReplyPtr reply = command({"PING"});
    return reply->type == REDIS_REPLY_STATUS && reply_string(reply.get()) == "PONG";
  } catch (const std::exception&) {
    return false;
  }
}

long long RedisClient::xlen(std::string_view stream) {
  const RedisReplyPtr reply = command({"XLEN", std::string(stream)});
  if (reply->type != REDIS_REPLY_INTEGER) throw std::runtime_error("XLEN: not an integer");
  return reply->integer;
}

std::vector<StreamEntry> RedisClient::xrange(std::string_view stream) {
  const RedisReplyPtr reply = command({"XRANGE", std::string(stream), "-", "+"});
  if (reply->type != REDIS_REPLY_ARRAY) throw std::runtime_error("XRANGE: not an array");
  std::vector<StreamEntry> entries;
  for (size_t i = 0; i < reply->elements; ++i) {
    const redisReply* item = reply->element[i];
    if (item->type != REDIS_REPLY_ARRAY || item->elements != 2) {
      throw std::runtime_error("XRANGE: malformed entry");
    }
    StreamEntry entry;
    entry.id = reply_string(item->element[0]);
    const redisReply* fields = item->element[1];
    for (size_t f = 0; f + 1 < fields->elements; f += 2) {
      entry.fields[reply_string(fields->element[f])] = reply_string(fields->element[f + 1]);
    }
    entries.push_back(std::move(entry));
  }
  return entries;
}

std::string RedisClient::xadd(std::string_view stream,
                              const std::map<std::string, std::string>& fields) {
  std::vector<std::string> args{"XADD", std::string(stream), "*"};
  for (const auto& [name, value] : fields) {
    args.push_back(name);
    args.push_back(value);
  }
  return reply_string(command(args).get());
}

RedisServer::RedisServer(RedisServerOptions options)
    : options_(std::move(options)),
      port_(options_.port != 0 ? options_.port : pick_free_port()),
      dir_("gpsrelay-redis") {
  config_path_ = dir_.file("redis.conf");
  log_path_ = dir_.file("redis.log");
  std::ostringstream config;
  config << "bind 127.0.0.1\n"
         << "port " << port_ << "\n"
         << "dir " << redis_config_quoted(dir_.path().string()) << "\n"
         << "daemonize no\n"
         << "supervised no\n"
         << "protected-mode no\n"
         << "logfile \"\"\n"
         << "save \"\"\n"
         << "appendonly yes\n"
         << "appendfsync " << options_.appendfsync << "\n";
  if (!options_.password.empty())
    config << "requirepass " << redis_config_quoted(options_.password) << "\n";
  for (const auto& line : options_.extra_config) config << line << "\n";
  dir_.write_file("redis.conf", config.str());
  start();
}

RedisServer::~RedisServer() = default;

std::string RedisServer::address() const { return "127.0.0.1:" + std::to_string(port_); }

std::string RedisServer::log() const { return read_file(log_path_); }

RedisClient RedisServer::client() const {
  return RedisClient("127.0.0.1", port_, options_.password);
}

bool RedisServer::running() { return process_ && process_->running(); }

void RedisServer::start() {
  SpawnOptions spawn;
  spawn.argv = {REDIS_SERVER_PATH, config_path_.string()};
  spawn.drop_env_prefixes = {"NOTIFY_SOCKET", "WATCHDOG_", "LISTEN_"};
  spawn.stdout_path = log_path_;
  process_ = std::make_unique<ChildProcess>(spawn);

  RedisClient probe("127.0.0.1", port_, options_.password, std::chrono::milliseconds(500));
  bool exited = false;
  const bool answered = eventually(
      [&] {
        if (!process_->running()) {
          exited = true;
          return true;
        }
        return probe.ping();
      },
      std::chrono::seconds(5));
  if (!answered || exited) {
    const std::string why = exited ? "exited with " + process_->exit_status()->describe()
                                   : "did not answer PING within 5 s";
    process_->kill();
    throw std::runtime_error("redis-server on port " + std::to_string(port_) + " " + why +
                             "; log:\n" + log());
  }
}

void RedisServer::kill() {
  if (process_) process_->kill();
}

ExitStatus RedisServer::stop() {
  if (!process_) return {};
  process_->send_signal(SIGTERM);
  if (auto status = process_->wait_for(std::chrono::seconds(5))) return *status;
  return process_->kill();
}

void RedisServer::restart() {
  if (running()) throw std::logic_error("RedisServer::restart while running");
  start();
}

}  // namespace gpsrelay::testing
