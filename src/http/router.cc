// Path-template routing (see router.h): a tree of path segments, literal
// children before one parameter child per node, handler ids per method at
// the node where a template ends.
#include "http/router.h"

#include <algorithm>
#include <stdexcept>

namespace gpsrelay::http {
namespace {

constexpr std::size_t kMethods = static_cast<std::size_t>(Method::kOther);
// Allow lists name methods in this order (RFC 9110 sets none; this is the
// order people read).
constexpr std::array<std::string_view, kMethods> kMethodNames = {"GET",   "HEAD",   "POST",   "PUT",
                                                                 "PATCH", "DELETE", "OPTIONS"};

std::size_t index_of(Method method) { return static_cast<std::size_t>(method); }

// The next segment of `rest` (which starts after a '/'), and what follows it.
std::string_view take_segment(std::string_view& rest) {
  const std::size_t slash = rest.find('/');
  const std::string_view segment = rest.substr(0, slash);
  rest = slash == std::string_view::npos ? std::string_view() : rest.substr(slash + 1);
  return segment;
}

bool is_parameter(std::string_view segment) {
  return segment.size() >= 2 && segment.front() == '{' && segment.back() == '}';
}

}  // namespace

struct Router::Node {
  std::vector<std::pair<std::string, std::unique_ptr<Node>>> literals;
  std::unique_ptr<Node> parameter;
  std::string parameter_name;
  std::array<int, kMethods> handlers;
  std::string allow;  // empty: no route ends here

  Node() { handlers.fill(-1); }

  Node* literal(std::string_view segment) const {
    for (const auto& [name, child] : literals) {
      if (name == segment) return child.get();
    }
    return nullptr;
  }

  void update_allow() {
    allow.clear();
    for (std::size_t i = 0; i < kMethods; ++i) {
      const bool served = handlers[i] >= 0 ||
                          (i == index_of(Method::kHead) && handlers[index_of(Method::kGet)] >= 0);
      if (!served) continue;
      if (!allow.empty()) allow += ", ";
      allow += kMethodNames[i];
    }
  }
};

std::optional<std::string_view> RouteMatch::param(std::string_view name) const {
  for (std::size_t i = 0; i < param_count; ++i) {
    if (params[i].name == name) return params[i].value;
  }
  return std::nullopt;
}

Router::Router() : root_(std::make_unique<Node>()) {}
Router::~Router() = default;
Router::Router(Router&&) noexcept = default;
Router& Router::operator=(Router&&) noexcept = default;

void Router::add(Method method, std::string_view path_template, int handler) {
  const auto invalid = [&](const std::string& why) {
    return std::invalid_argument("route " + std::string(path_template) + ": " + why);
  };
  if (method == Method::kOther) throw invalid("no method");
  if (handler < 0) throw invalid("negative handler id");
  if (path_template.empty() || path_template.front() != '/') throw invalid("must start with /");
  Node* node = root_.get();
  std::vector<std::string_view> names;  // of this template's parameters
  // "/" is the root itself; every other template is segments between slashes.
  std::string_view rest = path_template.substr(1);
  for (bool more = !rest.empty(); more;) {
    more = rest.find('/') != std::string_view::npos;
    const std::string_view segment = take_segment(rest);
    if (segment.empty()) throw invalid("empty segment");
    if (is_parameter(segment)) {
      const std::string_view name = segment.substr(1, segment.size() - 2);
      if (name.empty() || name.find_first_of("{}") != std::string_view::npos) {
        throw invalid("malformed parameter");
      }
      if (std::find(names.begin(), names.end(), name) != names.end()) {
        throw invalid("parameter {" + std::string(name) + "} twice");
      }
      names.push_back(name);
      if (names.size() > RouteMatch::kMaxParams) throw invalid("too many parameters");
      if (!node->parameter) {
        node->parameter = std::make_unique<Node>();
        node->parameter_name = std::string(name);
      } else if (node->parameter_name != name) {
        throw invalid("parameter {" + std::string(name) + "} where other routes have {" +
                      node->parameter_name + "}");
      }
      node = node->parameter.get();
    } else {
      if (segment.find_first_of("{}") != std::string_view::npos) {
        throw invalid("malformed parameter");
      }
      Node* next = node->literal(segment);
      if (next == nullptr) {
        node->literals.emplace_back(std::string(segment), std::make_unique<Node>());
        next = node->literals.back().second.get();
      }
      node = next;
    }
  }
  int& slot = node->handlers[index_of(method)];
  if (slot >= 0) throw invalid(std::string(kMethodNames[index_of(method)]) + " registered twice");
  slot = handler;
  node->update_allow();
}

namespace {

// Depth-first: a literal child first, the parameter child if the literal
// branch ends nowhere. Returns the node where a route ends, or nullptr.
template <typename Node>
const Node* find(const Node& node, std::string_view rest, bool at_end, RouteMatch& match) {
  if (at_end) return node.allow.empty() ? nullptr : &node;
  std::string_view after = rest;
  const std::string_view segment = take_segment(after);
  const bool last = rest.find('/') == std::string_view::npos;
  if (const Node* child = node.literal(segment)) {
    if (const Node* found = find(*child, after, last, match)) return found;
  }
  if (node.parameter && !segment.empty() && match.param_count < RouteMatch::kMaxParams) {
    match.params[match.param_count++] = {node.parameter_name, segment};
    if (const Node* found = find(*node.parameter, after, last, match)) return found;
    --match.param_count;
  }
  return nullptr;
}

}  // namespace

RouteMatch Router::match(Method method, std::string_view path) const {
  RouteMatch match;
  if (path.empty() || path.front() != '/') return match;
  const std::string_view rest = path.substr(1);
  const Node* node = find(*root_, rest, rest.empty(), match);
  if (node == nullptr) {
    match.param_count = 0;
    return match;
  }
  match.allow = node->allow;
  int handler = method == Method::kOther ? -1 : node->handlers[index_of(method)];
  if (handler < 0 && method == Method::kHead) handler = node->handlers[index_of(Method::kGet)];
  match.result = handler >= 0 ? RouteMatch::Result::kFound : RouteMatch::Result::kMethodNotAllowed;
  match.handler = handler;
  return match;
}

void RouteTable::add(Method method, std::string_view path_template, int id, RouteKind kind) {
  if (id < 0 || id >= kMaxRoutes) throw std::invalid_argument("route id out of range");
  const int global = first_id_ + id;
  router_.add(method, path_template, global);
  if (kinds_.size() <= static_cast<std::size_t>(global)) {
    kinds_.resize(static_cast<std::size_t>(global) + 1, RouteKind::kOperator);
  }
  kinds_[static_cast<std::size_t>(global)] = kind;
}

}  // namespace gpsrelay::http
