// grpc_events_load: the gRPC load client for the entity events benchmark
// (scripts/bench.sh events, phase grpc-100; issue 14). Debian packages no
// ghz or grpcurl, so this is ours. It keeps --calls unary
// gpsrelay.events.v1.EventService/ProcessEvent calls in flight against
// gpsrelayd for --seconds, closed loop (a finished call is replaced by a new
// one at once), and measures each call's latency.
//
//   grpc_events_load --port P [--host 127.0.0.1] [--calls 100] [--seconds 20]
//       [--warmup 0s] [--entities 10000] [--threads 2] [--token T]
//       [--watch NAME=PID]...
//
// Each call is an event with a new random (version 4) uuid, so none is a
// duplicate, updating one vehicle "v-<1..entities>" chosen at random with
// the document of scripts/bench-events.lua as a google.protobuf.Struct:
// {"mileage":n,"status":{"engine":"on","fuel":0.n},"driver":"d-n"}.
//
// How: the generated async stub with completion queues. --threads client
// threads (default 2), each with its own channel (its own HTTP/2
// connection: a local subchannel pool, so gRPC does not share one) and its
// own CompletionQueue, each keeping its share of --calls in flight and
// reaping them with CompletionQueue::Next. No locks on the call path: each
// thread counts into its own tallies, merged after the threads end.
// Process CPU (getrusage) includes gRPC's own background threads.
//
// It prints "key: value" lines as the other load clients do
// (load_common.h): calls/s, OK and non-OK calls by status code, the
// latency in ms of the OK calls (p50 p90 p99 p99.9 max), its own CPU and,
// for every --watch NAME=PID (gpsrelayd, mariadbd), that process's CPU over
// the measured window. Calls started during --warmup are not counted. A
// measuring tool, not a test.
#include <google/protobuf/struct.pb.h>
#include <grpcpp/grpcpp.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <memory>
#include <random>
#include <stdexcept>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "gpsrelay/events/v1/events.grpc.pb.h"
#include "load_common.h"

