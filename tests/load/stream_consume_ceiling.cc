// stream_consume_ceiling: what Redis itself allows for the consume side of
// the topics benchmark (scripts/bench.sh topics), without gpsrelayd: one
// hiredis connection reads a stream through a consumer group (XREADGROUP
// COUNT n) and acknowledges every entry it read (XACK), pipelining each batch's
// XACK with the next XREADGROUP, until the stream is drained. The entries'
// fields travel to the client as they would to gpsrelayd. It measures the
// ceiling gpsrelayd's consume+ack is compared with; it does not emulate
// gpsrelayd's scripts (visibility timeouts, sessions, dead letters).
//
//   stream_consume_ceiling --port P --stream KEY [--group g] [--count 500]
//
// Prints "key: value" lines: entries read and acked, msg/s, batch latency
// percentiles (ms) and its own CPU.
#include <hiredis/hiredis.h>
#include <sys/resource.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "load_common.h"

namespace {

using gpsrelay::load::percentiles;

using Clock = std::chrono::steady_clock;

struct ContextDeleter {
  void operator()(redisContext* context) const { redisFree(context); }
};
struct ReplyDeleter {
  void operator()(redisReply* reply) const { freeReplyObject(reply); }
};
using ReplyPtr = std::unique_ptr<redisReply, ReplyDeleter>;

double cpu_seconds() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  return static_cast<double>(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec) +
         static_cast<double>(usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) / 1e6;
}

// The next reply of the pipeline; throws with Redis's message on an error.
ReplyPtr next_reply(redisContext* context) {
  void* raw = nullptr;
  if (redisGetReply(context, &raw) != REDIS_OK) {
    throw std::runtime_error(std::string("redis: ") + context->errstr);
  }
  ReplyPtr reply(static_cast<redisReply*>(raw));
  if (reply->type == REDIS_REPLY_ERROR) throw std::runtime_error(reply->str);
  return reply;
}

void append(redisContext* context, const std::vector<std::string>& args) {
  std::vector<const char*> argv;
  std::vector<std::size_t> lengths;
  for (const std::string& a : args) {
    argv.push_back(a.data());
    lengths.push_back(a.size());
  }
  if (redisAppendCommandArgv(context, static_cast<int>(args.size()), argv.data(), lengths.data()) !=
      REDIS_OK) {
    throw std::runtime_error("redisAppendCommandArgv failed");
  }
}

int run(int argc, char** argv) {
  int port = 6379;
  std::string stream;
  std::string group = "ceiling";
  std::string count = "500";
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string flag = argv[i];
    const std::string value = argv[i + 1];
    if (flag == "--port") {
      port = std::stoi(value);
    } else if (flag == "--stream") {
      stream = value;
    } else if (flag == "--group") {
      group = value;
    } else if (flag == "--count") {
      count = value;
    } else {
      throw std::invalid_argument("unknown option " + flag);
    }
  }
  if (stream.empty()) throw std::invalid_argument("--stream is required");
  std::unique_ptr<redisContext, ContextDeleter> context(redisConnect("127.0.0.1", port));
  if (!context || context->err) throw std::runtime_error("cannot connect to Redis");
  redisContext* c = context.get();
  // From the stream's start, as gpsrelayd's groups join at '0'.
  append(c, {"XGROUP", "CREATE", stream, group, "0"});
  next_reply(c);

  const std::vector<std::string> read = {"XREADGROUP", "GROUP",   group,  "c1", "COUNT",
                                         count,        "STREAMS", stream, ">"};
  std::vector<float> batch_ms;
  unsigned long long entries = 0;
  unsigned long long acked = 0;
  const double cpu0 = cpu_seconds();
  const auto start = Clock::now();
  auto sent = start;
  append(c, read);
  bool ack_in_flight = false;
  for (;;) {
    if (ack_in_flight) acked += static_cast<unsigned long long>(next_reply(c)->integer);
    const ReplyPtr reply = next_reply(c);
    const auto now = Clock::now();
    batch_ms.push_back(std::chrono::duration<float, std::milli>(now - sent).count());
    // [[stream, [[id, [field, value…]]…]]], or nil when nothing is new.
    if (reply->type != REDIS_REPLY_ARRAY || reply->elements == 0) break;
    const redisReply* list = reply->element[0]->element[1];
    if (list->elements == 0) break;
    std::vector<std::string> ack = {"XACK", stream, group};
    for (std::size_t i = 0; i < list->elements; ++i) {
      const redisReply* id = list->element[i]->element[0];
      ack.emplace_back(id->str, id->len);
    }
    entries += list->elements;
    append(c, ack);
    append(c, read);
    ack_in_flight = true;
    sent = Clock::now();
  }
  const double seconds = std::chrono::duration<double>(Clock::now() - start).count();
  std::printf("entries_read: %llu\n", entries);
  std::printf("entries_acked: %llu\n", acked);
  std::printf("seconds: %.2f\n", seconds);
  std::printf("msg_per_s: %.0f\n", static_cast<double>(acked) / seconds);
  std::printf("batch_latency_ms p50 p90 p99 p99.9 max: %s\n", percentiles(batch_ms).c_str());
  std::printf("client_cpu_percent: %.1f\n", 100 * (cpu_seconds() - cpu0) / seconds);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  try {
    return run(argc, argv);
  } catch (const std::exception& error) {
    std::fprintf(stderr, "stream_consume_ceiling: %s\n", error.what());
    return 2;
  }
}
