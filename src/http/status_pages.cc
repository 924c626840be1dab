// /health and /ready bodies via jansson (see status_pages.h).
#include "http/status_pages.h"

#include <jansson.h>

#include <cstdlib>
#include <memory>

#include "core/json_handle.h"

namespace gpsrelay::http {
namespace {

using core::JsonPtr;

std::string dump(const JsonPtr& value) {
  const std::unique_ptr<char, decltype(&std::free)> text(
      json_dumps(value.get(), JSON_COMPACT | JSON_ENSURE_ASCII), &std::free);
  return text ? std::string(text.get()) : std::string("{}");
}

}  // namespace

StatusPage render_health(const HealthSnapshot& s) {
  const bool mysql_in_use = s.forwarding_configured;
  const bool redis_writable = s.redis_up && s.redis_write_refusal.empty();
  bool healthy = redis_writable && (!mysql_in_use || s.mysql_up);
  for (const HealthSnapshot::Module& module : s.modules) healthy = healthy && module.healthy;
  JsonPtr targets(json_array());
  bool any_target_up = false;
  for (const HealthSnapshot::Target& t : s.targets) {
    any_target_up = any_target_up || t.state == "up" || t.state == "breaker_half_open";
    json_t* target = json_pack("{s:s, s:s}", "url", t.url.c_str(), "state", t.state.c_str());
    if (!t.last_error.empty()) {
      json_object_set_new(target, "last_error", json_string(t.last_error.c_str()));
    }
    json_array_append_new(targets.get(), target);
  }
  const char* forwarding = !s.forwarding_configured ? "not_configured"
                           : any_target_up          ? "ok"
                                                    : "no_target_available";
  JsonPtr mysql(mysql_in_use ? json_pack("{s:s, s:s}", "status", s.mysql_up ? "up" : "down",
                                         "address", s.mysql_address.c_str())
                             : json_pack("{s:s}", "status", "not_configured"));
  const char* redis_state = !s.redis_up ? "down" : redis_writable ? "up" : "refusing_writes";
  JsonPtr redis(json_pack("{s:s, s:s, s:I}", "status", redis_state, "address",
                          s.redis_address.c_str(), "queue_length",
                          static_cast<json_int_t>(s.queue_length)));
  if (!redis_writable && s.redis_up) {
    json_object_set_new(redis.get(), "write_error", json_string(s.redis_write_refusal.c_str()));
  }
  JsonPtr root(json_pack("{s:s, s:O, s:O, s:{s:s, s:O}}",             //
                         "status", healthy ? "ok" : "unavailable",    //
                         "redis", redis.get(), "mysql", mysql.get(),  //
                         "forwarding", "status", forwarding, "targets", targets.get()));
  if (s.forwarding_configured) {
    json_t* forwarding = json_object_get(root.get(), "forwarding");
    json_object_set_new(forwarding, "group", json_string(s.forward_group.c_str()));
    json_object_set_new(forwarding, "pending", json_integer(s.forward_pending));
    json_object_set_new(forwarding, "lag", json_integer(s.forward_lag));
  }
  for (const HealthSnapshot::Module& module : s.modules) {
    json_error_t error;
    json_t* object = json_loadb(module.json.data(), module.json.size(), 0, &error);
    json_object_set_new(root.get(), module.name.c_str(),
                        object != nullptr ? object : json_string("unreadable state"));
  }
  return {healthy ? 200 : 503, dump(root)};
}

StatusPage render_ready(const HealthSnapshot& s) {
  const bool ready = s.serving && s.redis_up;
  const char* state = !s.serving ? "not_serving" : (s.redis_up ? "ready" : "redis_unavailable");
  JsonPtr root(json_pack("{s:s}", "status", state));
  return {ready ? 200 : 503, dump(root)};
}

}  // namespace gpsrelay::http
