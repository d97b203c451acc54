#include "sqlite_handle.h"

#include <cstring>
#include <utility>

namespace lastack::sink::detail {

Result<SqliteDb> SqliteDb::open(const std::string& path) {
  // SQLite's memory statistics (sqlite3_memory_used, which nothing here reads) cost a global
  // mutex and counter updates on each of the few allocations it makes per row. They can only be
  // turned off before SQLite initialises; if something used SQLite first, the call just fails.
  // sqlite3_config must not race other SQLite calls: lastack's first open comes before the
  // pipeline starts its threads.
  [[maybe_unused]] static const int memstatus = sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
  sqlite3* db = nullptr;
  // NOMUTEX: a handle is used by one thread at a time (the pipeline hands it from thread to
  // thread, never shares it), so SQLite's per-call locking is pure cost.
  const int rc = sqlite3_open_v2(
      path.c_str(), &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, nullptr);
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

SqliteDb::~SqliteDb() {
  sqlite3_close(db_);
}

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

std::int64_t SqliteDb::last_insert_rowid() const {
  return sqlite3_last_insert_rowid(db_);
}

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

SqliteStmt::~SqliteStmt() {
  sqlite3_finalize(stmt_);
}

Result<std::int64_t> SqliteStmt::query_int() {
  const int rc = sqlite3_step(stmt_);
  Result<std::int64_t> result = rc == SQLITE_ROW
                                    ? Result<std::int64_t>(sqlite3_column_int64(stmt_, 0))
                                    : Result<std::int64_t>(db_->error("query returned no row"));
  sqlite3_reset(stmt_);
  return result;
}

// The bindings are left in place, not cleared (clearing them took a few percent of a connection
// row): run() refuses a row that did not bind every parameter, so no statement ever steps with
// a value left over from an earlier row.
Row::~Row() {
  sqlite3_reset(stmt_.get());
}

void Row::check(int rc) {
  if (rc != SQLITE_OK && failed_at_ == 0) failed_at_ = next_;
  ++next_;
}

char* Row::scratch(std::size_t n) {
  if (used_ + n > scratch_.size()) return nullptr;
  char* p = scratch_.data() + used_;
  used_ += n;
  return p;
}

Row& Row::integer(std::int64_t v) {
  check(sqlite3_bind_int64(stmt_.get(), next_, v));
  return *this;
}

Row& Row::real(double v) {
  check(sqlite3_bind_double(stmt_.get(), next_, v));
  return *this;
}

Row& Row::text(std::string_view s) {
  check(sqlite3_bind_text64(stmt_.get(), next_, s.data(), s.size(), SQLITE_STATIC, SQLITE_UTF8));
  return *this;
}

Row& Row::null() {
  check(sqlite3_bind_null(stmt_.get(), next_));
  return *this;
}

Row& Row::timestamp(Timestamp ts) {
  Rfc3339Buffer buf;
  const std::size_t n = format_rfc3339(ts, buf);
  char* p = scratch(n);
  if (p == nullptr) {  // a row with more times than the scratch holds: copy instead
    check(sqlite3_bind_text64(stmt_.get(), next_, buf.data(), n, SQLITE_TRANSIENT, SQLITE_UTF8));
    return *this;
  }
  std::memcpy(p, buf.data(), n);
  return text({p, n});
}

Row& Row::ip(const IpAddress& a) {
  IpBuffer buf;
  const std::size_t n = format_ip(a, buf);
  char* p = scratch(n);
  if (p == nullptr) {
    check(sqlite3_bind_text64(stmt_.get(), next_, buf.data(), n, SQLITE_TRANSIENT, SQLITE_UTF8));
    return *this;
  }
  std::memcpy(p, buf.data(), n);
  return text({p, n});
}

Status Row::run() {
  if (failed_at_ != 0) {
    return stmt_.db().error("cannot bind parameter " + std::to_string(failed_at_));
  }
  if (const int want = sqlite3_bind_parameter_count(stmt_.get()); next_ - 1 != want) {
    return make_error(ErrorCode::usage, "a database row binds " + std::to_string(next_ - 1) +
                                            " of its statement's " + std::to_string(want) +
                                            " parameters");
  }
  const int rc = sqlite3_step(stmt_.get());
  // Read the message before reset: sqlite3_reset may overwrite it.
  Status result = rc == SQLITE_DONE ? Status{} : Status{stmt_.db().error("cannot write row")};
  sqlite3_reset(stmt_.get());
  return result;
}

}  // namespace lastack::sink::detail
