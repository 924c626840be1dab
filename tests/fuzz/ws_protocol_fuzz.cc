// libFuzzer target: the WebSocket frame path of a live subscriber
// (live/ws_protocol.h over wslay). Whatever a client sends, in whatever
// pieces, the server reads it without crashing, delivers only messages
// within the size limit, and what it writes back is whole frames.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>

#include "live/client_message.h"
#include "live/ws_protocol.h"

namespace {

constexpr std::size_t kMaxMessage = 256;

class StringWire final : public gpsrelay::live::WsProtocol::Wire {
 public:
  StringWire(const std::uint8_t* data, std::size_t size) : data_(data), size_(size) {}
  std::size_t read(std::uint8_t* buffer, std::size_t size) override {
    // Short reads, as a socket gives them: the first byte sets the size.
    const std::size_t step = 1 + (size_ > 0 ? data_[0] % 64 : 0);
    const std::size_t n = std::min({size, size_, step});
    std::copy_n(data_, n, buffer);
    data_ += n;
    size_ -= n;
    return n;
  }
  void write(const std::uint8_t* data, std::size_t size) override {
    written_.append(reinterpret_cast<const char*>(data), size);
  }
  bool drained() const { return size_ == 0; }

 private:
  const std::uint8_t* data_;
  std::size_t size_;
  std::string written_;
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  StringWire wire(data, size);
  gpsrelay::live::WsProtocol protocol(wire, kMaxMessage, [](std::string_view text) {
    if (text.size() > kMaxMessage) std::abort();
    // What a subscriber does with each message.
    gpsrelay::live::parse_client_message(text);
  });
  while (!wire.drained()) {
    if (!protocol.receive() || protocol.finished()) break;
    protocol.send_frame(gpsrelay::live::encode_text_frame("{\"driver_id\":\"d\"}"));
  }
  protocol.ping();
  protocol.close(1001, "bye");
  return 0;
}
