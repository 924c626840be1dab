// The server side of a WebSocket over wslay (live/ws_protocol.h), fed the
// frames a browser sends (masked, encoded here with wslay's frame API) and
// read back byte by byte.
#include "live/ws_protocol.h"

#include <gtest/gtest.h>
#include <wslay/wslay.h>

#include <string>
#include <vector>

namespace gpsrelay::live {
namespace {

// A client frame: masked, as RFC 6455 requires of clients.
std::string client_frame(std::uint8_t opcode, std::string_view payload, bool fin = true,
                         bool mask = true) {
  std::string out;
  const wslay_frame_callbacks callbacks = {
      [](const uint8_t* data, size_t length, int, void* user) -> ssize_t {
        static_cast<std::string*>(user)->append(reinterpret_cast<const char*>(data), length);
        return static_cast<ssize_t>(length);
      },
      nullptr,
      [](uint8_t* buffer, size_t length, void*) -> int {
        for (size_t i = 0; i < length; ++i) buffer[i] = static_cast<uint8_t>(0x5A + i);
        return 0;
      }};
  wslay_frame_context_ptr context = nullptr;
  EXPECT_EQ(wslay_frame_context_init(&context, &callbacks, &out), 0);
  wslay_frame_iocb frame{};
  frame.fin = fin ? 1 : 0;
  frame.opcode = opcode;
  frame.mask = mask ? 1 : 0;
  frame.payload_length = payload.size();
  frame.data = reinterpret_cast<const uint8_t*>(payload.data());
  frame.data_length = payload.size();
  wslay_frame_send(context, &frame);
  wslay_frame_context_free(context);
  return out;
}

// A frame the server wrote: unmasked, so its header is read directly.
struct ServerFrame {
  std::uint8_t opcode;
  std::string payload;
};

std::vector<ServerFrame> frames_in(std::string bytes) {
  std::vector<ServerFrame> frames;
  while (bytes.size() >= 2) {
    const auto opcode = static_cast<std::uint8_t>(bytes[0] & 0x0F);
    std::size_t length = static_cast<std::uint8_t>(bytes[1]) & 0x7F;
    std::size_t header = 2;
    if (length == 126) {
      length = (static_cast<std::uint8_t>(bytes[2]) << 8) | static_cast<std::uint8_t>(bytes[3]);
      header = 4;
    } else if (length == 127) {
      length = 0;
      for (int i = 0; i < 8; ++i) length = (length << 8) | static_cast<std::uint8_t>(bytes[2 + i]);
      header = 10;
    }
    frames.push_back({opcode, bytes.substr(header, length)});
    bytes.erase(0, header + length);
  }
  return frames;
}

std::uint16_t close_code(const ServerFrame& frame) {
  if (frame.payload.size() < 2) return 0;
  return static_cast<std::uint16_t>((static_cast<std::uint8_t>(frame.payload[0]) << 8) |
                                    static_cast<std::uint8_t>(frame.payload[1]));
}

class WsProtocolTest : public ::testing::Test, public WsProtocol::Wire {
 protected:
  std::size_t read(std::uint8_t* buffer, std::size_t size) override {
    const std::size_t n = std::min(size, in_.size());
    std::copy_n(in_.begin(), n, buffer);
    in_.erase(0, n);
    return n;
  }
  void write(const std::uint8_t* data, std::size_t size) override {
    out_.append(reinterpret_cast<const char*>(data), size);
  }

  std::vector<ServerFrame> receive(const std::string& bytes) {
    in_ += bytes;
    EXPECT_TRUE(protocol_.receive());
    return frames_in(std::exchange(out_, {}));
  }

