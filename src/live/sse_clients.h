// SseClients: the Server-Sent Events subscribers on one HTTP worker
// thread. Each follows one channel (driver:<id> or order:<id>); the worker
// tells the hub (LiveHub) which channels it follows, receives their
// updates in its mailbox and writes each update's frame, serialised once
// by the hub, to every client of the channel. A client whose socket does
// not take what it is sent (more than kMaxBufferedBytes waiting) is
// dropped, so a slow reader never makes memory grow; a comment line every
// kHeartbeatInterval keeps proxies from closing idle streams and finds
// clients that went away.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "core/event_loop.h"
#include "http/request_handler.h"
#include "http/shared_budget.h"
#include "live/live_hub.h"
#include "live/live_metrics.h"

namespace gpsrelay::live {

inline constexpr std::size_t kMaxBufferedBytes = 256 * 1024;
inline constexpr std::chrono::seconds kHeartbeatInterval{15};

class SseClients {
 public:
  // `clients`: live_max_clients, shared by every worker.
  SseClients(event_base* base, std::size_t worker, LiveHub& hub, LiveMetrics& metrics,
             http::SharedBudget& clients);
  ~SseClients();
  SseClients(const SseClients&) = delete;
  SseClients& operator=(const SseClients&) = delete;

  void start();
  Mailbox& mailbox() { return mailbox_; }

  // Answers `exchange` with an event stream following `channel`; 503 when
  // live_max_clients are connected. Returns the client's id (0 if refused)
  // for send_initial().
  std::uint64_t add(http::Exchange& exchange, const std::string& channel);
  // Ends every stream (the worker drains).
  void end_all();
  // The current state, sent first unless an update got there before it.
  void send_initial(std::uint64_t client, const std::string& frame);

 private:
  struct Client {
    std::unique_ptr<http::ResponseStream> stream;
    std::string channel;
    bool updated = false;
  };

  void deliver(const std::vector<UpdatePtr>& updates);
  void heartbeat();
  // Removes the client: unfollows its channel, ends its stream.
  void remove(std::uint64_t id);
  void remove_doomed();
  bool write(std::uint64_t id, Client& client, std::string_view frame);

  const std::size_t worker_;
  LiveHub& hub_;
  LiveMetrics& metrics_;
  http::SharedBudget& budget_;
  std::uint64_t next_id_ = 1;
  std::unordered_map<std::uint64_t, std::unique_ptr<Client>> clients_;
  std::unordered_map<std::string, std::vector<std::uint64_t>> by_channel_;
  std::vector<std::uint64_t> doomed_;  // removed after the loop over them
  Mailbox mailbox_;
  core::Timer heartbeat_timer_;
  core::CrossThreadTrigger remove_trigger_;
};

}  // namespace gpsrelay::live
