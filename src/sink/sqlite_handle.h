// Minimal RAII wrappers over the sqlite3 C API: a database handle and a prepared statement.
// Every failure becomes a lastack::Error naming the database path and sqlite3_errmsg.
// Private to the sink layer.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include <sqlite3.h>

#include "lastack/core/ip_address.h"
#include "lastack/core/result.h"
#include "lastack/core/timestamp.h"

namespace lastack::sink::detail {

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

  [[nodiscard]] sqlite3_stmt* get() const { return stmt_; }
  [[nodiscard]] SqliteDb& db() const { return *db_; }
  // Runs a one-row query and returns its first column as an integer.
  Result<std::int64_t> query_int();

 private:
  SqliteStmt(SqliteDb& db, sqlite3_stmt* stmt) : db_(&db), stmt_(stmt) {}
  SqliteDb* db_ = nullptr;
  sqlite3_stmt* stmt_ = nullptr;
};

// Binds one row's values to ?1..?N in order and runs the statement. Typed binds straight into
// SQLite: no value boxing, and text is bound without copying (SQLITE_STATIC) from the caller's
// strings or from the row's own scratch buffer, both alive until run() has reset the
// statement. (Connection rows, the many, go in a batch at a time instead: connection_rows.h.)
class Row {
 public:
  explicit Row(SqliteStmt& stmt) : stmt_(stmt) {}
  Row(const Row&) = delete;
  Row& operator=(const Row&) = delete;
  ~Row();

  Row& integer(std::int64_t v);
  Row& integer(std::uint64_t v) { return integer(static_cast<std::int64_t>(v)); }
  Row& integer(std::uint32_t v) { return integer(static_cast<std::int64_t>(v)); }
  Row& integer(std::uint16_t v) { return integer(static_cast<std::int64_t>(v)); }
  Row& integer(bool v) { return integer(static_cast<std::int64_t>(v ? 1 : 0)); }
  Row& real(double v);
  Row& text(std::string_view s);  // must stay alive until run()
  Row& null();
  Row& timestamp(Timestamp ts);
  Row& timestamp(const std::optional<Timestamp>& ts) { return ts ? timestamp(*ts) : null(); }
  Row& ip(const IpAddress& a);
  Row& id_or_null(std::int64_t id) { return id > 0 ? integer(id) : null(); }

  // Steps the statement to completion and resets it for the next row.
  Status run();

 private:
  char* scratch(std::size_t n);
  void check(int rc);

  SqliteStmt& stmt_;
  int next_ = 1;
  int failed_at_ = 0;              // the first parameter whose bind failed
  std::array<char, 512> scratch_;  // not zeroed: a row writes what it binds
  std::size_t used_ = 0;
};
}  // namespace lastack::sink::detail