  std::string in_;
  std::string out_;
  std::vector<std::string> texts_;
  WsProtocol protocol_{*this, 64, [this](std::string_view text) { texts_.emplace_back(text); }};
};

TEST_F(WsProtocolTest, DeliversTextMessagesWholeAcrossFragmentsAndReads) {
  EXPECT_TRUE(receive(client_frame(WSLAY_TEXT_FRAME, "hello")).empty());
  const std::string fragmented = client_frame(WSLAY_TEXT_FRAME, "sub", false) +
                                 client_frame(WSLAY_CONTINUATION_FRAME, "scribe", true);
  // Byte by byte: wslay keeps what it has until a frame is whole.
  for (const char byte : fragmented) receive(std::string(1, byte));
  EXPECT_EQ(texts_, (std::vector<std::string>{"hello", "subscribe"}));
  EXPECT_TRUE(protocol_.take_activity());
  EXPECT_FALSE(protocol_.take_activity());
}

TEST_F(WsProtocolTest, AnswersPingsAndPingsItself) {
  const auto frames = receive(client_frame(WSLAY_PING, "are you there"));
  ASSERT_EQ(frames.size(), 1u);
  EXPECT_EQ(frames[0].opcode, WSLAY_PONG);
  EXPECT_EQ(frames[0].payload, "are you there");
  protocol_.ping();
  const auto ping = frames_in(std::exchange(out_, {}));
  ASSERT_EQ(ping.size(), 1u);
  EXPECT_EQ(ping[0].opcode, WSLAY_PING);
  receive(client_frame(WSLAY_PONG, ""));
  EXPECT_TRUE(protocol_.take_activity());
}

TEST_F(WsProtocolTest, ClientCloseIsAnsweredAndEndsIt) {
  EXPECT_FALSE(protocol_.finished());
  const auto frames = receive(client_frame(WSLAY_CONNECTION_CLOSE, std::string("\x03\xe8", 2)));
  ASSERT_EQ(frames.size(), 1u);
  EXPECT_EQ(frames[0].opcode, WSLAY_CONNECTION_CLOSE);
  EXPECT_EQ(close_code(frames[0]), 1000);
  EXPECT_TRUE(protocol_.finished());
  protocol_.send_frame(encode_text_frame("{}"));  // too late: dropped
  EXPECT_TRUE(out_.empty());
}

TEST_F(WsProtocolTest, ServerCloseWaitsForTheClients) {
  protocol_.close(1001, "server stopping");
  const auto frames = frames_in(std::exchange(out_, {}));
  ASSERT_EQ(frames.size(), 1u);
  EXPECT_EQ(close_code(frames[0]), 1001);
  EXPECT_EQ(frames[0].payload.substr(2), "server stopping");
  EXPECT_TRUE(protocol_.closing());
  EXPECT_FALSE(protocol_.finished());
  receive(client_frame(WSLAY_CONNECTION_CLOSE, std::string("\x03\xe9", 2)));
  EXPECT_TRUE(protocol_.finished());
}

TEST_F(WsProtocolTest, OversizedMessageClosesWith1009) {
  const auto frames = receive(client_frame(WSLAY_TEXT_FRAME, std::string(65, 'x')));
  ASSERT_EQ(frames.size(), 1u);
  EXPECT_EQ(close_code(frames[0]), 1009);
  EXPECT_TRUE(texts_.empty());
}

TEST_F(WsProtocolTest, BinaryMessagesCloseWith1003) {
  const auto frames = receive(client_frame(WSLAY_BINARY_FRAME, "\x01\x02"));
  ASSERT_EQ(frames.size(), 1u);
  EXPECT_EQ(close_code(frames[0]), 1003);
}

TEST_F(WsProtocolTest, UnmaskedClientFrameIsAProtocolError) {
  const auto frames = receive(client_frame(WSLAY_TEXT_FRAME, "hi", true, false));
  ASSERT_EQ(frames.size(), 1u);
  EXPECT_EQ(close_code(frames[0]), 1002);
  EXPECT_TRUE(texts_.empty());
}

TEST_F(WsProtocolTest, SendsTextAndPreEncodedFrames) {
  protocol_.send_text("{\"error\":\"x\"}");
  protocol_.send_frame(encode_text_frame("{\"driver_id\":\"d\"}"));
  const auto frames = frames_in(std::exchange(out_, {}));
  ASSERT_EQ(frames.size(), 2u);
  EXPECT_EQ(frames[0].opcode, WSLAY_TEXT_FRAME);
  EXPECT_EQ(frames[0].payload, "{\"error\":\"x\"}");
  EXPECT_EQ(frames[1].payload, "{\"driver_id\":\"d\"}");
}

TEST(EncodeTextFrameTest, LengthEncodingsAtTheirBoundaries) {
  for (const std::size_t size : {0u, 125u, 126u, 65535u, 65536u}) {
    const std::string payload(size, 'a');
    const std::string frame = encode_text_frame(payload);
    EXPECT_EQ(static_cast<std::uint8_t>(frame[0]), 0x81) << size;      // FIN + text
    EXPECT_EQ(static_cast<std::uint8_t>(frame[1]) & 0x80, 0) << size;  // unmasked
    const auto frames = frames_in(frame);
    ASSERT_EQ(frames.size(), 1u) << size;
    EXPECT_EQ(frames[0].payload.size(), size);
  }
}

}  // namespace
}  // namespace gpsrelay::live