namespace {

namespace events_v1 = gpsrelay::events::v1;
using gpsrelay::load::cpu_seconds_of;
using gpsrelay::load::own_cpu_seconds;
using gpsrelay::load::parse_seconds;
using gpsrelay::load::percentiles;

using Clock = std::chrono::steady_clock;

// A call that gets no answer in this long ends DEADLINE_EXCEEDED (wrk's
// --timeout in the HTTP phases is the same).
constexpr auto kCallDeadline = std::chrono::seconds(30);
// A thread stops early when this many calls failed and none succeeded: the
// server is gone or refuses everything.
constexpr std::uint64_t kGiveUpAfterErrors = 1000;
// grpc::StatusCode runs from OK (0) to UNAUTHENTICATED (16).
constexpr std::size_t kStatusCodes = 17;

double ms_between(Clock::time_point from, Clock::time_point to) {
  return std::chrono::duration<double, std::milli>(to - from).count();
}

const char* status_code_name(std::size_t code) {
  switch (static_cast<grpc::StatusCode>(code)) {
    case grpc::StatusCode::OK:
      return "OK";
    case grpc::StatusCode::CANCELLED:
      return "CANCELLED";
    case grpc::StatusCode::UNKNOWN:
      return "UNKNOWN";
    case grpc::StatusCode::INVALID_ARGUMENT:
      return "INVALID_ARGUMENT";
    case grpc::StatusCode::DEADLINE_EXCEEDED:
      return "DEADLINE_EXCEEDED";
    case grpc::StatusCode::NOT_FOUND:
      return "NOT_FOUND";
    case grpc::StatusCode::ALREADY_EXISTS:
      return "ALREADY_EXISTS";
    case grpc::StatusCode::PERMISSION_DENIED:
      return "PERMISSION_DENIED";
    case grpc::StatusCode::RESOURCE_EXHAUSTED:
      return "RESOURCE_EXHAUSTED";
    case grpc::StatusCode::FAILED_PRECONDITION:
      return "FAILED_PRECONDITION";
    case grpc::StatusCode::ABORTED:
      return "ABORTED";
    case grpc::StatusCode::OUT_OF_RANGE:
      return "OUT_OF_RANGE";
    case grpc::StatusCode::UNIMPLEMENTED:
      return "UNIMPLEMENTED";
    case grpc::StatusCode::INTERNAL:
      return "INTERNAL";
    case grpc::StatusCode::UNAVAILABLE:
      return "UNAVAILABLE";
    case grpc::StatusCode::DATA_LOSS:
      return "DATA_LOSS";
    case grpc::StatusCode::UNAUTHENTICATED:
      return "UNAUTHENTICATED";
    default:
      return "OTHER";
  }
}

// ---------------------------------------------------------------- options

struct Watched {
  std::string name;
  int pid = 0;
  double cpu_start_s = 0;
};

struct Options {
  std::string host = "127.0.0.1";
  int port = 0;
  int calls = 100;
  double seconds = 20;
  double warmup_s = 0;
  int entities = 10000;
  int threads = 2;
  std::string token;  // sent as "authorization: Bearer <token>" when set
  std::vector<Watched> watched;
};

void usage() {
  std::fprintf(stderr,
               "usage: grpc_events_load --port P [--host 127.0.0.1] [--calls 100]\n"
               "         [--seconds 20] [--warmup 0s] [--entities 10000] [--threads 2]\n"
               "         [--token T] [--watch NAME=PID]...\n");
}

Options parse_options(int argc, char** argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    const std::string flag = argv[i];
    if (flag == "--help" || flag == "-h") {
      usage();
      std::exit(0);
    }
    if (i + 1 >= argc) throw std::invalid_argument(flag + " needs a value");
    const std::string value = argv[++i];
    if (flag == "--host") {
      o.host = value;
    } else if (flag == "--port") {
      o.port = std::stoi(value);
    } else if (flag == "--calls") {
      o.calls = std::stoi(value);
    } else if (flag == "--seconds") {
      o.seconds = parse_seconds(value);
    } else if (flag == "--warmup") {
      o.warmup_s = parse_seconds(value);
    } else if (flag == "--entities") {
      o.entities = std::stoi(value);
    } else if (flag == "--threads") {
      o.threads = std::stoi(value);
    } else if (flag == "--token") {
      o.token = value;
    } else if (flag == "--watch") {
      const auto equals = value.find('=');
      if (equals == std::string::npos) throw std::invalid_argument("--watch NAME=PID");
      o.watched.push_back({value.substr(0, equals), std::stoi(value.substr(equals + 1)), 0});
    } else {
      throw std::invalid_argument("unknown option " + flag);
    }
  }
  if (o.port <= 0) throw std::invalid_argument("--port is required");
  if (o.calls <= 0 || o.entities <= 0 || o.threads <= 0 || o.seconds <= 0 || o.warmup_s < 0) {
    throw std::invalid_argument("--calls, --entities, --threads, --seconds must be > 0");
  }
  o.threads = std::min(o.threads, o.calls);
  return o;
}

// ---------------------------------------------------------------- one thread

// What one client thread counted; merged after all threads ended.
struct Tally {
  std::array<std::uint64_t, kStatusCodes> by_code{};  // measured calls only
  std::uint64_t other_codes = 0;
  std::vector<float> ok_latency_ms;
  Clock::time_point last_answer;  // of a measured call; end of the window
  std::string last_error;
};

// One of the calls a thread keeps in flight. A ClientContext serves one
// call only, so each call gets a new one; the request is built once and
// only its changing fields are set again.
struct CallSlot {
  std::unique_ptr<grpc::ClientContext> context;
  std::unique_ptr<grpc::ClientAsyncResponseReader<events_v1::EventResponse>> reader;
  events_v1::EventRequest request;
  events_v1::EventResponse response;
  grpc::Status status;
  Clock::time_point sent;
};

