// Microbenchmark of request routing, for scripts/bench.sh micro: the cost
// of one Router match on the ingest path and on a parameterised path, next
// to the string comparison the router replaced. End-to-end ingest cannot
// resolve differences this small (its run-to-run noise is ±25 %).
#include <benchmark/benchmark.h>

#include <string_view>
#include <vector>

#include "http/routes.h"
#include "ingest/ingest_routes.h"

namespace {

using gpsrelay::http::Method;
using gpsrelay::http::Router;

Router table() {
  Router router;
  gpsrelay::http::add_core_routes(router);
  std::vector<gpsrelay::http::RouteKind> kinds;
  gpsrelay::http::RouteTable ingest(router, kinds, gpsrelay::http::RouteTable::kMaxRoutes);
  gpsrelay::ingest::add_ingest_routes(ingest);
  // Shaped like the location API's routes, so lookups pass real siblings.
  router.add(Method::kGet, "/api/v1/drivers/{driver_id}/location", 10);
  router.add(Method::kPost, "/api/v1/drivers/{driver_id}/location", 11);
  router.add(Method::kGet, "/api/v1/drivers/{driver_id}/route", 12);
  router.add(Method::kGet, "/api/v1/drivers/nearby", 13);
  router.add(Method::kGet, "/api/v1/orders/{order_id}/driver-location", 14);
  return router;
}

void IngestPath(benchmark::State& state) {
  const Router router = table();
  for (auto _ : state) {
    benchmark::DoNotOptimize(router.match(Method::kPost, "/api/gps/reports"));
  }
}
BENCHMARK(IngestPath);

void DriverLocationPath(benchmark::State& state) {
  const Router router = table();
  for (auto _ : state) {
    benchmark::DoNotOptimize(router.match(Method::kGet, "/api/v1/drivers/truck-0042/location"));
  }
}
BENCHMARK(DriverLocationPath);

// What the enum router did for the ingest path: one comparison.
void StringCompareBaseline(benchmark::State& state) {
  std::string_view path = "/api/gps/reports";
  for (auto _ : state) {
    benchmark::DoNotOptimize(path);
    benchmark::DoNotOptimize(path == "/api/gps/reports");
  }
}
BENCHMARK(StringCompareBaseline);

}  // namespace

BENCHMARK_MAIN();
