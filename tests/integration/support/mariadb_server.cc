// MariadbServer and MysqlClient (see mariadb_server.h).
#include "support/mariadb_server.h"

#include <signal.h>
#include <unistd.h>

#include <chrono>
#include <stdexcept>

#include "support/eventually.h"
#include "support/ports.h"

namespace gpsrelay::testing {
namespace {

#ifndef MARIADB_INSTALL_DB_PATH
#define MARIADB_INSTALL_DB_PATH "/usr/bin/mariadb-install-db"
#endif
#ifndef MARIADBD_PATH
#define MARIADBD_PATH "/usr/sbin/mariadbd"
#endif

// Small buffers: a test server holds a few hundred rows.
const std::vector<std::string> kServerOptions = {"--innodb-buffer-pool-size=16M",
                                                 "--innodb-log-file-size=8M"};

std::string current_user() {
  // mariadbd refuses to run as root unless told to; as anyone else it runs
  // as that user anyway.
  return getuid() == 0 ? "root" : "";
}

}  // namespace

MysqlClient::MysqlClient(const std::string& host, int port, const std::string& user,
                         const std::string& password, const std::string& database)
    : mysql_(mysql_init(nullptr)) {
  if (!mysql_) throw std::runtime_error("mysql_init failed");
  const unsigned timeout = 5;
  mysql_options(mysql_.get(), MYSQL_OPT_CONNECT_TIMEOUT, &timeout);
  mysql_options(mysql_.get(), MYSQL_OPT_READ_TIMEOUT, &timeout);
  if (mysql_real_connect(mysql_.get(), host.c_str(), user.c_str(), password.c_str(),
                         database.empty() ? nullptr : database.c_str(), static_cast<unsigned>(port),
                         nullptr, 0) == nullptr) {
    throw std::runtime_error("mysql connect " + host + ":" + std::to_string(port) + ": " +
                             mysql_error(mysql_.get()));
  }
}

std::vector<SqlRow> MysqlClient::query(const std::string& sql) {
  if (mysql_real_query(mysql_.get(), sql.data(), sql.size()) != 0) {
    throw std::runtime_error("mysql: " + sql + ": " + mysql_error(mysql_.get()));
  }
  std::unique_ptr<MYSQL_RES, decltype(&mysql_free_result)> result(mysql_store_result(mysql_.get()),
                                                                  &mysql_free_result);
  std::vector<SqlRow> rows;
  if (!result) return rows;
  const unsigned columns = mysql_num_fields(result.get());
  const MYSQL_FIELD* fields = mysql_fetch_fields(result.get());
  while (MYSQL_ROW row = mysql_fetch_row(result.get())) {
    const unsigned long* lengths = mysql_fetch_lengths(result.get());
    SqlRow out;
    for (unsigned i = 0; i < columns; ++i) {
      out[fields[i].name] = row[i] == nullptr
                                ? std::nullopt
                                : std::optional<std::string>(std::string(row[i], lengths[i]));
    }
    rows.push_back(std::move(out));
  }
  return rows;
}

std::string MysqlClient::scalar(const std::string& sql) {
  const std::vector<SqlRow> rows = query(sql);
  if (rows.size() != 1 || rows[0].size() != 1 || !rows[0].begin()->second) {
    throw std::runtime_error("mysql: " + sql + ": not a single value");
  }
  return *rows[0].begin()->second;
}

MariadbServer::MariadbServer() : dir_("gpsrelay-mariadb"), port_(pick_free_port()) {
  SpawnOptions install;
  install.argv = {MARIADB_INSTALL_DB_PATH, "--no-defaults",
                  "--datadir=" + dir_.file("data").string(),
                  "--auth-root-authentication-method=normal", "--skip-test-db"};
  if (!current_user().empty()) install.argv.push_back("--user=" + current_user());
  install.argv.insert(install.argv.end(), kServerOptions.begin(), kServerOptions.end());
  const CommandResult installed = run_command(install, dir_.path(), std::chrono::seconds(60));
  if (!installed.status || !installed.status->exited_with(0)) {
    throw std::runtime_error("mariadb-install-db failed:\n" + installed.out + installed.err);
  }
  start();
}

MariadbServer::~MariadbServer() {
  if (process_) process_->kill();
}

std::string MariadbServer::log() const { return read_file(dir_.file("mariadbd.log")); }

bool MariadbServer::running() { return process_ && process_->running(); }

void MariadbServer::start() {
  if (running()) return;
  SpawnOptions spawn;
  spawn.argv = {MARIADBD_PATH,
                "--no-defaults",
                "--datadir=" + dir_.file("data").string(),
                "--port=" + std::to_string(port_),
                "--bind-address=127.0.0.1",
                "--socket=" + dir_.file("mariadbd.sock").string(),
                "--pid-file=" + dir_.file("mariadbd.pid").string(),
                "--skip-name-resolve"};
  if (!current_user().empty()) spawn.argv.push_back("--user=" + current_user());
  spawn.argv.insert(spawn.argv.end(), kServerOptions.begin(), kServerOptions.end());
  spawn.drop_env_prefixes = {"NOTIFY_SOCKET", "WATCHDOG_", "LISTEN_"};
  spawn.stdout_path = dir_.file("mariadbd.log");
  process_ = std::make_unique<ChildProcess>(spawn);

  bool exited = false;
  const bool answered = eventually(
      [&] {
        if (!process_->running()) return exited = true;
        try {
          client().query("SELECT 1");
          return true;
        } catch (const std::exception&) {
          return false;
        }
      },
      std::chrono::seconds(30));
  if (!answered || exited) {
    process_->kill();
    throw std::runtime_error("mariadbd on port " + std::to_string(port_) +
                             (exited ? " exited" : " did not answer in 30 s") + "; log:\n" + log());
  }
}

void MariadbServer::stop() {
  if (!running()) return;
  process_->send_signal(SIGTERM);
  if (!process_->wait_for(std::chrono::seconds(10))) process_->kill();
}

void MariadbServer::create_database(const std::string& database, const std::string& user,
                                    const std::string& password) {
  MysqlClient root = client();
  root.query("CREATE DATABASE IF NOT EXISTS `" + database + "`");
  root.query("CREATE USER IF NOT EXISTS '" + user + "'@'%' IDENTIFIED BY '" + password + "'");
  root.query("GRANT ALL ON `" + database + "`.* TO '" + user + "'@'%'");
}

MysqlClient MariadbServer::client(const std::string& database) const {
  return MysqlClient("127.0.0.1", port_, "root", "", database);
}

}  // namespace gpsrelay::testing
