// MysqlConnection and PreparedStatement (see mysql_connection.h).
#include "store/mysql_connection.h"

#include <algorithm>

namespace gpsrelay::store {
namespace {

// Removes a statement's buffered result set when the reading scope ends,
// however it ends, so the next execution starts clean.
class StatementResultGuard {
 public:
  explicit StatementResultGuard(MYSQL_STMT* statement) : statement_(statement) {}
  ~StatementResultGuard() { mysql_stmt_free_result(statement_); }
  StatementResultGuard(const StatementResultGuard&) = delete;
  StatementResultGuard& operator=(const StatementResultGuard&) = delete;

 private:
  MYSQL_STMT* statement_;
};

// How one result column is fetched (see SqlValue).
enum class ColumnKind { kInteger, kDouble, kText };

ColumnKind column_kind(enum_field_types type) {
  switch (type) {
    case MYSQL_TYPE_TINY:
    case MYSQL_TYPE_SHORT:
    case MYSQL_TYPE_INT24:
    case MYSQL_TYPE_LONG:
    case MYSQL_TYPE_LONGLONG:
    case MYSQL_TYPE_YEAR:
      return ColumnKind::kInteger;
    case MYSQL_TYPE_FLOAT:
    case MYSQL_TYPE_DOUBLE:
      return ColumnKind::kDouble;
    default:
      return ColumnKind::kText;
  }
}

}  // namespace

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
  throw MysqlError(
      "MySQL " + describe_ + ": " + std::string(what) + ": " + mysql_error(mysql_.get()),
      mysql_errno(mysql_.get()));
}

std::string MysqlConnection::escape(std::string_view text) {
  // The connector's documented worst case: every byte escaped, plus NUL.
  std::string escaped(text.size() * 2 + 1, '\0');
  const unsigned long length =
      mysql_real_escape_string(mysql_.get(), escaped.data(), text.data(), text.size());
  if (length == static_cast<unsigned long>(-1)) fail("escape");
  escaped.resize(length);
  return escaped;
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
  if (mysql_stmt_prepare(statement_.get(), sql_.data(), sql_.size()) != 0) fail("prepare " + sql_);
}

void PreparedStatement::fail(std::string_view what) {
  throw MysqlError("MySQL " + connection_.describe() + ": " + std::string(what) + ": " +
                       mysql_stmt_error(statement_.get()),
                   mysql_stmt_errno(statement_.get()));
}

std::uint64_t PreparedStatement::execute(const std::vector<SqlParam>& params) {
  bind_and_execute(params);
  return mysql_stmt_affected_rows(statement_.get());
}

void PreparedStatement::bind_and_execute(const std::vector<SqlParam>& params) {
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
    fail(sql_);
  }
}

std::vector<std::vector<SqlValue>> PreparedStatement::query(const std::vector<SqlParam>& params) {
  bind_and_execute(params);
  MYSQL_STMT* statement = statement_.get();
  const StatementResultGuard guard(statement);
  std::vector<std::vector<SqlValue>> rows;
  const core::CHandle<MYSQL_RES, mysql_free_result> metadata(mysql_stmt_result_metadata(statement));
  if (!metadata) {
    if (mysql_stmt_errno(statement) != 0) fail(sql_);
    return rows;  // not a statement that returns rows
  }
  // Buffered, so a failure while converting a row cannot leave unread rows
  // on the wire for the next execution.
  if (mysql_stmt_store_result(statement) != 0) fail(sql_);

  const unsigned columns = mysql_num_fields(metadata.get());
  const MYSQL_FIELD* fields = mysql_fetch_fields(metadata.get());
  struct Column {
    ColumnKind kind = ColumnKind::kText;
    std::int64_t integer = 0;
    double real = 0;
    std::string text;  // the first kTextBuffer bytes; longer values are refetched
    unsigned long length = 0;
    my_bool is_null = 0;
    my_bool truncated = 0;
  };
  constexpr std::size_t kTextBuffer = 256;
  std::vector<Column> values(columns);
  std::vector<MYSQL_BIND> binds(columns);
  for (unsigned i = 0; i < columns; ++i) {
    Column& value = values[i];
    MYSQL_BIND& bind = binds[i];
    value.kind = column_kind(fields[i].type);
    switch (value.kind) {
      case ColumnKind::kInteger:
        bind.buffer_type = MYSQL_TYPE_LONGLONG;
        bind.buffer = &value.integer;
        break;
      case ColumnKind::kDouble:
        bind.buffer_type = MYSQL_TYPE_DOUBLE;
        bind.buffer = &value.real;
        break;
      case ColumnKind::kText:
        value.text.resize(kTextBuffer);
        bind.buffer_type = MYSQL_TYPE_STRING;
        bind.buffer = value.text.data();
        bind.buffer_length = value.text.size();
        break;
    }
    bind.length = &value.length;
    bind.is_null = &value.is_null;
    bind.error = &value.truncated;
  }
  if (mysql_stmt_bind_result(statement, binds.data()) != 0) fail(sql_);

  for (;;) {
    const int fetched = mysql_stmt_fetch(statement);
    if (fetched == MYSQL_NO_DATA) break;
    if (fetched != 0 && fetched != MYSQL_DATA_TRUNCATED) fail(sql_);
    auto& row = rows.emplace_back();
    row.reserve(columns);
    for (unsigned i = 0; i < columns; ++i) {
      const Column& value = values[i];
      if (value.is_null) {
        row.emplace_back(std::monostate{});
        continue;
      }
      switch (value.kind) {
        case ColumnKind::kInteger:
          row.emplace_back(value.integer);
          break;
        case ColumnKind::kDouble:
          row.emplace_back(value.real);
          break;
        case ColumnKind::kText:
          if (value.length <= value.text.size()) {
            row.emplace_back(value.text.substr(0, value.length));
          } else {
            // Longer than the bound buffer: fetch this column alone, whole.
            std::string whole(value.length, '\0');
            MYSQL_BIND column{};
            unsigned long length = 0;
            column.buffer_type = MYSQL_TYPE_STRING;
            column.buffer = whole.data();
            column.buffer_length = whole.size();
            column.length = &length;
            if (mysql_stmt_fetch_column(statement, &column, i, 0) != 0) fail(sql_);
            whole.resize(std::min<std::size_t>(length, whole.size()));
            row.emplace_back(std::move(whole));
          }
          break;
      }
    }
  }
  return rows;
}

}  // namespace gpsrelay::store
