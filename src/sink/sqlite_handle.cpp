#include "sqlite_handle.h"

#include <utility>

namespace lastack::sink::detail {

Result<SqliteDb> SqliteDb::open(const std::string& path) {
  sqlite3* db = nullptr;
  const int rc = sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE,
                                 nullptr);
  if (rc != SQLITE_OK) {
    // sqlite3_open_v2 hands back a handle even on failure, carrying the message.
    std::string msg = db != nullptr ? sqlite3_errmsg(db) : sqlite3_errstr(rc);
    sqlite3_close(db);
    return make_error(ErrorCode::io, "cannot open SQLite database " + path + ": " + msg);
  }
  sqlite3_busy_timeout(db, 10'000);
  return SqliteDb(db, path);
}

SqliteDb::SqliteDb(SqliteDb&& other) noexcept
    : db_(std::exchange(other.db_, nullptr)), path_(std::move(other.path_)) {}

SqliteDb::~SqliteDb() { sqlite3_close(db_); }

Status SqliteDb::exec(const std::string& sql) {
  if (sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, nullptr) != SQLITE_OK) {
    return error("cannot run \"" + sql.substr(0, 40) + "\"");
  }
  return {};
}

Error SqliteDb::error(const std::string& what) const {
  return make_error(ErrorCode::io,
                    "SQLite database " + path_ + ": " + what + ": " + sqlite3_errmsg(db_));
}

std::int64_t SqliteDb::last_insert_rowid() const { return sqlite3_last_insert_rowid(db_); }

Result<SqliteStmt> SqliteStmt::prepare(SqliteDb& db, const std::string& sql) {
  sqlite3_stmt* stmt = nullptr;
  if (sqlite3_prepare_v2(db.get(), sql.c_str(), -1, &stmt, nullptr) != SQLITE_OK) {
    sqlite3_finalize(stmt);
    return db.error("cannot prepare \"" + sql.substr(0, 40) + "\"");
  }
  return SqliteStmt(db, stmt);
}

SqliteStmt::SqliteStmt(SqliteStmt&& other) noexcept
    : db_(other.db_), stmt_(std::exchange(other.stmt_, nullptr)) {}

SqliteStmt::~SqliteStmt() { sqlite3_finalize(stmt_); }

Status SqliteStmt::bind(int index, const SqlValue& value) {
  int rc = SQLITE_OK;
  if (const auto* i = std::get_if<std::int64_t>(&value)) {
    rc = sqlite3_bind_int64(stmt_, index, *i);
  } else if (const auto* d = std::get_if<double>(&value)) {
    rc = sqlite3_bind_double(stmt_, index, *d);
  } else if (const auto* s = std::get_if<std::string>(&value)) {
    rc = sqlite3_bind_text64(stmt_, index, s->data(), s->size(), SQLITE_TRANSIENT, SQLITE_UTF8);
  } else {
    rc = sqlite3_bind_null(stmt_, index);
  }
  if (rc != SQLITE_OK) return db_->error("cannot bind parameter " + std::to_string(index));
  return {};
}

Status SqliteStmt::run(std::initializer_list<SqlValue> values) {
  int index = 1;
  for (const SqlValue& v : values) {
    if (Status st = bind(index++, v); !st) {
      sqlite3_reset(stmt_);
      return st;
    }
  }
  const int rc = sqlite3_step(stmt_);
  // Read the message before reset: sqlite3_reset may overwrite it.
  Status result = rc == SQLITE_DONE ? Status{} : Status{db_->error("cannot write row")};
  sqlite3_reset(stmt_);
  sqlite3_clear_bindings(stmt_);
  return result;
}

Result<std::int64_t> SqliteStmt::query_int() {
  const int rc = sqlite3_step(stmt_);
  Result<std::int64_t> result =
      rc == SQLITE_ROW ? Result<std::int64_t>(sqlite3_column_int64(stmt_, 0))
                       : Result<std::int64_t>(db_->error("query returned no row"));
  sqlite3_reset(stmt_);
  return result;
}

}  // namespace lastack::sink::detail
