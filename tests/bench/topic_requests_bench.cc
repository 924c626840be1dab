// Microbenchmark of the Topics batch body (topics/topic_requests.h), for
// scripts/bench.sh micro: parse_batch of 50 messages shaped like the
// topics load's (a 1 KB string value each), and of 50 nested ~1 KB object
// values, next to jansson's json_loadb of the same body alone, the floor
// that parse_batch's own work sits on. No sockets: end-to-end batches
// (scripts/bench.sh topics) vary ±10 % from run to run.
#include <benchmark/benchmark.h>
#include <jansson.h>

#include <cstddef>
#include <string>

#include "topics/topic_requests.h"

namespace {

constexpr int kMessages = 50;

// {"messages":[{"value":"<1,024 letters>"},...]}, the body topics_load sends.
std::string string_batch() {
  std::string value;
  for (std::size_t i = 0; i < 1024; ++i) value += static_cast<char>('a' + i % 26);
  std::string body = "{\"messages\":[";
  for (int i = 0; i < kMessages; ++i) {
    if (i > 0) body += ',';
    body += "{\"value\":\"" + value + "\"}";
  }
  body += "]}";
  return body;
}

// A ~1 KB object value with nested objects, arrays, integers, reals,
// booleans, null and strings with a few escapes, as a JSON API client
// would send it (compact, so it is already in the stored form).
std::string object_value(int i) {
  std::string items;
  for (int k = 0; k < 8; ++k) {
    if (k > 0) items += ',';
    items += "{\"sku\":\"SKU-" + std::to_string(10000 + k) + "\",\"qty\":" + std::to_string(k + 1) +
             ",\"price\":" + std::to_string(k) + ".25,\"tags\":[\"fragile\",\"a\\\"b\"]}";
  }
  return "{\"order_id\":\"o-" + std::to_string(i) +
         "\",\"customer\":{\"id\":12345,\"name\":\"Jos\u00e9 Mar\u00eda\",\"vip\":true,"
         "\"address\":{\"street\":\"1 Main St\\nFlat 2\",\"city\":\"Lisbon\",\"zip\":null}},"
         "\"position\":{\"lat\":38.7223,\"lon\":-9.1393,\"accuracy\":4.5},"
         "\"items\":[" +
         items + "],\"note\":\"leave at the door\"}";
}

std::string object_batch() {
  std::string body = "{\"messages\":[";
  for (int i = 0; i < kMessages; ++i) {
    if (i > 0) body += ',';
    body += "{\"key\":\"k" + std::to_string(i) + "\",\"value\":" + object_value(i) +
            ",\"headers\":{\"content-type\":\"application/json\"}}";
  }
  body += "]}";
  return body;
}

void run_parse_batch(benchmark::State& state, const std::string& body) {
  for (auto _ : state) {  // NOLINT(clang-analyzer-deadcode.DeadStores): the loop variable is unused
    auto parsed = gpsrelay::topics::parse_batch(body);
    benchmark::DoNotOptimize(parsed);
  }
  state.SetItemsProcessed(state.iterations() * kMessages);
  state.SetBytesProcessed(state.iterations() * static_cast<std::int64_t>(body.size()));
}

void run_jansson_load(benchmark::State& state, const std::string& body) {
  for (auto _ : state) {  // NOLINT(clang-analyzer-deadcode.DeadStores): the loop variable is unused
    json_error_t error;
    json_t* root = json_loadb(body.data(), body.size(), JSON_REJECT_DUPLICATES, &error);
    benchmark::DoNotOptimize(root);
    json_decref(root);
  }
  state.SetItemsProcessed(state.iterations() * kMessages);
  state.SetBytesProcessed(state.iterations() * static_cast<std::int64_t>(body.size()));
}

void ParseBatchStrings(benchmark::State& state) { run_parse_batch(state, string_batch()); }
BENCHMARK(ParseBatchStrings);

void ParseBatchObjects(benchmark::State& state) { run_parse_batch(state, object_batch()); }
BENCHMARK(ParseBatchObjects);

void JanssonLoadStrings(benchmark::State& state) { run_jansson_load(state, string_batch()); }
BENCHMARK(JanssonLoadStrings);

void JanssonLoadObjects(benchmark::State& state) { run_jansson_load(state, object_batch()); }
BENCHMARK(JanssonLoadObjects);

}  // namespace