// A client thread: its channel, its completion queue, its calls.
class CallLoop {
 public:
  CallLoop(const Options& options, int index, int calls)
      : options_(options),
        slots_(static_cast<std::size_t>(calls)),
        random_(std::random_device{}() ^ (static_cast<std::uint64_t>(index) << 32U)),
        entity_(1, options.entities) {
    grpc::ChannelArguments args;
    // Without this, channels to the same target share one subchannel, i.e.
    // one TCP connection; each thread is meant to have its own.
    args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
    channel_ = grpc::CreateCustomChannel(options.host + ":" + std::to_string(options.port),
                                         grpc::InsecureChannelCredentials(), args);
    stub_ = events_v1::EventService::NewStub(channel_);
    for (CallSlot& slot : slots_) build_request(slot.request);
    tally_.ok_latency_ms.reserve(1U << 20U);
  }

  // True once the channel is connected, false after `timeout`.
  bool connect(std::chrono::seconds timeout) {
    return channel_->WaitForConnected(std::chrono::system_clock::now() + timeout);
  }

  // Runs the calls until `stop_at`, then waits for those in flight; counts
  // the calls sent from `measure_from` on.
  void run(Clock::time_point measure_from, Clock::time_point stop_at) {
    measure_from_ = measure_from;
    stop_at_ = stop_at;
    for (CallSlot& slot : slots_) start(slot);
    std::size_t in_flight = slots_.size();
    void* tag = nullptr;
    bool ok = false;
    while (in_flight > 0 && queue_.Next(&tag, &ok)) {
      auto& slot = *static_cast<CallSlot*>(tag);
      answered(slot, Clock::now());
      if (Clock::now() < stop_at_ && !given_up()) {
        start(slot);
      } else {
        --in_flight;
      }
    }
    queue_.Shutdown();
    while (queue_.Next(&tag, &ok)) {
    }
  }

  Tally& tally() { return tally_; }

 private:
  void build_request(events_v1::EventRequest& request) {
    events_v1::EventHeader& header = *request.mutable_event_header();
    header.set_event_name("vehicle.updated");
    header.set_event_type("update");
    header.set_created_date("2026-11-30T08:00:00.000Z");
    events_v1::Entity& entity = *request.mutable_event_body()->add_entities();
    entity.set_entity_type("vehicle");
    auto& fields = *entity.mutable_updated_attributes()->mutable_fields();
    fields["mileage"].set_number_value(0);
    auto& status = *fields["status"].mutable_struct_value()->mutable_fields();
    status["engine"].set_string_value("on");
    status["fuel"].set_number_value(0);
    fields["driver"].set_string_value("");
  }

  // A version 4 uuid from this thread's generator.
  std::string new_uuid() {
    std::uint64_t high = random_();
    std::uint64_t low = random_();
    high = (high & ~0xF000ULL) | 0x4000ULL;              // version 4
    low = (low & ~(0xC0ULL << 56U)) | (0x80ULL << 56U);  // variant 10
    char text[37];
    std::snprintf(text, sizeof(text), "%08x-%04x-%04x-%04x-%012llx",
                  static_cast<unsigned>(high >> 32U),
                  static_cast<unsigned>((high >> 16U) & 0xFFFFU),
                  static_cast<unsigned>(high & 0xFFFFU), static_cast<unsigned>(low >> 48U),
                  static_cast<unsigned long long>(low & 0xFFFFFFFFFFFFULL));
    return text;
  }

