// LiveClients: the live subscribers (WebSocket and Server-Sent Events) on
// one HTTP worker thread. It tells the hub (LiveHub) which channels
// (driver:<id>, order:<id>) its clients follow, receives their updates in
// its mailbox and pushes each to every client following the channel, on
// this thread, with no lock per client. A client that does not take what
// it is sent (more than kMaxBufferedBytes waiting) is dropped, so a slow
// reader never makes memory grow; a keep-alive every kKeepAliveInterval
// finds clients that went away. A new follower of a channel gets the
// channel's current record first, unless an update got there before it.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "core/event_loop.h"
#include "http/request_handler.h"
#include "http/shared_budget.h"
#include "live/live_hub.h"
#include "live/live_metrics.h"
#include "live/subscriber.h"

namespace gpsrelay::live {

inline constexpr std::size_t kMaxBufferedBytes = 256 * 1024;
inline constexpr std::chrono::seconds kKeepAliveInterval{15};
// Channels one WebSocket may follow (the map follows every driver it shows).
inline constexpr std::size_t kMaxChannelsPerClient = 1000;

class LiveClients {
 public:
  // Looks up `channel`'s current record and calls back on this thread
  // with it (nullopt when there is none or it cannot be read).
  using FetchCurrent = std::function<void(const std::string& channel,
                                          std::function<void(std::optional<std::string>)> done)>;

  struct Options {
    std::size_t worker;
    std::vector<std::string> allowed_origins;  // locations.live_origins
  };

  // `budget`: live_max_clients, shared by every worker.
  LiveClients(event_base* base, Options options, LiveHub& hub, LiveMetrics& metrics,
              http::SharedBudget& budget, FetchCurrent fetch_current);
  ~LiveClients();
  LiveClients(const LiveClients&) = delete;
  LiveClients& operator=(const LiveClients&) = delete;

  void start();

  // Answers `exchange` with a live subscription to `channel`: a WebSocket
  // when it asks for an upgrade, an event stream otherwise. 503 over
  // live_max_clients; handshake errors answered 400, 403 or 426.
  void accept_websocket(http::Exchange& exchange, const std::string& channel);
  void accept_event_stream(http::Exchange& exchange, const std::string& channel);

  // For a subscriber's own messages. follow() is false when the client
  // follows kMaxChannelsPerClient channels already.
  bool follow(std::uint64_t id, const std::string& channel);
  void unfollow(std::uint64_t id, const std::string& channel);
  // The client went or must go: removed on the next loop turn, never
  // while one of its own calls is under way.
  void remove_later(std::uint64_t id);
  // Ends every subscription (the worker drains).
  void end_all();

 private:
  struct Followed {
    std::string channel;
    bool updated = false;  // an update came: the current record is stale
  };
  struct Client {
    std::unique_ptr<Subscriber> subscriber;
    std::vector<Followed> channels;
  };

  // Takes one of live_max_clients, or answers 503.
  bool reserve(http::Exchange& exchange);
  void add(std::uint64_t id, std::unique_ptr<Subscriber> subscriber, const std::string& channel);
  void send_current(std::uint64_t id, const std::string& channel,
                    const std::optional<std::string>& record);
  void deliver(const std::vector<UpdatePtr>& updates);
  void keep_alive();
  // Writes through `write` unless the client is too far behind; false
  // (and the client doomed) when it is dropped.
  template <class Write>
  bool write(std::uint64_t id, Client& client, Write&& write);
  // A snapshot: removing a client changes clients_ under a loop over it.
  std::vector<std::uint64_t> client_ids() const;
  // Takes `id` off `channel`'s followers (and the hub's, if it was the last).
  void leave(std::uint64_t id, const std::string& channel);
  void remove(std::uint64_t id);
  void remove_doomed();
  std::atomic<std::int64_t>& gauge(Transport transport);

  const Options options_;
  LiveHub& hub_;
  LiveMetrics& metrics_;
  http::SharedBudget& budget_;
  const FetchCurrent fetch_current_;
  std::uint64_t next_id_ = 1;
  std::unordered_map<std::uint64_t, Client> clients_;
  std::unordered_map<std::string, std::vector<std::uint64_t>> by_channel_;
  std::vector<std::uint64_t> doomed_;  // removed after the loop over them
  Mailbox mailbox_;
  core::Timer keep_alive_timer_;
  core::CrossThreadTrigger remove_trigger_;
};

}  // namespace gpsrelay::live
