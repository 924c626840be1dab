// Router: the HTTP routing table as data. Each module registers its routes
// — a method and a path template such as /api/v1/drivers/{driver_id}/location
// — with a handler id of its choosing; a request's method and path then
// match a handler and its captured path parameters, or are a 404, or a 405
// with the Allow list. Pure: no HTTP library types, so it is unit-tested
// and fuzzed directly; the evhttp layer maps its types to these.
//
// Matching is by whole segments, literal before parameter, exact (no
// trailing-slash or case folding: a device that gets a path wrong should
// hear 404, not be guessed at). Parameters are captured as they appear in
// the path, still percent-encoded; decoding is the handler's business.
// HEAD is served by the GET handler where no HEAD one is registered.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace gpsrelay::http {

enum class Method : std::uint8_t { kGet, kHead, kPost, kPut, kPatch, kDelete, kOptions, kOther };

struct PathParam {
  std::string_view name;   // from the template
  std::string_view value;  // a view into the matched path
};

struct RouteMatch {
  static constexpr std::size_t kMaxParams = 4;
  enum class Result { kFound, kNotFound, kMethodNotAllowed };

  Result result = Result::kNotFound;
  int handler = -1;        // set for kFound
  std::string_view allow;  // the path's methods, "GET, HEAD, POST"; set unless kNotFound
  std::array<PathParam, kMaxParams> params{};
  std::size_t param_count = 0;

  // The value captured for {name}; nullopt when the route has no such parameter.
  std::optional<std::string_view> param(std::string_view name) const;
};

class Router {
 public:
  Router();
  ~Router();
  Router(Router&&) noexcept;
  Router& operator=(Router&&) noexcept;
  Router(const Router&) = delete;
  Router& operator=(const Router&) = delete;

  // Registers `handler` (>= 0) for `method` on `path_template`: segments
  // are literals or {name} parameters. Throws std::invalid_argument for a
  // template that does not start with '/', has an empty segment or a
  // malformed or repeated parameter, more than kMaxParams parameters, a
  // parameter named differently from one already registered at the same
  // place, a route already registered, or kOther.
  void add(Method method, std::string_view path_template, int handler);

  // `path` without the query string. Allocates nothing.
  RouteMatch match(Method method, std::string_view path) const;

 private:
  struct Node;
  std::unique_ptr<Node> root_;
};

// Which checks the HTTP worker makes before a route's handler runs.
enum class RouteKind : std::uint8_t {
  kIngest,    // a report: rate limit, device token (auth.mode), refused while stopping
  kRead,      // reads a module's state: rate limit, read token (auth.read_tokens_file)
  kOperator,  // /health-like: open
};

// A module's view of the router: its routes with handler ids of its own
// choosing (0..kMaxRoutes-1), placed in a range of the router's ids that
// is the module's, each with its kind.
class RouteTable {
 public:
  static constexpr int kMaxRoutes = 1000;

  RouteTable(Router& router, std::vector<RouteKind>& kinds, int first_id)
      : router_(router), kinds_(kinds), first_id_(first_id) {}

  // Throws std::invalid_argument as Router::add does, or for an id out of range.
  void add(Method method, std::string_view path_template, int id, RouteKind kind);

 private:
  Router& router_;
  std::vector<RouteKind>& kinds_;  // by the router's handler id
  int first_id_;
};

}  // namespace gpsrelay::http