  void start(CallSlot& slot) {
    ++counter_;
    slot.request.mutable_event_header()->set_uuid(new_uuid());
    events_v1::Entity& entity = *slot.request.mutable_event_body()->mutable_entities(0);
    entity.set_entity_id("v-" + std::to_string(entity_(random_)));
    auto& fields = *entity.mutable_updated_attributes()->mutable_fields();
    fields["mileage"].set_number_value(static_cast<double>(counter_));
    (*fields["status"].mutable_struct_value()->mutable_fields())["fuel"].set_number_value(
        static_cast<double>(counter_ % 10) / 10);
    fields["driver"].set_string_value("d-" + std::to_string(counter_ % 500));
    slot.response.Clear();
    // The reader lives in the old call's arena, which the old context frees:
    // it goes first.
    slot.reader.reset();
    slot.context = std::make_unique<grpc::ClientContext>();
    slot.context->set_deadline(std::chrono::system_clock::now() + kCallDeadline);
    if (!options_.token.empty()) {
      slot.context->AddMetadata("authorization", "Bearer " + options_.token);
    }
    slot.sent = Clock::now();
    slot.reader = stub_->AsyncProcessEvent(slot.context.get(), slot.request, &queue_);
    slot.reader->Finish(&slot.response, &slot.status, &slot);
  }

  void answered(const CallSlot& slot, Clock::time_point now) {
    const auto code = static_cast<std::size_t>(slot.status.error_code());
    if (code != 0) {
      ++errors_;
      tally_.last_error = std::string(status_code_name(code)) + ": " + slot.status.error_message();
    } else {
      ++oks_;
    }
    if (slot.sent < measure_from_) return;
    if (code < kStatusCodes) {
      ++tally_.by_code[code];
    } else {
      ++tally_.other_codes;
    }
    if (code == 0) tally_.ok_latency_ms.push_back(static_cast<float>(ms_between(slot.sent, now)));
    tally_.last_answer = now;
  }

  bool given_up() const { return oks_ == 0 && errors_ >= kGiveUpAfterErrors; }

  const Options& options_;
  Clock::time_point measure_from_;
  Clock::time_point stop_at_;
  std::shared_ptr<grpc::Channel> channel_;
  std::unique_ptr<events_v1::EventService::Stub> stub_;
  grpc::CompletionQueue queue_;
  std::vector<CallSlot> slots_;
  std::mt19937_64 random_;
  std::uniform_int_distribution<int> entity_;
  std::uint64_t counter_ = 0;
  std::uint64_t oks_ = 0;  // whole run, for given_up
  std::uint64_t errors_ = 0;
  Tally tally_;
};

// ---------------------------------------------------------------- the run

