// MysqlConnection: one blocking MariaDB Connector/C session, owned RAII
// (MYSQL and every prepared MYSQL_STMT), used by exactly one thread. It
// connects with short timeouts so a dead server never holds the calling
// thread for long, and every session runs in UTC so DATETIME columns mean
// the same to the daemon, gpsrelayctl and an operator's SQL.
//
// Errors are MysqlError exceptions carrying the server's message; the
// caller decides whether to reconnect.
#pragma once

#include <mysql.h>

#include <chrono>
#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "core/c_handle.h"
#include "core/config.h"

namespace gpsrelay::store {

class MysqlError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
  // `code` is the server's or the connector's error number (mysql_errno),
  // so callers can tell an expected error (a table that does not exist
  // yet, a partition another daemon added first) from a lost connection.
  MysqlError(const std::string& message, unsigned code)
      : std::runtime_error(message), code_(code) {}

  unsigned code() const { return code_; }
  // Client-side errors (CR_*, 2000-2999): the connection is unusable.
  // Server errors (below 2000) leave it working.
  bool connection_lost() const { return code_ == 0 || (code_ >= 2000 && code_ < 3000); }
  // Errors that say nothing about the statement: the same one may succeed
  // later or elsewhere (a lost connection, a deadlock or lock wait, a server
  // that is read-only during a failover, a Galera node without quorum, a
  // shutdown, a killed connection). Such a statement is retried, never
  // given up as refused.
  bool transient() const {
    switch (code_) {
      case 1040:  // ER_CON_COUNT_ERROR: too many connections
      case 1047:  // ER_UNKNOWN_COM_ERROR: WSREP has not yet prepared node
      case 1053:  // ER_SERVER_SHUTDOWN
      case 1205:  // ER_LOCK_WAIT_TIMEOUT
      case 1213:  // ER_LOCK_DEADLOCK
      case 1290:  // ER_OPTION_PREVENTS_STATEMENT: --read-only
      case 1317:  // ER_QUERY_INTERRUPTED
      case 1836:  // ER_READ_ONLY_MODE
      case 1927:  // ER_CONNECTION_KILLED
      case 4031:  // ER_CLIENT_INTERACTION_TIMEOUT
        return true;
      default:
        return connection_lost();
    }
  }

 private:
  unsigned code_ = 0;  // 0: not known
};

// One parameter of a prepared statement.
using SqlParam = std::variant<std::int64_t, std::string_view>;
// One column of a row read through a prepared statement: NULL, an integer
// column, a DOUBLE/FLOAT column (bit-exact, no text round trip) or any
// other column as its text.
using SqlValue = std::variant<std::monostate, std::int64_t, double, std::string>;

class PreparedStatement;

class MysqlConnection {
 public:
  struct Options {
    std::chrono::seconds connect_timeout{2};
    std::chrono::seconds io_timeout{5};  // each read and write
  };

  // Connects; throws MysqlError naming the server when it cannot.
  explicit MysqlConnection(const core::MysqlConfig& config, Options options);
  explicit MysqlConnection(const core::MysqlConfig& config) : MysqlConnection(config, Options{}) {}

  // Runs a statement that returns no rows; returns the affected row count.
  std::uint64_t execute(std::string_view sql);
  // Runs a query; each row's columns as strings (nullopt for NULL).
  std::vector<std::vector<std::optional<std::string>>> query(std::string_view sql);

  PreparedStatement prepare(std::string_view sql);

  // `text` escaped for use inside a quoted string literal of this
  // connection's character set (mysql_real_escape_string), quotes not added.
  std::string escape(std::string_view text);

  MYSQL* handle() { return mysql_.get(); }
  // "user@host:port/database", for messages.
  const std::string& describe() const { return describe_; }

 private:
  [[noreturn]] void fail(std::string_view what);

  core::CHandle<MYSQL, mysql_close> mysql_;
  std::string describe_;
};

// A server-side prepared statement of one connection. Parameters are bound
// per execution; results of SELECTs are read as strings.
class PreparedStatement {
 public:
  PreparedStatement(MysqlConnection& connection, std::string_view sql);

  // Executes with `params` bound in order; returns the affected row count.
  std::uint64_t execute(const std::vector<SqlParam>& params);
  // Executes a statement that returns rows; every row, each column typed
  // as SqlValue describes.
  std::vector<std::vector<SqlValue>> query(const std::vector<SqlParam>& params);

 private:
  static int close_statement(MYSQL_STMT* statement) { return mysql_stmt_close(statement); }
  void bind_and_execute(const std::vector<SqlParam>& params);
  [[noreturn]] void fail(std::string_view what);

  MysqlConnection& connection_;
  std::string sql_;
  core::CHandle<MYSQL_STMT, close_statement> statement_;
};

}  // namespace gpsrelay::store
