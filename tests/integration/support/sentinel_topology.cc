// SentinelTopology: the data servers are RedisServer instances configured as
// primary and replicas; the sentinels are redis-server in sentinel mode, each
// with a generated sentinel.conf it rewrites (myid, discovered peers).
#include "support/sentinel_topology.h"

#include <hiredis/hiredis.h>

#include <algorithm>
#include <filesystem>
#include <map>
#include <set>
#include <sstream>
#include <stdexcept>

#include "support/child_process.h"
#include "support/eventually.h"
#include "support/ports.h"
#include "support/temp_dir.h"

#ifndef REDIS_SENTINEL_PATH
#define REDIS_SENTINEL_PATH "/usr/bin/redis-sentinel"
#endif

namespace gpsrelay::testing {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

// Startup waits: generous for a loaded 2-core machine; a healthy start takes
// about 1 s for the replicas and 2 s for the sentinels (hello messages go out
// every 2 s).
constexpr milliseconds kReplicasOnlineTimeout = seconds(10);
constexpr milliseconds kSentinelsReadyTimeout = seconds(10);
constexpr milliseconds kSentinelPingTimeout = seconds(5);
// Sentinels and ROLE are polled more slowly than the default: each poll is a
// round trip to every sentinel.
constexpr milliseconds kPollInterval{50};
// Commands to processes that may just have been killed must not hang a poll.
constexpr milliseconds kProbeTimeout{1000};
constexpr std::size_t kLogTail = 4000;

std::string reply_string(const redisReply* reply) {
  if (reply == nullptr || reply->str == nullptr) return {};
  return std::string(reply->str, reply->len);
}

// SENTINEL REPLICAS / SENTINELS answer (in RESP2) one flat name/value array
// per instance.
std::map<std::string, std::string> flat_map(const redisReply* reply) {
  std::map<std::string, std::string> fields;
  if (reply == nullptr || reply->type != REDIS_REPLY_ARRAY) return fields;
  for (std::size_t i = 0; i + 1 < reply->elements; i += 2) {
    fields[reply_string(reply->element[i])] = reply_string(reply->element[i + 1]);
  }
  return fields;
}

std::string tail(const std::string& text) {
  if (text.size() <= kLogTail) return text;
  return "[...]\n" + text.substr(text.size() - kLogTail);
}

// Sentinel mode is chosen by the program name or --sentinel; Debian ships
// redis-sentinel as a symlink to redis-server, so either runs the same code.
std::vector<std::string> sentinel_argv(const std::filesystem::path& config) {
  if (std::filesystem::exists(REDIS_SENTINEL_PATH)) {
    return {REDIS_SENTINEL_PATH, config.string()};
  }
  return {REDIS_SERVER_PATH, config.string(), "--sentinel"};
}

}  // namespace

struct SentinelTopology::Sentinel {
  int port = pick_free_port();
  TempDir dir{"gpsrelay-sentinel"};
  std::filesystem::path log_path = dir.file("sentinel.log");
  // Kept across polls; reconnects by itself after an error.
  RedisClient client{"127.0.0.1", port, {}, kProbeTimeout};
  std::unique_ptr<ChildProcess> process;  // last: killed before `dir` goes

  bool running() { return process && process->running(); }
};

