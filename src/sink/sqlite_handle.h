// Minimal RAII wrappers over the sqlite3 C API: a database handle and a prepared statement.
// Every failure becomes a lastack::Error naming the database path and sqlite3_errmsg.
// Private to the sink layer.
#pragma once

#include <cstdint>
#include <initializer_list>
#include <string>
#include <variant>

#include <sqlite3.h>

#include "lastack/core/result.h"

namespace lastack::sink::detail {

// One bound parameter: NULL, an integer, a double or text.
using SqlValue = std::variant<std::nullptr_t, std::int64_t, double, std::string>;

class SqliteDb {
 public:
  // Opens (creating if missing) the database at `path`, with a busy timeout so that two runs
  // appending to one file wait for each other instead of failing.
  static Result<SqliteDb> open(const std::string& path);

  SqliteDb(SqliteDb&& other) noexcept;
  SqliteDb& operator=(SqliteDb&&) = delete;
  SqliteDb(const SqliteDb&) = delete;
  SqliteDb& operator=(const SqliteDb&) = delete;
  ~SqliteDb();

  [[nodiscard]] sqlite3* get() const { return db_; }
  [[nodiscard]] const std::string& path() const { return path_; }
  Status exec(const std::string& sql);
  // An Error for the last failed call, with `what` saying what was being done.
  [[nodiscard]] Error error(const std::string& what) const;
  [[nodiscard]] std::int64_t last_insert_rowid() const;

 private:
  SqliteDb(sqlite3* db, std::string path) : db_(db), path_(std::move(path)) {}
  sqlite3* db_ = nullptr;
  std::string path_;
};

class SqliteStmt {
 public:
  static Result<SqliteStmt> prepare(SqliteDb& db, const std::string& sql);

  SqliteStmt(SqliteStmt&& other) noexcept;
  SqliteStmt& operator=(SqliteStmt&&) = delete;
  SqliteStmt(const SqliteStmt&) = delete;
  SqliteStmt& operator=(const SqliteStmt&) = delete;
  ~SqliteStmt();

  // Binds `values` to ?1..?N, runs the statement to completion and resets it for reuse.
  Status run(std::initializer_list<SqlValue> values);
  // Runs a one-row query and returns its first column as an integer.
  Result<std::int64_t> query_int();

 private:
  SqliteStmt(SqliteDb& db, sqlite3_stmt* stmt) : db_(&db), stmt_(stmt) {}
  Status bind(int index, const SqlValue& value);
  SqliteDb* db_ = nullptr;
  sqlite3_stmt* stmt_ = nullptr;
};

}  // namespace lastack::sink::detail
