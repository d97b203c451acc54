// The sink layer's prepared-statement row (src/sink/sqlite_handle.h): bindings are not cleared
// between rows, so a row must bind every parameter, and a row that does not is refused before
// it can step with a value left from the row before.
#include <catch2/catch.hpp>

#include <string>

#include "sink/sqlite_handle.h"

namespace {

using lastack::sink::detail::Row;
using lastack::sink::detail::SqliteDb;
using lastack::sink::detail::SqliteStmt;

std::int64_t count(SqliteDb& db, const std::string& where) {
  auto q = SqliteStmt::prepare(db, "SELECT count(*) FROM t WHERE " + where);
  REQUIRE(q);
  auto n = q.value().query_int();
  REQUIRE(n);
  return n.value();
}

}  // namespace

TEST_CASE("A database row binds every parameter or is refused", "[sink][sqlite]") {
  auto opened = SqliteDb::open(":memory:");
  REQUIRE(opened);
  SqliteDb db = std::move(opened).value();
  REQUIRE(db.exec("CREATE TABLE t(a INTEGER, b TEXT, c TEXT)"));
  auto prepared = SqliteStmt::prepare(db, "INSERT INTO t VALUES (?, ?, ?)");
  REQUIRE(prepared);
  SqliteStmt& insert = prepared.value();

  {
    Row r(insert);
    const std::string text = "first";
    REQUIRE(r.integer(std::int64_t{1}).text(text).timestamp(lastack::Timestamp{0}).run());
  }
  {
    Row r(insert);  // binds two of three: c would still hold the first row's value
    const lastack::Status st = r.integer(std::int64_t{2}).null().run();
    REQUIRE_FALSE(st);
    CHECK(st.error().message.find("binds 2 of its statement's 3 parameters") != std::string::npos);
  }
  {
    Row r(insert);
    REQUIRE(r.integer(std::int64_t{3}).null().null().run());
  }
  CHECK(count(db, "1") == 2);
  CHECK(count(db, "a = 1 AND b = 'first' AND c = '1970-01-01T00:00:00.000000000Z'") == 1);
  CHECK(count(db, "a = 3 AND b IS NULL AND c IS NULL") == 1);
}