SentinelTopology::SentinelTopology(SentinelTopologyOptions options) : options_(std::move(options)) {
  if (options_.replicas < 1 || options_.sentinels < 1 || options_.quorum < 1 ||
      options_.quorum > options_.sentinels) {
    throw std::invalid_argument("SentinelTopology: bad replica/sentinel/quorum counts");
  }
  // Diskless sync with no delay: a replica's initial sync (and the resync
  // after a failover) is one fork and a socket write instead of waiting 5 s
  // for more replicas and going through an RDB file.
  RedisServerOptions data;
  data.appendfsync = options_.appendfsync;
  data.extra_config = {"repl-diskless-sync yes", "repl-diskless-sync-delay 0"};
  servers_.push_back(std::make_unique<RedisServer>(data));
  const int primary = servers_.front()->port();
  data.extra_config.push_back("replicaof 127.0.0.1 " + std::to_string(primary));
  for (int i = 0; i < options_.replicas; ++i) {
    servers_.push_back(std::make_unique<RedisServer>(data));
  }
  // A sentinel learns the replicas from the primary's INFO, which it sends
  // when it connects and then every info period (10 s until SENTINEL DEBUG
  // below shortens it): start the sentinels once the primary lists every
  // replica, so the first INFO already names them all.
  wait_for_replicas_online();

  for (int i = 0; i < options_.sentinels; ++i) {
    auto sentinel = std::make_unique<Sentinel>();
    const std::string& name = options_.master_name;
    std::ostringstream config;
    config << "port " << sentinel->port << "\n"
           << "bind 127.0.0.1\n"
           << "protected-mode no\n"
           << "daemonize no\n"
           << "supervised no\n"
           << "logfile \"\"\n"
           << "dir " << redis_config_quoted(sentinel->dir.path().string()) << "\n"
           << "sentinel monitor " << name << " 127.0.0.1 " << primary << " " << options_.quorum
           << "\n"
           << "sentinel down-after-milliseconds " << name << " " << options_.down_after.count()
           << "\n"
           << "sentinel failover-timeout " << name << " " << options_.failover_timeout.count()
           << "\n"
           << "sentinel parallel-syncs " << name << " 1\n";
    // Sentinel rewrites this file (its id, the peers it found), so it lives
    // in the sentinel's own writable dir.
    const auto config_path = sentinel->dir.write_file("sentinel.conf", config.str());
    SpawnOptions spawn;
    spawn.argv = sentinel_argv(config_path);
    spawn.drop_env_prefixes = {"NOTIFY_SOCKET", "WATCHDOG_", "LISTEN_"};
    spawn.stdout_path = sentinel->log_path;
    sentinel->process = std::make_unique<ChildProcess>(spawn);
    sentinels_.push_back(std::move(sentinel));
  }
  for (std::size_t i = 0; i < sentinels_.size(); ++i) {
    Sentinel& sentinel = *sentinels_[i];
    const bool up = eventually([&] { return !sentinel.running() || sentinel.client.ping(); },
                               kSentinelPingTimeout);
    if (!up || !sentinel.running()) {
      throw std::runtime_error("sentinel " + std::to_string(i) + " on port " +
                               std::to_string(sentinel.port) +
                               (up ? " exited" : " did not answer PING") + "; logs:\n" + logs());
    }
    std::vector<std::string> debug{"SENTINEL", "DEBUG"};
    if (options_.info_period.count() > 0) {
      debug.insert(debug.end(), {"info-period", std::to_string(options_.info_period.count())});
    }
    if (options_.publish_period.count() > 0) {
      debug.insert(debug.end(),
                   {"publish-period", std::to_string(options_.publish_period.count())});
    }
    if (debug.size() > 2) sentinel.client.command(debug);
  }
  wait_for_sentinels_ready();
}

SentinelTopology::~SentinelTopology() = default;

void SentinelTopology::wait_for_replicas_online() {
  RedisClient primary = servers_.front()->client();
  const auto all_online = [&] {
    try {
      const std::string info = reply_string(primary.command({"INFO", "replication"}).get());
      // One "slaveN:ip=...,port=...,state=online,..." line per replica.
      std::size_t online = 0;
      std::istringstream lines(info);
      for (std::string line; std::getline(lines, line);) {
        if (line.starts_with("slave") && line.find("state=online") != std::string::npos) {
          ++online;
        }
      }
      return online == static_cast<std::size_t>(options_.replicas);
    } catch (const std::exception&) {
      return false;
    }
  };
  if (!eventually(all_online, kReplicasOnlineTimeout, kPollInterval)) {
    throw std::runtime_error("SentinelTopology: the replicas did not come online within " +
                             std::to_string(kReplicasOnlineTimeout.count()) + " ms; logs:\n" +
                             logs());
  }
}

bool SentinelTopology::sentinel_ready(Sentinel& sentinel) {
  try {
    // Every replica known by port, and neither down nor disconnected
    // (flags exactly "slave").
    std::set<int> expected;
    for (std::size_t i = 1; i < servers_.size(); ++i) expected.insert(servers_[i]->port());
    const RedisReplyPtr replicas =
        sentinel.client.command({"SENTINEL", "REPLICAS", options_.master_name});
    std::set<int> healthy;
    for (std::size_t i = 0; i < replicas->elements; ++i) {
      const auto fields = flat_map(replicas->element[i]);
      const auto flags = fields.find("flags");
      const auto port = fields.find("port");
      if (flags == fields.end() || port == fields.end() || flags->second != "slave") continue;
      healthy.insert(std::stoi(port->second));
    }
    if (healthy != expected) return false;
    // The other sentinels found through hello messages, links up: the votes
    // a failover needs.
    const RedisReplyPtr peers =
        sentinel.client.command({"SENTINEL", "SENTINELS", options_.master_name});
    std::size_t connected = 0;
    for (std::size_t i = 0; i < peers->elements; ++i) {
      const auto fields = flat_map(peers->element[i]);
      const auto flags = fields.find("flags");
      if (flags != fields.end() && flags->second == "sentinel") ++connected;
    }
    return connected == sentinels_.size() - 1;
  } catch (const std::exception&) {
    return false;
  }
}

void SentinelTopology::wait_for_sentinels_ready() {
  const bool ready = eventually(
      [&] {
        return std::all_of(sentinels_.begin(), sentinels_.end(),
                           [&](const auto& sentinel) { return sentinel_ready(*sentinel); });
      },
      kSentinelsReadyTimeout, kPollInterval);
  if (!ready) {
    throw std::runtime_error(
        "SentinelTopology: the sentinels did not all find the replicas and each other within " +
        std::to_string(kSentinelsReadyTimeout.count()) + " ms; logs:\n" + logs());
  }
}

