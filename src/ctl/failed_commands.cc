// failed list / show / replay / purge: failed_packets in MySQL, and for a
// replay the stream in Redis (see commands.h).
#include <algorithm>
#include <string>
#include <vector>

#include "ctl/commands.h"
#include "ctl/failed_table.h"
#include "ctl/json_output.h"
#include "ctl/redis_session.h"
#include "ctl/table.h"
#include "ctl/time_spec.h"
#include "queue/stream_schema.h"

namespace gpsrelay::ctl {
namespace {

constexpr std::size_t kReplayBatch = 500;
constexpr std::size_t kPurgeBatch = 1000;

std::string text(const Row& row, std::size_t column) { return row[column].value_or(""); }

std::int64_t number(const Row& row, std::size_t column) {
  return row[column] ? std::stoll(*row[column]) : 0;
}

// The SQL condition selecting one packet by row id or message id.
// is_packet_id allows digits and one dash only, so the text is safe to inline.
std::string id_condition(const std::string& id) {
  if (!is_packet_id(id)) throw UsageError("not a packet ID: '" + id + "'");
  if (id.find('-') == std::string::npos) return "id = " + id;
  return "message_id = '" + id + "'";
}

std::string since_condition(const CommandContext& context) {
  const auto& since = context.invocation.since;
  if (!since) return "1 = 1";
  const auto ms = parse_time_spec(*since, context.now_ms);
  if (!ms) {
    throw UsageError("--since takes " + std::string(kTimeForms) + ", not '" + *since + "'");
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
  if (with_payload) {
    const std::string payload = text(row, 9);
    json_object_set_new(object.get(), "payload", json_bytes(payload));
    // Not UTF-8: "payload" is an approximation, so add the exact bytes.
    if (JsonPtr exact(json_stringn(payload.data(), payload.size())); !exact) {
      json_object_set_new(object.get(), "payload_base64", json_string(base64(payload).c_str()));
    }
  }
  return object;
}

// The payload as a person can read it: as is when it is printable UTF-8,
// else escaped.
std::string printable(const std::string& payload) {
  const bool plain = std::all_of(payload.begin(), payload.end(), [](char c) {
    const auto byte = static_cast<unsigned char>(c);
    return (byte >= 0x20 && byte != 0x7F) || c == '\n' || c == '\t';
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
  FailedTable mysql(context.config.mysql);
  const std::vector<Row> rows = mysql.query(
      std::string("SELECT ") + kColumns + " FROM failed_packets WHERE " + since_condition(context) +
      " ORDER BY id DESC LIMIT " + std::to_string(context.invocation.limit));
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
  Table table({"ID", "MESSAGE_ID", "CREATED_AT", "RETRIES", "TARGET", "LAST_ERROR"});
  for (const Row& row : rows) {
    table.add_row({text(row, 0), text(row, 1), format_utc(number(row, 2)), text(row, 3),
                   truncate_cell(text(row, 4), 40), truncate_cell(text(row, 5), 60)});
  }
  context.out << table.render();
  return kExitOk;
}

int run_failed_show(const CommandContext& context) {
  const std::string condition = id_condition(*context.invocation.id);
  FailedTable mysql(context.config.mysql);
  const std::vector<Row> rows =
      mysql.query(std::string("SELECT ") + kColumns + " FROM failed_packets WHERE " + condition);
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
  FailedTable mysql(context.config.mysql);
  RedisSession redis(context.config.redis);
  const core::RedisConfig& queue = context.config.redis;

  // The daemon answers 503 above max_queue_length; a replay must not push
  // the queue past it either. Checked per batch, before any XADD of it, as
  // the daemon keeps ingesting meanwhile.
  const auto check_room = [&](std::uint64_t adding, std::uint64_t replayed) {
    const auto backlog = static_cast<std::uint64_t>(redis.command({"XLEN", queue.stream})->integer);
    if (backlog + adding <= queue.max_queue_length) return;
    throw Unavailable(
        "refusing to replay " + std::to_string(adding) + " packets: the queue holds " +
        std::to_string(backlog) + " entries and redis.max_queue_length is " +
        std::to_string(queue.max_queue_length) + " (" + std::to_string(replayed) + " replayed)");
  };

  std::uint64_t replayed = 0;
  std::int64_t after_id = 0;  // keyset: each batch starts after the last row id seen
  for (;;) {
    const std::vector<Row> rows = mysql.query(
        "SELECT id, message_id, payload, request_id, "
        "FLOOR(UNIX_TIMESTAMP(received_at) * 1000) FROM failed_packets WHERE " +
        condition + " AND id > " + std::to_string(after_id) + " ORDER BY id LIMIT " +
        std::to_string(kReplayBatch));
    if (rows.empty()) {
      if (invocation.id) throw NotFound("no failed packet " + *invocation.id);
      break;
    }
    check_room(rows.size(), replayed);
    std::vector<std::vector<std::string>> commands;
    for (const Row& row : rows) {
      // The original arrival time when the row has it, so latency metrics
      // and upstreams see when the report really came in.
      const std::string received_at = row[4] ? *row[4] : std::to_string(context.now_ms);
      commands.push_back({"XADD", queue.stream, "*", std::string(gpsrelay::queue::kPayloadField),
                          text(row, 2), std::string(gpsrelay::queue::kReceivedAtField), received_at,
                          std::string(gpsrelay::queue::kRequestIdField), text(row, 3),
                          "replayed_from", text(row, 1)});
    }
    const RedisSession::PipelineResult result = redis.pipeline(commands);
    // A row goes only once Redis answered its XADD with the new entry's id.
    std::string stored_ids;
    std::string refused;
    for (std::size_t i = 0; i < result.replies.size(); ++i) {
      const redisReply* reply = result.replies[i].get();
      if (reply->type == REDIS_REPLY_STRING) {
        stored_ids += (stored_ids.empty() ? "" : ",") + std::to_string(number(rows[i], 0));
        ++replayed;
      } else if (refused.empty() && reply->type == REDIS_REPLY_ERROR) {
        refused =
            "Redis at " + redis.address() + " refused XADD: " + std::string(reply->str, reply->len);
      }
    }
    if (!stored_ids.empty()) {
      try {
        mysql.execute("DELETE FROM failed_packets WHERE id IN (" + stored_ids + ")");
      } catch (const Unavailable& e) {
        throw Unavailable(std::string(e.what()) +
                          " (the packets were queued again but their rows remain; a later "
                          "replay would queue them once more)");
      }
    }
    // Stop at the first trouble rather than skip over rows.
    if (!result.error.empty()) {
      throw Unavailable(result.error + " (" + std::to_string(replayed) + " replayed)");
    }
    if (!refused.empty())
      throw Unavailable(refused + " (" + std::to_string(replayed) + " replayed)");
    after_id = number(rows.back(), 0);
    if (invocation.id) break;
  }
  if (invocation.json) {
    JsonPtr out(json_pack("{s:I}", "replayed", static_cast<json_int_t>(replayed)));
    print_json(context.out, out);
  } else {
    context.out << "replayed " << replayed << " packet" << (replayed == 1 ? "" : "s") << "\n";
  }
  return kExitOk;
}

int run_failed_purge(const CommandContext& context) {
  FailedTable mysql(context.config.mysql);
  const auto seconds =
      std::chrono::duration_cast<std::chrono::seconds>(context.invocation.older_than).count();
  // Small batches keep each DELETE's locks short while the daemon inserts.
  std::uint64_t purged = 0;
  for (;;) {
    std::uint64_t deleted = 0;
    try {
      deleted = mysql.execute("DELETE FROM failed_packets WHERE created_at < NOW(3) - INTERVAL " +
                              std::to_string(seconds) + " SECOND ORDER BY created_at LIMIT " +
                              std::to_string(kPurgeBatch));
    } catch (const Unavailable& e) {
      throw Unavailable(std::string(e.what()) + " (" + std::to_string(purged) + " purged)");
    }
    purged += deleted;
    if (deleted < kPurgeBatch) break;
  }
  if (context.invocation.json) {
    JsonPtr out(json_pack("{s:I}", "purged", static_cast<json_int_t>(purged)));
    print_json(context.out, out);
  } else {
    context.out << "purged " << purged << " packet" << (purged == 1 ? "" : "s") << "\n";
  }
  return kExitOk;
}

}  // namespace gpsrelay::ctl
