// gpsrelayctl status: the queue and its consumers (Redis), the targets as
// the running daemon sees them (/health), and the failed packets (MySQL).
// Each part is shown even when another cannot be reached; the exit code
// then says something was unavailable.
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "ctl/commands.h"
#include "ctl/daemon_health.h"
#include "ctl/failed_table.h"
#include "ctl/health_url.h"
#include "ctl/json_output.h"
#include "ctl/redis_session.h"
#include "ctl/table.h"
#include "ctl/time_spec.h"

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

JsonPtr queue_status(const core::Config& config) {
  RedisSession redis(config.redis);
  const std::string& stream = config.redis.stream;
  JsonPtr out(json_object());
  json_object_set_new(out.get(), "redis", json_string(redis.address().c_str()));
  json_object_set_new(out.get(), "stream", json_string(stream.c_str()));
  json_object_set_new(out.get(), "length", json_integer(redis.command({"XLEN", stream})->integer));
  json_object_set_new(out.get(), "group", json_string(config.redis.group.c_str()));
  JsonPtr consumers(json_array());
  if (redis.command({"EXISTS", stream})->integer == 1) {
    const ReplyPtr groups = redis.command({"XINFO", "GROUPS", stream});
    for (std::size_t g = 0; g < groups->elements; ++g) {
      auto fields = fields_of(groups->element[g]);
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
  return out;
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
    for (const char* part : {"redis", "mysql", "forwarding"}) {
      if (json_t* state = json_object_get(json_object_get(health.get(), part), "status")) {
        json_object_set(out.get(), (std::string(part) + "_status").c_str(), state);
      }
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

void print_text(std::ostream& out, const core::Config& config, const json_t* queue,
                const json_t* daemon, const json_t* failed) {
  out << "Queue: stream " << config.redis.stream << " on " << config.redis.address.to_string()
      << "\n";
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
  }
  const char* url = str(daemon, "health_url", "");
  if (json_is_true(json_object_get(daemon, "reachable"))) {
    out << "\ndaemon: reachable at " << url << ": " << str(daemon, "status") << " (redis "
        << str(daemon, "redis_status") << ", mysql " << str(daemon, "mysql_status")
        << ", forwarding " << str(daemon, "forwarding_status") << ")\n";
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
}

}  // namespace

int run_status(const CommandContext& context) {
  bool unavailable = false;
  const JsonPtr queue = part(unavailable, &queue_status, context.config);
  const JsonPtr daemon = daemon_status(context.config);
  const JsonPtr failed = part(unavailable, &failed_status, context.config);
  if (context.invocation.json) {
    JsonPtr all(json_pack("{s:O, s:O, s:O}", "queue", queue.get(), "daemon", daemon.get(),
                          "failed_packets", failed.get()));
    print_json(context.out, all);
  } else {
    print_text(context.out, context.config, queue.get(), daemon.get(), failed.get());
  }
  return unavailable ? kExitUnavailable : kExitOk;
}

}  // namespace gpsrelay::ctl
