#include "support/sql.h"

#include <sqlite3.h>
#include <catch2/catch.hpp>

namespace lastack::test {

std::vector<std::string> sql_rows(const std::string& path, const std::string& sql) {
  INFO("database " << path << ", query " << sql);
  sqlite3* db = nullptr;
  if (sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READONLY, nullptr) != SQLITE_OK) {
    const std::string why = db != nullptr ? sqlite3_errmsg(db) : "out of memory";
    sqlite3_close(db);
    FAIL("cannot open: " << why);
  }
  sqlite3_stmt* stmt = nullptr;
  if (sqlite3_prepare_v2(db, sql.c_str(), -1, &stmt, nullptr) != SQLITE_OK) {
    const std::string why = sqlite3_errmsg(db);
    sqlite3_close(db);
    FAIL("cannot prepare: " << why);
  }
  std::vector<std::string> rows;
  while (sqlite3_step(stmt) == SQLITE_ROW) {
    std::string row;
    for (int i = 0; i < sqlite3_column_count(stmt); ++i) {
      if (i > 0) row += "|";
      const unsigned char* t = sqlite3_column_text(stmt, i);
      row += t != nullptr ? reinterpret_cast<const char*>(t) : "NULL";
    }
    rows.push_back(row);
  }
  sqlite3_finalize(stmt);
  sqlite3_close(db);
  return rows;
}

std::string sql_scalar(const std::string& path, const std::string& sql) {
  const std::vector<std::string> rows = sql_rows(path, sql);
  return rows.empty() ? "<none>" : rows.front();
}

}  // namespace lastack::test
