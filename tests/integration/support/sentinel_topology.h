// SentinelTopology: a real Redis HA setup on loopback for failover tests: one
// redis-server primary, its replicas, and Redis Sentinel processes
// monitoring it, each in its own temp dir on a free port. It owns all of
// these processes (killed when it goes away) and knows which ones it started;
// who the primary is *now* it asks the sentinels, as the daemon does.
//
// Timing on loopback with the defaults (down-after 2 s, the shortened
// sentinel periods below), as measured: start under 1 s; every sentinel
// reports the new primary about 3.2-3.8 s after the primary is SIGKILLed; a
// restarted old primary is made a replica about 2 s after it is back (10 s
// with Sentinel's own periods). Sentinel turns a server into a replica, or
// a replica into the primary, with SLAVEOF + CONFIG REWRITE + CLIENT KILL
// TYPE normal/pubsub: the clients connected to it are disconnected. Until
// then a restarted old primary takes writes as a primary, and loses them when
// it resyncs.
#pragma once

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "support/redis_server.h"

namespace gpsrelay::testing {

struct SentinelTopologyOptions {
  int replicas = 2;
  int sentinels = 3;
  int quorum = 2;
  std::string master_name = "gpsrelay-test";
  // Sentinel's down-after-milliseconds: how long the primary must not answer
  // before a sentinel considers it down; most of the failover time.
  // 2 s, not 1: a sentinel reconnects to a new primary at most once a
  // second, counted from the switch, so with 1 s it may find the healthy new
  // primary "down" and fail over a second time (seen in 2 of 7 bench runs).
  std::chrono::milliseconds down_after{2000};
  // Sentinel's failover-timeout: also the pause before a sentinel retries an
  // election that failed (twice this), so it bounds the worst failover time.
  std::chrono::milliseconds failover_timeout{3000};
  std::string appendfsync = "everysec";  // for the data servers
  // Sentinel's internal periods, which only SENTINEL DEBUG can set (not the
  // config file); zero keeps Sentinel's own. info_period: how often a
  // sentinel sends INFO to each instance (10 s by default; it learns replicas
  // and role changes from it). publish_period: how often it sends hello
  // messages (2 s by default; sentinels find each other and a new
  // configuration through them), and a quarter of how long a restarted old
  // primary must stay up before sentinel makes it a replica. With Sentinel's
  // own values that takes about 10 s; with these about 2 s. The failover
  // itself is driven by down_after and the 1 s ping and ask periods, which
  // are left alone; only the sentinels other than the leader learn of it
  // sooner (they lag the leader by up to one publish period).
  std::chrono::milliseconds info_period{1000};
  std::chrono::milliseconds publish_period{500};
};

class SentinelTopology {
 public:
  // Starts the primary, then the replicas (`replicaof` the primary), waits
  // until the primary reports them all online, then starts the sentinels and
  // waits until every sentinel knows all replicas and all other sentinels, so
  // a failover can happen from then on. Throws std::runtime_error, with the
  // logs, when that does not happen in 10 s for the replicas and 10 s for
  // the sentinels.
  explicit SentinelTopology(SentinelTopologyOptions options = {});
  ~SentinelTopology();

  SentinelTopology(const SentinelTopology&) = delete;
  SentinelTopology& operator=(const SentinelTopology&) = delete;

  // "127.0.0.1:p1,127.0.0.1:p2,...": the form the daemon's [redis] sentinels
  // key takes. Includes killed sentinels: their ports stay reserved.
  std::string sentinels_address() const;
  const std::string& master_name() const { return options_.master_name; }

  // The primary as the first sentinel that answers reports it (SENTINEL
  // get-master-addr-by-name). Throws std::runtime_error when none answers.
  int primary_port();
  RedisClient primary_client();

  // A data server (primary or replica) by port; throws std::out_of_range for
  // a port that is not one of them.
  RedisServer& server_on_port(int port);
  // All data servers in start order: the first one is the initial primary.
  std::vector<RedisServer*> servers();

  int sentinel_count() const { return static_cast<int>(sentinels_.size()); }
  int sentinel_port(int index) const;
  // A fresh client for sentinel `index` (0-based).
  RedisClient sentinel_client(int index) const;
  bool sentinel_running(int index);
  // The primary's port as sentinel `index` reports it; nullopt when it does
  // not answer.
  std::optional<int> primary_port_reported_by(int index);

  // SIGKILLs the current primary (as the sentinels report it); returns its
  // port. Its data dir stays, so restart_server() can bring it back.
  int kill_primary();

  // Waits until every running sentinel reports the same primary, other than
  // `old_port`, and that server answers ROLE with "master"; returns its port.
  // The other replicas may still be resyncing to it then. Throws
  // std::runtime_error, with the logs, on timeout.
  int wait_for_failover(int old_port, std::chrono::milliseconds timeout = std::chrono::seconds(20));

  // SIGKILLs sentinel `index`.
  void kill_sentinel(int index);

  // Brings a killed data server back on the same port and data dir with the
  // config it last had (sentinel rewrites the configs of servers it
  // reconfigures). An old primary comes back as a primary with its own data;
  // sentinel turns it into a replica of the current primary about 2 s later
  // (see the top of this file). Waits for PING only.
  void restart_server(int port);

  // Waits until the server on `port` answers ROLE as a replica of
  // 127.0.0.1:`primary_port` with the link up ("connected", so the initial
  // sync is done). Throws std::runtime_error, with the logs, on timeout.
  void wait_for_replica(int port, int primary_port,
                        std::chrono::milliseconds timeout = std::chrono::seconds(30));

  // The last part of every process's log, labelled, for failure messages.
  std::string logs() const;

 private:
  struct Sentinel;

  void wait_for_replicas_online();
  void wait_for_sentinels_ready();
  bool sentinel_ready(Sentinel& sentinel);

  SentinelTopologyOptions options_;
  std::vector<std::unique_ptr<RedisServer>> servers_;
  // Declared last: destroyed first, so no sentinel reconfigures the data
  // servers while they are being torn down.
  std::vector<std::unique_ptr<Sentinel>> sentinels_;
};

}  // namespace gpsrelay::testing
