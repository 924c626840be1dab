// MysqlConnection and PreparedStatement (see mysql_connection.h).
#include "store/mysql_connection.h"

namespace gpsrelay::store {

MysqlConnection::MysqlConnection(const core::MysqlConfig& config, Options options)
    : mysql_(mysql_init(nullptr)) {
  if (!mysql_) throw MysqlError("mysql_init: out of memory");
  describe_ = config.user + "@" + core::mysql_address(config) + "/" + config.database;
  const unsigned connect_timeout = static_cast<unsigned>(options.connect_timeout.count());
  const unsigned io_timeout = static_cast<unsigned>(options.io_timeout.count());
  mysql_options(mysql_.get(), MYSQL_OPT_CONNECT_TIMEOUT, &connect_timeout);
  mysql_options(mysql_.get(), MYSQL_OPT_READ_TIMEOUT, &io_timeout);
  mysql_options(mysql_.get(), MYSQL_OPT_WRITE_TIMEOUT, &io_timeout);
  mysql_options(mysql_.get(), MYSQL_SET_CHARSET_NAME, "utf8mb4");
  // The connector must not reconnect behind our back: a silent reconnect
  // loses the session time zone and the prepared statements.
  const my_bool no = 0;
  mysql_options(mysql_.get(), MYSQL_OPT_RECONNECT, &no);
  if (mysql_real_connect(mysql_.get(), config.socket.empty() ? config.host.c_str() : nullptr,
                         config.user.c_str(), config.password.c_str(), config.database.c_str(),
                         config.port, config.socket.empty() ? nullptr : config.socket.c_str(),
                         0) == nullptr) {
    fail("connect");
  }
  execute("SET time_zone = '+00:00'");
}

void MysqlConnection::fail(std::string_view what) {
  throw MysqlError("MySQL " + describe_ + ": " + std::string(what) + ": " +
                   mysql_error(mysql_.get()));
}

std::uint64_t MysqlConnection::execute(std::string_view sql) {
  if (mysql_real_query(mysql_.get(), sql.data(), sql.size()) != 0) fail(sql);
  // A statement that unexpectedly returns rows must not leave them unread.
  core::CHandle<MYSQL_RES, mysql_free_result> result(mysql_store_result(mysql_.get()));
  return mysql_affected_rows(mysql_.get());
}

std::vector<std::vector<std::optional<std::string>>> MysqlConnection::query(std::string_view sql) {
  if (mysql_real_query(mysql_.get(), sql.data(), sql.size()) != 0) fail(sql);
  core::CHandle<MYSQL_RES, mysql_free_result> result(mysql_store_result(mysql_.get()));
  std::vector<std::vector<std::optional<std::string>>> rows;
  if (!result) {
    if (mysql_errno(mysql_.get()) != 0) fail(sql);
    return rows;
  }
  const unsigned columns = mysql_num_fields(result.get());
  while (MYSQL_ROW row = mysql_fetch_row(result.get())) {
    const unsigned long* lengths = mysql_fetch_lengths(result.get());
    auto& out = rows.emplace_back();
    for (unsigned i = 0; i < columns; ++i) {
      if (row[i] == nullptr) {
        out.emplace_back(std::nullopt);
      } else {
        out.emplace_back(std::string(row[i], lengths[i]));
      }
    }
  }
  return rows;
}

PreparedStatement MysqlConnection::prepare(std::string_view sql) {
  return PreparedStatement(*this, sql);
}

PreparedStatement::PreparedStatement(MysqlConnection& connection, std::string_view sql)
    : connection_(connection), sql_(sql), statement_(mysql_stmt_init(connection.handle())) {
  if (!statement_) throw MysqlError("mysql_stmt_init: out of memory");
  if (mysql_stmt_prepare(statement_.get(), sql_.data(), sql_.size()) != 0) {
    throw MysqlError("MySQL " + connection_.describe() + ": prepare " + sql_ + ": " +
                     mysql_stmt_error(statement_.get()));
  }
}

std::uint64_t PreparedStatement::execute(const std::vector<SqlParam>& params) {
  std::vector<MYSQL_BIND> binds(params.size());
  std::vector<unsigned long> lengths(params.size());
  for (std::size_t i = 0; i < params.size(); ++i) {
    MYSQL_BIND& bind = binds[i];
    if (const auto* number = std::get_if<std::int64_t>(&params[i])) {
      bind.buffer_type = MYSQL_TYPE_LONGLONG;
      // The connector only reads through this pointer for input parameters.
      bind.buffer = const_cast<std::int64_t*>(number);
    } else {
      const std::string_view text = std::get<std::string_view>(params[i]);
      bind.buffer_type = MYSQL_TYPE_BLOB;
      bind.buffer = const_cast<char*>(text.data());
      lengths[i] = text.size();
      bind.buffer_length = text.size();
      bind.length = &lengths[i];
    }
  }
  if (mysql_stmt_bind_param(statement_.get(), binds.data()) != 0 ||
      mysql_stmt_execute(statement_.get()) != 0) {
    throw MysqlError("MySQL " + connection_.describe() + ": " + sql_ + ": " +
                     mysql_stmt_error(statement_.get()));
  }
  return mysql_stmt_affected_rows(statement_.get());
}

}  // namespace gpsrelay::store
