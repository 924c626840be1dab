// failed list / show / replay / purge: failed_packets in MySQL, and for a
// replay the stream in Redis (see commands.h).
#include <algorithm>
#include <string>
#include <vector>

#include "ctl/commands.h"
#include "ctl/json_output.h"
#include "ctl/redis_session.h"
#include "ctl/table.h"
#include "ctl/time_spec.h"
#include "store/mysql_connection.h"
#include "store/schema.h"

namespace gpsrelay::ctl {
namespace {

using Row = std::vector<std::optional<std::string>>;

constexpr std::size_t kReplayBatch = 500;
constexpr std::size_t kPurgeBatch = 1000;

// Connected, with failed_packets present (the daemon creates it too; an
// operator may run gpsrelayctl first).
store::MysqlConnection connect_mysql(const core::Config& config) {
  try {
    store::MysqlConnection connection(config.mysql);
    store::ensure_schema(connection);
    return connection;
  } catch (const store::MysqlError& e) {
    throw Unavailable(std::string("cannot use ") + e.what());
  }
}

std::vector<Row> query(store::MysqlConnection& mysql, const std::string& sql) {
  try {
    return mysql.query(sql);
  } catch (const store::MysqlError& e) {
    throw Unavailable(e.what());
  }
}

std::string text(const Row& row, std::size_t column) { return row[column].value_or(""); }

std::int64_t number(const Row& row, std::size_t column) {
  return row[column] ? std::stoll(*row[column]) : 0;
}

// The SQL condition selecting one packet by row id or message id. Both
// forms are checked digit by digit, so the text is safe to inline.
std::string id_condition(const std::string& id) {
  const bool digits = !id.empty() && std::all_of(id.begin(), id.end(), ::isdigit);
  if (digits) return "id = " + id;
  const std::size_t dash = id.find('-');
  const bool message_id =
      dash != std::string::npos && dash > 0 && dash + 1 < id.size() &&
      std::all_of(id.begin(), id.begin() + static_cast<long>(dash), ::isdigit) &&
      std::all_of(id.begin() + static_cast<long>(dash) + 1, id.end(), ::isdigit);
  if (message_id) return "message_id = '" + id + "'";
  throw UsageError("ID must be a row id (digits) or a message id (ms-seq), not '" + id + "'");
}

std::string since_condition(const CommandContext& context) {
  const auto& since = context.invocation.since;
  if (!since) return "1 = 1";
  const auto ms = parse_time_spec(*since, context.now_ms);
  if (!ms) {
    throw UsageError(
        "--since takes a duration (2h, 7d) or a UTC time (YYYY-MM-DD[THH:MM[:SS]]), not '" +
        *since + "'");
  }
  return "created_at >= FROM_UNIXTIME(" + std::to_string(*ms) + " / 1000)";
}

constexpr const char* kColumns =
    "id, message_id, FLOOR(UNIX_TIMESTAMP(created_at) * 1000), retry_count, target_server, "
    "last_error, request_id, FLOOR(UNIX_TIMESTAMP(received_at) * 1000), "
    "FLOOR(UNIX_TIMESTAMP(updated_at) * 1000), payload";

JsonPtr row_json(const Row& row, bool with_payload) {
  JsonPtr object(json_object());
  json_object_set_new(object.get(), "id", json_integer(number(row, 0)));
  json_object_set_new(object.get(), "message_id", json_string(text(row, 1).c_str()));
  json_object_set_new(object.get(), "created_at", json_string(format_utc(number(row, 2)).c_str()));
  json_object_set_new(object.get(), "retry_count", json_integer(number(row, 3)));
  json_object_set_new(object.get(), "target_server", json_bytes(text(row, 4)));
  json_object_set_new(object.get(), "last_error", json_bytes(text(row, 5)));
  json_object_set_new(object.get(), "request_id", json_bytes(text(row, 6)));
  json_object_set_new(object.get(), "received_at",
                      row[7] ? json_string(format_utc(number(row, 7)).c_str()) : json_null());
  json_object_set_new(object.get(), "updated_at", json_string(format_utc(number(row, 8)).c_str()));
  if (with_payload) json_object_set_new(object.get(), "payload", json_bytes(text(row, 9)));
  return object;
}

// The payload as a person can read it: as is when it is printable UTF-8,
// else escaped.
std::string printable(const std::string& payload) {
  const bool plain = std::all_of(payload.begin(), payload.end(), [](char c) {
    const auto byte = static_cast<unsigned char>(c);
    return byte >= 0x20 || c == '\n' || c == '\t';
  });
  JsonPtr as_text(json_stringn(payload.data(), payload.size()));
  if (plain && as_text) return payload;
  std::string out;
  for (const char c : payload) {
    const auto byte = static_cast<unsigned char>(c);
    if (byte >= 0x20 && byte < 0x7F && c != '\\') {
      out += c;
    } else {
      char escaped[5];
      std::snprintf(escaped, sizeof escaped, "\\x%02x", byte);
      out += escaped;
    }
  }
  return out;
}

}  // namespace

int run_failed_list(const CommandContext& context) {
  store::MysqlConnection mysql = connect_mysql(context.config);
  const std::vector<Row> rows =
      query(mysql, std::string("SELECT ") + kColumns + " FROM failed_packets WHERE " +
                       since_condition(context) + " ORDER BY id DESC LIMIT " +
                       std::to_string(context.invocation.limit));
  if (context.invocation.json) {
    JsonPtr list(json_array());
    for (const Row& row : rows) json_array_append(list.get(), row_json(row, false).get());
    print_json(context.out, list);
    return kExitOk;
  }
  if (rows.empty()) {
    context.out << "no failed packets\n";
    return kExitOk;
  }
  Table table({"ID", "MESSAGE_ID", "CREATED_AT (UTC)", "RETRIES", "TARGET", "LAST_ERROR"});
  for (const Row& row : rows) {
    table.add_row({text(row, 0), text(row, 1), format_utc(number(row, 2)), text(row, 3),
                   truncate_cell(text(row, 4), 40), truncate_cell(text(row, 5), 60)});
  }
  context.out << table.render();
  return kExitOk;
}

int run_failed_show(const CommandContext& context) {
  const std::string condition = id_condition(*context.invocation.id);
  store::MysqlConnection mysql = connect_mysql(context.config);
  const std::vector<Row> rows =
      query(mysql, std::string("SELECT ") + kColumns + " FROM failed_packets WHERE " + condition);
  if (rows.empty()) throw NotFound("no failed packet " + *context.invocation.id);
  const Row& row = rows.front();
  if (context.invocation.json) {
    print_json(context.out, row_json(row, true));
    return kExitOk;
  }
  Table table({"FIELD", "VALUE"});
  table.add_row({"id", text(row, 0)});
  table.add_row({"message_id", text(row, 1)});
  table.add_row({"request_id", text(row, 6)});
  table.add_row({"received_at (UTC)", row[7] ? format_utc(number(row, 7)) : "-"});
  table.add_row({"created_at (UTC)", format_utc(number(row, 2))});
  table.add_row({"updated_at (UTC)", format_utc(number(row, 8))});
  table.add_row({"retry_count", text(row, 3)});
  table.add_row({"target_server", text(row, 4)});
  table.add_row({"last_error", text(row, 5)});
  context.out << table.render() << "payload (" << text(row, 9).size() << " bytes):\n"
              << printable(text(row, 9)) << "\n";
  return kExitOk;
}

int run_failed_replay(const CommandContext& context) {
  const Invocation& invocation = context.invocation;
  const std::string condition = invocation.id    ? id_condition(*invocation.id)
                                : invocation.all ? "1 = 1"
                                                 : since_condition(context);
  store::MysqlConnection mysql = connect_mysql(context.config);
  RedisSession redis(context.config.redis);
  const core::RedisConfig& queue = context.config.redis;

  std::uint64_t replayed = 0;
  std::int64_t after_id = 0;
  for (;;) {
    const std::vector<Row> rows =
        query(mysql,
              "SELECT id, message_id, payload, request_id, "
              "FLOOR(UNIX_TIMESTAMP(received_at) * 1000) FROM failed_packets WHERE " +
                  condition + " AND id > " + std::to_string(after_id) + " ORDER BY id LIMIT " +
                  std::to_string(kReplayBatch));
    if (rows.empty()) break;
    // The daemon refuses reports above max_queue_length; so does a replay.
    const long long backlog = redis.command({"XLEN", queue.stream})->integer;
    if (static_cast<std::uint64_t>(backlog) + rows.size() > queue.max_queue_length) {
      throw Unavailable("the queue holds " + std::to_string(backlog) +
                        " entries; replaying more would exceed redis.max_queue_length (" +
                        std::to_string(queue.max_queue_length) + "); " + std::to_string(replayed) +
                        " replayed so far");
    }
    std::vector<std::vector<std::string>> commands;
    for (const Row& row : rows) {
      const std::string received_at =
          row[4] ? *row[4] : std::to_string(context.now_ms);  // the original time when known
      commands.push_back({"XADD", queue.stream, "*", "payload", text(row, 2), "received_at",
                          received_at, "request_id", text(row, 3), "replayed_from", text(row, 1)});
    }
    const std::vector<ReplyPtr> replies = redis.pipeline(commands);
    std::string stored_ids;
    for (std::size_t i = 0; i < rows.size(); ++i) {
      // Only rows whose entry Redis stored (its reply is the new id) go.
      if (replies[i]->type != REDIS_REPLY_STRING) continue;
      stored_ids += (stored_ids.empty() ? "" : ",") + text(rows[i], 0);
      ++replayed;
    }
    if (!stored_ids.empty()) {
      try {
        mysql.execute("DELETE FROM failed_packets WHERE id IN (" + stored_ids + ")");
      } catch (const store::MysqlError& e) {
        throw Unavailable(std::string(e.what()) +
                          " (the packets were queued again; their rows remain)");
      }
    }
    if (stored_ids.size() < rows.size()) {
      // An error reply (e.g. OOM): stop rather than skip over it.
      for (const ReplyPtr& reply : replies) {
        if (reply->type == REDIS_REPLY_ERROR) {
          throw Unavailable("Redis refused XADD: " + std::string(reply->str, reply->len) + "; " +
                            std::to_string(replayed) + " replayed");
        }
      }
    }
    after_id = number(rows.back(), 0);
    if (invocation.id) break;
  }
  if (invocation.id && replayed == 0) throw NotFound("no failed packet " + *invocation.id);
  if (invocation.json) {
    JsonPtr result(json_pack("{s:I}", "replayed", static_cast<json_int_t>(replayed)));
    print_json(context.out, result);
  } else {
    context.out << "replayed " << replayed << " packet" << (replayed == 1 ? "" : "s") << "\n";
  }
  return kExitOk;
}

int run_failed_purge(const CommandContext& context) {
  store::MysqlConnection mysql = connect_mysql(context.config);
  const auto seconds =
      std::chrono::duration_cast<std::chrono::seconds>(context.invocation.older_than).count();
  std::uint64_t purged = 0;
  for (;;) {
    std::uint64_t deleted = 0;
    try {
      deleted = mysql.execute("DELETE FROM failed_packets WHERE created_at < NOW(3) - INTERVAL " +
                              std::to_string(seconds) + " SECOND ORDER BY created_at LIMIT " +
                              std::to_string(kPurgeBatch));
    } catch (const store::MysqlError& e) {
      throw Unavailable(std::string(e.what()) + "; " + std::to_string(purged) + " purged so far");
    }
    purged += deleted;
    if (deleted < kPurgeBatch) break;
  }
  if (context.invocation.json) {
    JsonPtr result(json_pack("{s:I}", "purged", static_cast<json_int_t>(purged)));
    print_json(context.out, result);
  } else {
    context.out << "purged " << purged << " packet" << (purged == 1 ? "" : "s") << "\n";
  }
  return kExitOk;
}

}  // namespace gpsrelay::ctl
