// libFuzzer target: what the sentinels say (queue/sentinel_messages.h). A
// sentinel is trusted less than it looks: whoever can publish on its
// +switch-master channel or stand at its address chooses these bytes. The
// input is an announcement, and split at newlines a SENTINEL MASTER field
// list; what is accepted must be an address we can connect to.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>
#include <vector>

#include "queue/sentinel_messages.h"

namespace {

void check(const gpsrelay::core::Endpoint& address) {
  if (address.host.empty() || address.port == 0 || !address.unix_path.empty()) std::abort();
  for (const char c : address.host) {
    if (static_cast<unsigned char>(c) <= 0x20 || c == 0x7f) std::abort();
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  if (const auto change = gpsrelay::queue::parse_switch_master(text)) {
    if (change->master_name.empty()) std::abort();
    check(change->from);
    check(change->to);
  }
  std::vector<std::string_view> fields;
  std::string_view rest = text;
  while (!rest.empty()) {
    const std::size_t newline = rest.find('\n');
    fields.push_back(rest.substr(0, newline));
    if (newline == std::string_view::npos) break;
    rest.remove_prefix(newline + 1);
  }
  if (const auto info = gpsrelay::queue::parse_master_info(fields)) check(info->address);
  return 0;
}