std::string SentinelTopology::sentinels_address() const {
  std::string out;
  for (const auto& sentinel : sentinels_) {
    out += (out.empty() ? "" : ",") + std::string("127.0.0.1:") + std::to_string(sentinel->port);
  }
  return out;
}

int SentinelTopology::sentinel_port(int index) const {
  return sentinels_.at(static_cast<std::size_t>(index))->port;
}

RedisClient SentinelTopology::sentinel_client(int index) const {
  return RedisClient("127.0.0.1", sentinel_port(index));
}

bool SentinelTopology::sentinel_running(int index) {
  return sentinels_.at(static_cast<std::size_t>(index))->running();
}

std::optional<int> SentinelTopology::primary_port_reported_by(int index) {
  Sentinel& sentinel = *sentinels_.at(static_cast<std::size_t>(index));
  try {
    const RedisReplyPtr reply =
        sentinel.client.command({"SENTINEL", "GET-MASTER-ADDR-BY-NAME", options_.master_name});
    if (reply->type != REDIS_REPLY_ARRAY || reply->elements != 2) return std::nullopt;
    return std::stoi(reply_string(reply->element[1]));
  } catch (const std::exception&) {
    return std::nullopt;
  }
}

int SentinelTopology::primary_port() {
  for (int i = 0; i < sentinel_count(); ++i) {
    if (!sentinel_running(i)) continue;
    if (const auto port = primary_port_reported_by(i)) return *port;
  }
  throw std::runtime_error("SentinelTopology: no sentinel reports the primary");
}

RedisClient SentinelTopology::primary_client() { return server_on_port(primary_port()).client(); }

RedisServer& SentinelTopology::server_on_port(int port) {
  for (const auto& server : servers_) {
    if (server->port() == port) return *server;
  }
  throw std::out_of_range("SentinelTopology: no data server on port " + std::to_string(port));
}

std::vector<RedisServer*> SentinelTopology::servers() {
  std::vector<RedisServer*> out;
  for (const auto& server : servers_) out.push_back(server.get());
  return out;
}

int SentinelTopology::kill_primary() {
  const int port = primary_port();
  server_on_port(port).kill();
  return port;
}

int SentinelTopology::wait_for_failover(int old_port, milliseconds timeout) {
  int agreed = 0;
  const auto failed_over = [&] {
    std::optional<int> common;
    for (int i = 0; i < sentinel_count(); ++i) {
      if (!sentinel_running(i)) continue;
      const auto port = primary_port_reported_by(i);
      if (!port || *port == old_port || (common && *common != *port)) return false;
      common = port;
    }
    if (!common) return false;
    try {
      RedisClient candidate("127.0.0.1", *common, {}, kProbeTimeout);
      const RedisReplyPtr role = candidate.command({"ROLE"});
      if (role->type != REDIS_REPLY_ARRAY || role->elements == 0 ||
          reply_string(role->element[0]) != "master") {
        return false;
      }
    } catch (const std::exception&) {
      return false;
    }
    agreed = *common;
    return true;
  };
  if (!eventually(failed_over, timeout, kPollInterval)) {
    throw std::runtime_error("SentinelTopology: no failover away from port " +
                             std::to_string(old_port) + " within " +
                             std::to_string(timeout.count()) + " ms; logs:\n" + logs());
  }
  return agreed;
}

void SentinelTopology::kill_sentinel(int index) {
  Sentinel& sentinel = *sentinels_.at(static_cast<std::size_t>(index));
  if (sentinel.process) sentinel.process->kill();
}

void SentinelTopology::restart_server(int port) { server_on_port(port).restart(); }

void SentinelTopology::wait_for_replica(int port, int primary_port, milliseconds timeout) {
  RedisClient replica("127.0.0.1", port, {}, kProbeTimeout);
  const auto replicating = [&] {
    try {
      // ROLE of a replica: ["slave", host, port, state, offset].
      const RedisReplyPtr role = replica.command({"ROLE"});
      return role->type == REDIS_REPLY_ARRAY && role->elements >= 4 &&
             reply_string(role->element[0]) == "slave" &&
             role->element[2]->type == REDIS_REPLY_INTEGER &&
             role->element[2]->integer == primary_port &&
             reply_string(role->element[3]) == "connected";
    } catch (const std::exception&) {
      // Sentinel's reconfiguration kills this connection too; the next
      // command reconnects.
      return false;
    }
  };
  if (!eventually(replicating, timeout, kPollInterval)) {
    throw std::runtime_error("SentinelTopology: port " + std::to_string(port) +
                             " did not become a replica of " + std::to_string(primary_port) +
                             " within " + std::to_string(timeout.count()) + " ms; logs:\n" +
                             logs());
  }
}

std::string SentinelTopology::logs() const {
  std::string out;
  for (const auto& server : servers_) {
    out += "--- redis-server " + std::to_string(server->port()) + " ---\n" + tail(server->log());
  }
  for (const auto& sentinel : sentinels_) {
    out += "--- sentinel " + std::to_string(sentinel->port) + " ---\n" +
           tail(read_file(sentinel->log_path));
  }
  return out;
}

}  // namespace gpsrelay::testing
