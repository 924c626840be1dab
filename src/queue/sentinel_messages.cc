// Sentinel replies and announcements (see sentinel_messages.h).
#include "queue/sentinel_messages.h"

#include <algorithm>
#include <array>
#include <charconv>

namespace gpsrelay::queue {
namespace {

bool usable_host(std::string_view host) {
  return !host.empty() && host.size() <= 255 && std::none_of(host.begin(), host.end(), [](char c) {
    const auto byte = static_cast<unsigned char>(c);
    return byte <= 0x20 || byte == 0x7f;
  });
}

}  // namespace

std::optional<core::Endpoint> sentinel_endpoint(std::string_view host, std::string_view port) {
  if (!usable_host(host)) return std::nullopt;
  unsigned number = 0;
  const auto [end, error] = std::from_chars(port.data(), port.data() + port.size(), number);
  if (port.empty() || error != std::errc{} || end != port.data() + port.size() || number == 0 ||
      number > 65535) {
    return std::nullopt;
  }
  return core::Endpoint{std::string(host), static_cast<std::uint16_t>(number), ""};
}

std::optional<MasterInfo> parse_master_info(std::span<const std::string_view> fields) {
  std::optional<std::string_view> ip;
  std::optional<std::string_view> port;
  std::optional<std::string_view> epoch;
  std::string_view flags;
  for (std::size_t i = 0; i + 1 < fields.size(); i += 2) {
    const std::string_view name = fields[i];
    if (name == "ip") ip = fields[i + 1];
    if (name == "port") port = fields[i + 1];
    if (name == "config-epoch") epoch = fields[i + 1];
    if (name == "flags") flags = fields[i + 1];
  }
  if (!ip || !port || !epoch || epoch->empty()) return std::nullopt;
  std::uint64_t config_epoch = 0;
  const auto [end, error] =
      std::from_chars(epoch->data(), epoch->data() + epoch->size(), config_epoch);
  if (error != std::errc{} || end != epoch->data() + epoch->size()) return std::nullopt;
  auto address = sentinel_endpoint(*ip, *port);
  if (!address) return std::nullopt;
  bool settled = true;
  while (!flags.empty()) {
    const std::size_t comma = flags.find(',');
    const std::string_view flag = flags.substr(0, comma);
    if (flag == "s_down" || flag == "o_down" || flag == "failover_in_progress") settled = false;
    if (comma == std::string_view::npos) break;
    flags.remove_prefix(comma + 1);
  }
  return MasterInfo{std::move(*address), config_epoch, settled};
}

std::optional<SwitchMaster> parse_switch_master(std::string_view payload) {
  std::array<std::string_view, 5> words;
  std::size_t count = 0;
  while (!payload.empty()) {
    const std::size_t space = payload.find(' ');
    const std::string_view word = payload.substr(0, space);
    if (word.empty() || count == words.size()) return std::nullopt;
    words[count++] = word;
    if (space == std::string_view::npos) break;
    payload.remove_prefix(space + 1);
    if (payload.empty()) return std::nullopt;  // a trailing space
  }
  if (count != words.size()) return std::nullopt;
  auto from = sentinel_endpoint(words[1], words[2]);
  auto to = sentinel_endpoint(words[3], words[4]);
  if (!from || !to) return std::nullopt;
  return SwitchMaster{std::string(words[0]), std::move(*from), std::move(*to)};
}

}  // namespace gpsrelay::queue
