// MariadbServer and MysqlClient: a private mariadbd (its own data dir in a
// temp dir, a free loopback port, no system service) for the failure-store
// tests, and the blocking client the tests inspect it with. The server can
// be stopped and started again on the same port and data to play an outage.
#pragma once

#include <mysql.h>

#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "support/child_process.h"
#include "support/temp_dir.h"

namespace gpsrelay::testing {

using SqlRow = std::map<std::string, std::optional<std::string>>;  // column -> value (NULL)

class MysqlClient {
 public:
  // Throws std::runtime_error when it cannot connect.
  MysqlClient(const std::string& host, int port, const std::string& user,
              const std::string& password, const std::string& database = {});

  // Runs one statement; the rows of a result set (none for other statements).
  // Throws std::runtime_error with the server's message on an error.
  std::vector<SqlRow> query(const std::string& sql);
  // The single value of a one-row, one-column result.
  std::string scalar(const std::string& sql);

 private:
  struct Close {
    void operator()(MYSQL* mysql) const { mysql_close(mysql); }
  };
  std::unique_ptr<MYSQL, Close> mysql_;
};

class MariadbServer {
 public:
  // Initialises a data dir and starts mariadbd; returns once it answers.
  MariadbServer();
  ~MariadbServer();
  MariadbServer(const MariadbServer&) = delete;
  MariadbServer& operator=(const MariadbServer&) = delete;

  int port() const { return port_; }
  std::string log() const;

  // A database and a user with every privilege on it (what an operator
  // gives gpsrelay), for the daemon's [mysql] section.
  void create_database(const std::string& database, const std::string& user,
                       const std::string& password);
  // A root connection, optionally to `database`.
  MysqlClient client(const std::string& database = {}) const;

  bool running();
  void start();
  // Clean shutdown (SIGTERM), then SIGKILL after 10 s.
  void stop();

 private:
  TempDir dir_;
  int port_;
  std::unique_ptr<ChildProcess> process_;
};

}  // namespace gpsrelay::testing
