// gpsrelayctl status: the queue, its consumer groups and consumers (Redis),
// the targets as the running daemon sees them (/health), the failed packets
// (MySQL) and, with [locations] enabled, the location service (Redis, and
// the history writer as /health reports it). Each part is shown even when
// another cannot be reached; the exit code then says something was
// unavailable.
#include <algorithm>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "core/units.h"
#include "ctl/commands.h"
#include "ctl/daemon_health.h"
#include "ctl/failed_table.h"
#include "ctl/health_url.h"
#include "ctl/json_output.h"
#include "ctl/redis_session.h"
#include "ctl/table.h"
#include "ctl/time_spec.h"
#include "locations/location_state.h"
#include "queue/stream_groups.h"

namespace gpsrelay::ctl {
namespace {

std::string text_of(const redisReply* reply) {
  if (reply == nullptr) return "";
  if (reply->type == REDIS_REPLY_INTEGER) return std::to_string(reply->integer);
  if (reply->str != nullptr) return std::string(reply->str, reply->len);
  return "";  // nil
}

// XINFO replies are flat [name, value, ...] arrays.
std::map<std::string, std::string> fields_of(const redisReply* reply) {
  std::map<std::string, std::string> fields;
  for (std::size_t i = 0; reply != nullptr && i + 1 < reply->elements; i += 2) {
    fields[text_of(reply->element[i])] = text_of(reply->element[i + 1]);
  }
  return fields;
}

// Which setting of this config enables a group, or nullptr for none.
const char* enabled_by(const core::Config& config, const std::string& group) {
  if (group == config.redis.group) return "redis.group";
  if (config.locations.enabled && group == config.locations.group) return "locations.group";
  return nullptr;
}

// Every group of the stream, as XINFO GROUPS gives them (`seen`): the ones
// this config enables first, in queue::enabled_groups order, listed even
// when they do not exist yet (the daemon creates them at start), then the
// others, which gpsrelayd does not read and which hold no entry back.
JsonPtr groups_json(const core::Config& config,
                    const std::vector<std::map<std::string, std::string>>& seen) {
  const auto group_json = [&](const std::string& name,
                              const std::map<std::string, std::string>* fields) {
    const char* setting = enabled_by(config, name);
    // Any bytes can name a group made by hand: json_bytes keeps it valid JSON.
    json_t* group = json_pack(
        "{s:o, s:b, s:o, s:b}", "name", json_bytes(name), "enabled", setting != nullptr,
        "enabled_by", setting ? json_string(setting) : json_null(), "exists", fields != nullptr);
    if (fields == nullptr) return group;
    const auto number = [&](const char* key) {
      const auto it = fields->find(key);
      // lag is nil when Redis cannot tell (after XSETID, or entries deleted
      // in the middle of the range).
      return it == fields->end() || it->second.empty() ? json_null()
                                                       : json_integer(std::stoll(it->second));
    };
    json_object_set_new(group, "consumers", number("consumers"));
    json_object_set_new(group, "pending", number("pending"));
    json_object_set_new(group, "lag", number("lag"));
    const auto last = fields->find("last-delivered-id");
    json_object_set_new(group, "last_delivered_id",
                        json_string(last == fields->end() ? "" : last->second.c_str()));
    return group;
  };
  const auto find = [&](const std::string& name) -> const std::map<std::string, std::string>* {
    for (const auto& fields : seen) {
      if (const auto it = fields.find("name"); it != fields.end() && it->second == name) {
        return &fields;
      }
    }
    return nullptr;
  };
  JsonPtr list(json_array());
  const std::vector<std::string> enabled = queue::enabled_groups(config);
  for (const std::string& name : enabled) {
    json_array_append_new(list.get(), group_json(name, find(name)));
  }
  for (const auto& fields : seen) {
    const auto it = fields.find("name");
    if (it == fields.end() ||
        std::find(enabled.begin(), enabled.end(), it->second) != enabled.end()) {
      continue;
    }
    json_array_append_new(list.get(), group_json(it->second, &fields));
  }
  return list;
}

JsonPtr queue_status(const core::Config& config) {
  RedisSession redis(config.redis);
  const std::string& stream = config.redis.stream;
  JsonPtr out(json_object());
  json_object_set_new(out.get(), "redis", json_string(redis.address().c_str()));
  if (!config.redis.sentinels.empty()) {
    // Which primary the sentinels name now: the one the daemon follows too.
    json_object_set_new(out.get(), "master_name", json_string(config.redis.master_name.c_str()));
    json_object_set_new(out.get(), "sentinels",
                        json_string(core::to_string(config.redis.sentinels).c_str()));
  }
  json_object_set_new(out.get(), "stream", json_string(stream.c_str()));
  json_object_set_new(out.get(), "length", json_integer(redis.command({"XLEN", stream})->integer));
  json_object_set_new(out.get(), "group", json_string(config.redis.group.c_str()));
  JsonPtr consumers(json_array());
  std::vector<std::map<std::string, std::string>> groups_seen;
  if (redis.command({"EXISTS", stream})->integer == 1) {
    const ReplyPtr groups = redis.command({"XINFO", "GROUPS", stream});
    for (std::size_t g = 0; g < groups->elements; ++g) {
      auto fields = fields_of(groups->element[g]);
      groups_seen.push_back(fields);
      if (fields["name"] != config.redis.group) continue;
      json_object_set_new(out.get(), "pending", json_integer(std::stoll(fields["pending"])));
      json_object_set_new(
          out.get(), "lag",
          fields["lag"].empty() ? json_null() : json_integer(std::stoll(fields["lag"])));
      json_object_set_new(out.get(), "last_delivered_id",
                          json_string(fields["last-delivered-id"].c_str()));
      const ReplyPtr list = redis.command({"XINFO", "CONSUMERS", stream, config.redis.group});
      for (std::size_t c = 0; c < list->elements; ++c) {
        auto consumer = fields_of(list->element[c]);
        json_array_append_new(
            consumers.get(),
            json_pack("{s:s, s:I, s:I}", "name", consumer["name"].c_str(), "pending",
                      std::stoll(consumer["pending"]), "idle_ms", std::stoll(consumer["idle"])));
      }
    }
  }
  json_object_set_new(out.get(), "consumers", consumers.release());
  json_object_set_new(out.get(), "groups", groups_json(config, groups_seen).release());
  return out;
}

// The location state's size: drivers with a current location, counted as
// the daemon counts them for /health and its metrics (the expiry index,
// which the sweep keeps to the unexpired drivers within a second).
JsonPtr locations_status(const core::Config& config) {
  RedisSession redis(config.redis);
  const locations::StateKeys keys(config.redis.stream);
  return JsonPtr(
      json_pack("{s:s, s:I}", "group", config.locations.group.c_str(), "drivers_active",
                static_cast<json_int_t>(redis.command({"ZCARD", keys.expiry()})->integer)));
}

JsonPtr daemon_status(const core::Config& config) {
  const std::string url = health_url(config.http.listen);
  JsonPtr out(json_pack("{s:s}", "health_url", url.c_str()));
  const std::optional<std::string> body = fetch_health(url);
  JsonPtr health(body ? json_loads(body->c_str(), 0, nullptr) : nullptr);
  json_object_set_new(out.get(), "reachable", json_boolean(health != nullptr));
  JsonPtr targets(json_array());
  const json_t* live =
      health ? json_object_get(json_object_get(health.get(), "forwarding"), "targets") : nullptr;
  for (const std::string& url_of_target : config.forward.targets) {
    json_t* target = json_pack("{s:s, s:s}", "url", url_of_target.c_str(), "state", "unknown");
    for (std::size_t i = 0; i < json_array_size(live); ++i) {
      const json_t* seen = json_array_get(live, i);
      const char* seen_url = json_string_value(json_object_get(seen, "url"));
      if (seen_url == nullptr || url_of_target != seen_url) continue;
      json_object_set(target, "state", json_object_get(seen, "state"));
      if (json_t* error = json_object_get(seen, "last_error")) {
        json_object_set(target, "last_error", error);
      }
    }
    json_array_append_new(targets.get(), target);
  }
  json_object_set_new(out.get(), "targets", targets.release());
  if (health) {
    // The daemon's own view of its dependencies, next to ours.
    json_object_set(out.get(), "status", json_object_get(health.get(), "status"));
    for (const char* part : {"redis", "mysql", "forwarding", "locations"}) {
      if (json_t* state = json_object_get(json_object_get(health.get(), part), "status")) {
        json_object_set(out.get(), (std::string(part) + "_status").c_str(), state);
      }
    }
    // The history writer's state lives in the daemon only.
    if (json_t* history = json_object_get(json_object_get(health.get(), "locations"), "history")) {
      json_object_set(out.get(), "locations_history", history);
    }
  }
  return out;
}

JsonPtr failed_status(const core::Config& config) {
  FailedTable mysql(config.mysql);
  const std::vector<Row> rows = mysql.query(
      "SELECT COUNT(*), FLOOR(UNIX_TIMESTAMP(MIN(created_at)) * 1000) FROM failed_packets");
  const Row& row = rows.at(0);  // an aggregate: always one row
  return JsonPtr(
      json_pack("{s:s, s:I, s:o}", "mysql", mysql.describe().c_str(), "count",
                static_cast<json_int_t>(std::stoll(row[0].value_or("0"))), "oldest",
                row[1] ? json_string(format_utc(std::stoll(*row[1])).c_str()) : json_null()));
}

// Runs one part; an unreachable dependency becomes {"error": ...}.
JsonPtr part(bool& unavailable, JsonPtr (*fetch)(const core::Config&), const core::Config& c) {
  try {
    return fetch(c);
  } catch (const Unavailable& e) {
    unavailable = true;
    return JsonPtr(json_pack("{s:s}", "error", e.what()));
  }
}

const char* str(const json_t* object, const char* key, const char* fallback = "-") {
  const char* value = json_string_value(json_object_get(object, key));
  return value != nullptr ? value : fallback;
}

std::string num(const json_t* object, const char* key) {
  const json_t* value = json_object_get(object, key);
  return json_is_integer(value) ? std::to_string(json_integer_value(value)) : "-";
}

void print_groups(std::ostream& out, const core::Config& config, const json_t* groups) {
  out << "\nConsumer groups of " << config.redis.stream << ":\n";
  Table table({"NAME", "ENABLED", "CONSUMERS", "PENDING", "LAG", "LAST DELIVERED"});
  bool others = false;
  for (std::size_t i = 0; i < json_array_size(groups); ++i) {
    const json_t* g = json_array_get(groups, i);
    const char* setting = json_string_value(json_object_get(g, "enabled_by"));
    others = others || setting == nullptr;
    const std::string enabled = setting ? std::string("yes (") + setting + ")" : "no";
    if (!json_is_true(json_object_get(g, "exists"))) {
      table.add_row({str(g, "name"), enabled, "-", "-", "-", "not created yet"});
      continue;
    }
    table.add_row({str(g, "name"), enabled, num(g, "consumers"), num(g, "pending"), num(g, "lag"),
                   str(g, "last_delivered_id")});
  }
  out << table.render();
  if (others) {
    out << "  (groups not enabled here are not read by gpsrelayd with this configuration and hold "
           "no entry in the stream)\n";
  }
}

// The location service: its Redis state, and the history writer as the
// daemon reports it (nowhere else knows its backlog).
void print_locations(std::ostream& out, const core::Config& config, const json_t* locations) {
  out << "\nLocations: group " << config.locations.group << ", a current location expires after "
      << core::format_duration(config.locations.ttl) << "\n";
  if (const char* error = json_string_value(json_object_get(locations, "error"))) {
    out << "  " << error << "\n";
  } else {
    out << "  drivers with a current location: " << num(locations, "drivers_active") << "\n";
  }
  const json_t* history = json_object_get(locations, "history");
  const std::string state = str(history, "status");
  out << "  history (MySQL driver_locations): ";
  if (state == "unknown") {
    out << "unknown (" << str(history, "reason", "") << ")\n";
  } else if (state == "off") {
    out << "off (locations.history = false)\n";
  } else {
    out << state << ", backlog " << num(history, "backlog") << " rows (as the daemon reports it)\n";
  }
}

void print_text(std::ostream& out, const core::Config& config, const json_t* queue,
                const json_t* daemon, const json_t* failed, const json_t* locations) {
  const char* primary = json_string_value(json_object_get(queue, "redis"));
  out << "Queue: stream " << config.redis.stream << " on "
      << (primary != nullptr ? primary : config.redis.address.to_string().c_str());
  if (!config.redis.sentinels.empty()) {
    out << " (primary '" << config.redis.master_name << "' named by the sentinels "
        << core::to_string(config.redis.sentinels) << ")";
  }
  out << "\n";
  if (const char* error = json_string_value(json_object_get(queue, "error"))) {
    out << "  " << error << "\n";
  } else {
    Table table({"BACKLOG", "PENDING", "LAG", "LAST DELIVERED"});
    table.add_row({num(queue, "length"), num(queue, "pending"), num(queue, "lag"),
                   str(queue, "last_delivered_id")});
    out << table.render();
    const json_t* consumers = json_object_get(queue, "consumers");
    out << "\nConsumers of group " << config.redis.group << ":\n";
    if (json_array_size(consumers) == 0) out << "  none yet\n";
    Table list({"NAME", "PENDING", "IDLE"});
    for (std::size_t i = 0; i < json_array_size(consumers); ++i) {
      const json_t* c = json_array_get(consumers, i);
      list.add_row(
          {str(c, "name"), num(c, "pending"),
           std::to_string(json_integer_value(json_object_get(c, "idle_ms")) / 1000) + "s"});
    }
    if (!list.empty()) out << list.render();
    print_groups(out, config, json_object_get(queue, "groups"));
  }
  const char* url = str(daemon, "health_url", "");
  if (json_is_true(json_object_get(daemon, "reachable"))) {
    out << "\ndaemon: reachable at " << url << ": " << str(daemon, "status") << " (redis "
        << str(daemon, "redis_status") << ", mysql " << str(daemon, "mysql_status")
        << ", forwarding " << str(daemon, "forwarding_status");
    if (config.locations.enabled) out << ", locations " << str(daemon, "locations_status");
    out << ")\n";
  } else {
    out << "\ndaemon: not reachable at " << url << "; target states unknown\n";
  }
  out << "\nTargets:\n";
  const json_t* targets = json_object_get(daemon, "targets");
  if (json_array_size(targets) == 0) out << "  none configured (forward.targets is empty)\n";
  Table table({"URL", "STATE", "LAST ERROR"});
  for (std::size_t i = 0; i < json_array_size(targets); ++i) {
    const json_t* t = json_array_get(targets, i);
    table.add_row({str(t, "url"), str(t, "state"), truncate_cell(str(t, "last_error", ""), 60)});
  }
  if (!table.empty()) out << table.render();
  out << "\nFailed packets:\n";
  if (const char* error = json_string_value(json_object_get(failed, "error"))) {
    out << "  " << error << "\n";
  } else {
    out << "  " << num(failed, "count") << " in " << str(failed, "mysql", "");
    if (const char* oldest = json_string_value(json_object_get(failed, "oldest"))) {
      out << ", oldest created " << oldest << " UTC";
    }
    out << "\n";
  }
  if (locations != nullptr) print_locations(out, config, locations);
}

// The history writer's state for "locations": off by config, else what
// the daemon reports, else unknown with the reason.
JsonPtr history_status(const core::Config& config, const json_t* daemon) {
  if (!config.locations.history) {
    return JsonPtr(json_pack("{s:b, s:s, s:n}", "enabled", 0, "status", "off", "backlog"));
  }
  const json_t* live = json_object_get(daemon, "locations_history");
  if (live == nullptr) {
    const char* reason = json_is_true(json_object_get(daemon, "reachable"))
                             ? "the daemon does not report locations"
                             : "the daemon does not answer";
    return JsonPtr(json_pack("{s:b, s:s, s:n, s:s}", "enabled", 1, "status", "unknown", "backlog",
                             "reason", reason));
  }
  return JsonPtr(json_pack("{s:b, s:O, s:O}", "enabled", 1, "status",
                           json_object_get(live, "status"), "backlog",
                           json_object_get(live, "backlog")));
}

}  // namespace

int run_status(const CommandContext& context) {
  const core::Config& config = context.config;
  bool unavailable = false;
  const JsonPtr queue = part(unavailable, &queue_status, config);
  const JsonPtr daemon = daemon_status(config);
  const JsonPtr failed = part(unavailable, &failed_status, config);
  // Only with [locations] enabled, so the output of a config without it
  // stays as it was.
  JsonPtr locations;
  if (config.locations.enabled) {
    locations = part(unavailable, &locations_status, config);
    json_object_set_new(locations.get(), "history", history_status(config, daemon.get()).release());
  }
  if (context.invocation.json) {
    JsonPtr all(json_pack("{s:O, s:O, s:O}", "queue", queue.get(), "daemon", daemon.get(),
                          "failed_packets", failed.get()));
    if (locations) json_object_set(all.get(), "locations", locations.get());
    print_json(context.out, all);
  } else {
    print_text(context.out, config, queue.get(), daemon.get(), failed.get(), locations.get());
  }
  return unavailable ? kExitUnavailable : kExitOk;
}

}  // namespace gpsrelay::ctl