int run(Options options) {
  std::vector<std::unique_ptr<CallLoop>> loops;
  for (int i = 0; i < options.threads; ++i) {
    // --calls spread over the threads, the first ones taking the remainder.
    const int calls =
        options.calls / options.threads + (i < options.calls % options.threads ? 1 : 0);
    loops.push_back(std::make_unique<CallLoop>(options, i, calls));
    if (!loops.back()->connect(std::chrono::seconds(10))) {
      throw std::runtime_error("cannot connect to " + options.host + ":" +
                               std::to_string(options.port) + " within 10 s");
    }
  }
  // All channels are connected: the warm-up, then the window, start now.
  const auto measure_from = Clock::now() + std::chrono::duration_cast<Clock::duration>(
                                               std::chrono::duration<double>(options.warmup_s));
  const auto stop_at = measure_from + std::chrono::duration_cast<Clock::duration>(
                                          std::chrono::duration<double>(options.seconds));
  double own_cpu_start = 0;
  Clock::time_point cpu_from;
  std::thread stamper([&] {
    std::this_thread::sleep_until(measure_from);
    cpu_from = Clock::now();
    own_cpu_start = own_cpu_seconds();
    for (Watched& w : options.watched) w.cpu_start_s = cpu_seconds_of(w.pid);
  });
  std::vector<std::thread> threads;
  threads.reserve(loops.size());
  for (auto& loop : loops) {
    threads.emplace_back([&loop, measure_from, stop_at] { loop->run(measure_from, stop_at); });
  }
  for (std::thread& thread : threads) thread.join();
  stamper.join();
  const auto cpu_to = Clock::now();
  const double own_cpu_end = own_cpu_seconds();
  std::vector<double> watched_cpu_end;
  for (const Watched& w : options.watched) watched_cpu_end.push_back(cpu_seconds_of(w.pid));

  // Merge the threads' tallies.
  Tally all;
  all.last_answer = measure_from;
  for (auto& loop : loops) {
    Tally& t = loop->tally();
    for (std::size_t code = 0; code < kStatusCodes; ++code) all.by_code[code] += t.by_code[code];
    all.other_codes += t.other_codes;
    all.ok_latency_ms.insert(all.ok_latency_ms.end(), t.ok_latency_ms.begin(),
                             t.ok_latency_ms.end());
    all.last_answer = std::max(all.last_answer, t.last_answer);
    if (!t.last_error.empty()) all.last_error = t.last_error;
  }
  std::uint64_t calls = all.other_codes;
  for (const std::uint64_t n : all.by_code) calls += n;
  const std::uint64_t ok = all.by_code[0];
  const std::uint64_t non_ok = calls - ok;

  // The window: from the start of measuring to the last answer to a
  // measured call (those in flight at --seconds are waited for).
  const double seconds = std::max(1e-9, ms_between(measure_from, all.last_answer) / 1000);
  const double cpu_seconds = std::max(1e-9, ms_between(cpu_from, cpu_to) / 1000);
  double user = 0;
  double system = 0;
  own_cpu_seconds(&user, &system);
  std::printf("target: %s:%d\n", options.host.c_str(), options.port);
  std::printf("calls_in_flight: %d\n", options.calls);
  std::printf("client_threads: %d (a channel and a completion queue each)\n", options.threads);
  std::printf("entities: %d\n", options.entities);
  std::printf("seconds: %.2f\n", seconds);
  std::printf("calls: %llu\n", static_cast<unsigned long long>(calls));
  std::printf("calls_per_s: %.0f\n", static_cast<double>(calls) / seconds);
  std::printf("ok: %llu\n", static_cast<unsigned long long>(ok));
  std::printf("ok_per_s: %.0f\n", static_cast<double>(ok) / seconds);
  std::string by_code;
  for (std::size_t code = 1; code < kStatusCodes; ++code) {
    if (all.by_code[code] == 0) continue;
    by_code += ' ';
    by_code += status_code_name(code);
    by_code += '=' + std::to_string(all.by_code[code]);
  }
  if (all.other_codes > 0) by_code += " OTHER=" + std::to_string(all.other_codes);
  std::printf("non_ok: %llu%s%s\n", static_cast<unsigned long long>(non_ok),
              by_code.empty() ? "" : " by code:", by_code.c_str());
  if (!all.last_error.empty()) std::printf("last_error: %s\n", all.last_error.c_str());
  std::printf("latency_ms (OK calls) p50 p90 p99 p99.9 max: %s\n",
              percentiles(all.ok_latency_ms).c_str());
  std::printf("client_cpu_seconds: %.2f (user %.2f, system %.2f)\n", user + system, user, system);
  std::printf("client_cpu_percent: %.1f\n", 100 * (own_cpu_end - own_cpu_start) / cpu_seconds);
  for (std::size_t i = 0; i < options.watched.size(); ++i) {
    const Watched& w = options.watched[i];
    std::printf("cpu_percent_%s: %.1f\n", w.name.c_str(),
                100 * (watched_cpu_end[i] - w.cpu_start_s) / cpu_seconds);
  }
  std::fflush(stdout);
  return ok == 0 ? 1 : 0;
}

}  // namespace

int main(int argc, char** argv) {
  try {
    return run(parse_options(argc, argv));
  } catch (const std::exception& error) {
    std::fprintf(stderr, "grpc_events_load: %s\n", error.what());
    usage();
    return 2;
  }
}
