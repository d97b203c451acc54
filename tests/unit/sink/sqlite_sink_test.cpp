#include <catch2/catch.hpp>

#include <sqlite3.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <span>
#include <string>
#include <vector>

#include "lastack/sink/sinks.h"
#include "support/report_fixture.h"
#include "support/sql.h"

using lastack::test::sql_rows;
using lastack::test::sql_scalar;

namespace f = lastack::findings;

namespace {

struct TempDb {
  std::string dir;
  std::string path;
  TempDb() {
    const char* base = std::getenv("LASTACK_TEST_TMP");
    std::string root = base != nullptr ? base : "/tmp";
    ::mkdir(root.c_str(), 0755);
    std::string tmpl = root + "/sink-sqlite-XXXXXX";
    dir = ::mkdtemp(tmpl.data()) != nullptr ? tmpl : "/tmp";
    path = dir + "/runs.db";
  }
  ~TempDb() {
    for (const char* suffix : {"", "-journal", "-wal", "-shm"}) {
      ::unlink((path + suffix).c_str());
    }
    ::rmdir(dir.c_str());
  }
};

}  // namespace

TEST_CASE("SQLite: a new database gets the schema and one run", "[sink][sqlite]") {
  TempDb db;
  const f::Report r = lastack::test::make_fixture_report();
  const lastack::Status s = lastack::sink::append_sqlite(r, db.path);
  REQUIRE(s.ok());
  CHECK(sql_scalar(db.path, "PRAGMA user_version") == "1");
  CHECK(sql_scalar(db.path, "SELECT count(*) FROM runs") == "1");
  CHECK(sql_scalar(db.path, "SELECT tool_version FROM runs") == "0.1.0-test");
  CHECK(sql_scalar(db.path, "SELECT json_extract(settings_json, '$.fail_on') FROM runs") ==
        "error");
  CHECK(sql_scalar(db.path, "SELECT count(*) FROM inputs") == "2");
  CHECK(sql_scalar(db.path, "SELECT count(*) FROM connections") == "4");  // all, not only listed
  CHECK(sql_scalar(db.path, "SELECT count(*) FROM findings") == "4");
  CHECK(sql_scalar(db.path,
                   "SELECT group_concat(name) FROM (SELECT name FROM sqlite_schema "
                   "WHERE type = 'table' AND sql LIKE '%STRICT' ORDER BY name)") ==
        "connections,findings,inputs,runs");
  CHECK(sql_scalar(db.path,
                   "SELECT count(*) FROM sqlite_schema WHERE type = 'index' AND name IN "
                   "('findings_kind', 'findings_severity', 'findings_run', "
                   "'connections_server', 'connections_run')") == "5");
}

TEST_CASE("SQLite: rows carry the report's values", "[sink][sqlite]") {
  TempDb db;
  REQUIRE(lastack::sink::append_sqlite(lastack::test::make_fixture_report(), db.path).ok());
  CHECK(sql_rows(db.path,
                 "SELECT input_no, path, format, compression, sha256, status, error_offset,"
                 " first_ts FROM inputs ORDER BY input_no") ==
        std::vector<std::string>{
            "0|captures/rot-0.pcap|pcap|NULL|NULL|ok|NULL|2026-11-21T09:00:00.000000000Z",
            "1|captures/rot-1.pcapng.gz|pcapng|gzip|NULL|truncated|4096|"
            "2026-11-21T09:01:00.000000000Z"});
  CHECK(sql_rows(db.path,
                 "SELECT connection_no, client_ip, client_port, server_ip, server_port, "
                 "incarnation, close_kind, active_closer, time_wait_holder, "
                 "final_ack_seen, time_wait_start FROM connections "
                 "ORDER BY connection_no") ==
        std::vector<std::string>{
            "1|10.0.0.1|40000|10.0.0.2|80|1|fin|client|client|1|2026-11-21T09:00:01.000000000Z",
            "2|10.0.0.1|40000|10.0.0.2|80|2|open_at_end|none|none|0|NULL",
            "3|2001:db8::1|51000|2001:db8::2|443|1|abortive|server|none|0|NULL",
            "4|192.168.1.5|33000|192.168.1.9|22|1|open_at_end|none|none|0|NULL"});
  // Connections are attributed to the input of their first packet.
  CHECK(sql_rows(db.path,
                 "SELECT c.connection_no, i.input_no FROM connections c "
                 "JOIN inputs i ON i.id = c.input_id ORDER BY c.connection_no") ==
        std::vector<std::string>{"1|0", "2|0", "3|1", "4|0"});
  CHECK(sql_rows(db.path,
                 "SELECT f.finding_no, f.kind, f.severity, f.severity_rank, "
                 "c.connection_no, f.frames, f.related FROM findings f "
                 "JOIN connections c ON c.id = f.connection_id ORDER BY f.finding_no") ==
        std::vector<std::string>{
            "1|fin_retransmit|info|0|1|[31,34]|[2]", "2|lost_final_ack|warning|1|1|[31,33,34]|[1]",
            "3|tuple_reuse|error|2|2|[118,2]|[2]", "4|abortive_close|error|2|3|[7,9]|[]"});
  CHECK(sql_scalar(db.path, "SELECT frame_refs FROM findings WHERE finding_no = 3") ==
        "[[0,118],[1,2]]");
  CHECK(sql_scalar(db.path, "SELECT frame_refs FROM findings WHERE finding_no = 2") == "NULL");
  CHECK(sql_scalar(db.path,
                   "SELECT json_extract(evidence_json, '$.intervals_s[0]') FROM findings "
                   "WHERE kind = 'lost_final_ack'") == "0.21");
}

TEST_CASE("SQLite: runs are appended, never replaced", "[sink][sqlite]") {
  TempDb db;
  REQUIRE(lastack::sink::append_sqlite(lastack::test::make_fixture_report(), db.path).ok());
  REQUIRE(lastack::sink::append_sqlite(lastack::test::make_fixture_report(), db.path).ok());
  REQUIRE(lastack::sink::append_sqlite(lastack::test::make_quiet_report(), db.path).ok());
  CHECK(sql_scalar(db.path, "SELECT count(*) FROM runs") == "3");
  CHECK(sql_scalar(db.path, "SELECT count(*) FROM inputs") == "5");
  CHECK(sql_scalar(db.path, "SELECT count(*) FROM connections") == "10");
  CHECK(sql_scalar(db.path, "SELECT count(*) FROM findings") == "8");
  CHECK(sql_rows(db.path, "SELECT run_id, count(*) FROM connections GROUP BY run_id") ==
        std::vector<std::string>{"1|4", "2|4", "3|2"});
  // Each run's findings point at its own connections.
  CHECK(sql_scalar(db.path,
                   "SELECT count(*) FROM findings f JOIN connections c ON "
                   "c.id = f.connection_id WHERE c.run_id != f.run_id") == "0");
  CHECK(sql_scalar(db.path, "PRAGMA foreign_key_check") == "<none>");
  // Runs appended to a database that has the connections indexes keep them complete.
  CHECK(sql_scalar(db.path, "PRAGMA integrity_check") == "ok");
  CHECK(sql_scalar(db.path,
                   "SELECT count(*) FROM connections INDEXED BY connections_server "
                   "WHERE server_ip > ''") == "10");
}

TEST_CASE("SQLite: a new database gets 16 KiB pages, an existing one keeps its own",
          "[sink][sqlite]") {
  TempDb fresh;
  REQUIRE(lastack::sink::append_sqlite(lastack::test::make_fixture_report(), fresh.path).ok());
  CHECK(sql_scalar(fresh.path, "PRAGMA page_size") == "16384");

  // An empty database file made with SQLite's default page size, as a user might prepare one.
  TempDb existing;
  sqlite3* raw = nullptr;
  REQUIRE(sqlite3_open(existing.path.c_str(), &raw) == SQLITE_OK);
  REQUIRE(sqlite3_exec(raw, "PRAGMA page_size = 4096; CREATE TABLE t(x); DROP TABLE t;", nullptr,
                       nullptr, nullptr) == SQLITE_OK);
  sqlite3_close(raw);
  REQUIRE(lastack::sink::append_sqlite(lastack::test::make_fixture_report(), existing.path).ok());
  REQUIRE(lastack::sink::append_sqlite(lastack::test::make_fixture_report(), existing.path).ok());
  CHECK(sql_scalar(existing.path, "PRAGMA page_size") == "4096");
  CHECK(sql_scalar(existing.path, "SELECT count(*) FROM connections") == "8");
  CHECK(sql_scalar(existing.path, "PRAGMA integrity_check") == "ok");
}

TEST_CASE("SQLite: connections carry their VLAN, NULL when untagged", "[sink][sqlite]") {
  TempDb db;
  f::Report tagged = lastack::test::make_fixture_report();
  for (f::ConnectionSummary& c : tagged.connections) {
    if (c.id == 3) c.vlan = 10;
  }
  REQUIRE(lastack::sink::append_sqlite(tagged, db.path).ok());
  CHECK(sql_rows(db.path, "SELECT connection_no, vlan FROM connections ORDER BY connection_no") ==
        std::vector<std::string>{"1|NULL", "2|NULL", "3|10", "4|NULL"});
}

TEST_CASE("SQLite: a database made before the vlan column gets it when a run is appended",
          "[sink][sqlite]") {
  TempDb db;
  REQUIRE(lastack::sink::append_sqlite(lastack::test::make_quiet_report(), db.path).ok());
  sqlite3* raw = nullptr;
  REQUIRE(sqlite3_open(db.path.c_str(), &raw) == SQLITE_OK);
  REQUIRE(sqlite3_exec(raw, "ALTER TABLE connections DROP COLUMN vlan", nullptr, nullptr,
                       nullptr) == SQLITE_OK);
  sqlite3_close(raw);
  REQUIRE(sql_scalar(db.path,
                     "SELECT count(*) FROM pragma_table_info('connections') "
                     "WHERE name = 'vlan'") == "0");

  f::Report tagged = lastack::test::make_fixture_report();
  for (f::ConnectionSummary& c : tagged.connections) c.vlan = 7;
  REQUIRE(lastack::sink::append_sqlite(tagged, db.path).ok());
  CHECK(sql_rows(db.path, "SELECT run_id, vlan, count(*) FROM connections GROUP BY 1, 2") ==
        std::vector<std::string>{"1|NULL|2", "2|7|4"});
  CHECK(sql_scalar(db.path, "PRAGMA user_version") == "1");
  CHECK(sql_scalar(db.path, "PRAGMA integrity_check") == "ok");
}

TEST_CASE("SQLite: which servers lose final ACKs most often is one query", "[sink][sqlite]") {
  TempDb db;
  f::Report r = lastack::test::make_fixture_report();
  REQUIRE(lastack::sink::append_sqlite(r, db.path).ok());
  REQUIRE(lastack::sink::append_sqlite(r, db.path).ok());
  // A third run where the IPv6 server loses one final ACK.
  r.findings[3].kind = "lost_final_ack";
  r.findings[3].cause = "unresolved";
  REQUIRE(lastack::sink::append_sqlite(r, db.path).ok());
  CHECK(sql_rows(db.path,
                 "SELECT c.server_ip, c.server_port, count(*) AS n FROM findings f "
                 "JOIN connections c ON c.id = f.connection_id WHERE f.kind = 'lost_final_ack' "
                 "GROUP BY c.server_ip, c.server_port ORDER BY n DESC") ==
        std::vector<std::string>{"10.0.0.2|80|3", "2001:db8::2|443|1"});
  // "All error findings or worse of a night's archive": two per run (the third run's
  // lost_final_ack kept the abortive_close's severity).
  CHECK(sql_scalar(db.path,
                   "SELECT count(*) FROM findings f JOIN runs r ON r.id = f.run_id "
                   "WHERE f.severity_rank >= 2 AND f.ts >= '2026-11-21T00:00:00' "
                   "AND f.ts < '2026-11-22T00:00:00'") == "6");
}

TEST_CASE("SQLite: a database of another schema version is refused untouched", "[sink][sqlite]") {
  TempDb db;
  {
    sqlite3* raw = nullptr;
    REQUIRE(sqlite3_open(db.path.c_str(), &raw) == SQLITE_OK);
    REQUIRE(sqlite3_exec(raw, "CREATE TABLE t(x); PRAGMA user_version = 7;", nullptr, nullptr,
                         nullptr) == SQLITE_OK);
    sqlite3_close(raw);
  }
  const lastack::Status s =
      lastack::sink::append_sqlite(lastack::test::make_fixture_report(), db.path);
  REQUIRE_FALSE(s.ok());
  CHECK(s.error().message.find(db.path) != std::string::npos);
  CHECK(s.error().message.find("schema version 7") != std::string::npos);
  CHECK(sql_scalar(db.path, "PRAGMA user_version") == "7");
  CHECK(sql_scalar(db.path, "SELECT group_concat(name) FROM sqlite_schema") == "t");
}

TEST_CASE("SQLite: a foreign database with user_version 0 is refused too", "[sink][sqlite]") {
  TempDb db;
  {
    sqlite3* raw = nullptr;
    REQUIRE(sqlite3_open(db.path.c_str(), &raw) == SQLITE_OK);
    REQUIRE(sqlite3_exec(raw, "CREATE TABLE notes(x)", nullptr, nullptr, nullptr) == SQLITE_OK);
    sqlite3_close(raw);
  }
  CHECK_FALSE(lastack::sink::append_sqlite(lastack::test::make_fixture_report(), db.path).ok());
  CHECK(sql_scalar(db.path, "SELECT group_concat(name) FROM sqlite_schema") == "notes");
}

TEST_CASE("SQLite: errors name the path and SQLite's message", "[sink][sqlite]") {
  TempDb db;
  std::ofstream(db.path) << "this is not a database, just text that is long enough to matter "
                            "for the SQLite header check, padded out to well beyond 100 bytes.";
  lastack::Status s = lastack::sink::append_sqlite(lastack::test::make_fixture_report(), db.path);
  REQUIRE_FALSE(s.ok());
  CHECK(s.error().message.find(db.path) != std::string::npos);
  CHECK(s.error().message.find("not a database") != std::string::npos);

  const std::string missing = db.dir + "/no/such/dir/runs.db";
  s = lastack::sink::append_sqlite(lastack::test::make_fixture_report(), missing);
  REQUIRE_FALSE(s.ok());
  CHECK(s.error().message.find(missing) != std::string::npos);
}

TEST_CASE("SQLite: connections are written as they come; an unfinished run says incomplete",
          "[sink][sqlite]") {
  TempDb db;
  const f::Report r = lastack::test::make_fixture_report();
  REQUIRE(r.connections.size() >= 2);
  {
    auto writer = lastack::sink::SqliteRunWriter::open(db.path, r);
    REQUIRE(writer.ok());
    CHECK(sql_scalar(db.path, "SELECT group_concat(status) FROM inputs") ==
          "incomplete,incomplete");
    const f::JudgedConnection first[] = {{&r.connections[0], false}};
    REQUIRE(writer.value()->add_connections(first).ok());
    // Destroyed without finish(): the uncommitted rows are rolled back, the run and its
    // inputs (committed by open()) stay, marked incomplete.
  }
  CHECK(sql_scalar(db.path, "SELECT count(*) FROM runs") == "1");
  CHECK(sql_scalar(db.path, "SELECT count(*) FROM connections") == "0");
  CHECK(sql_scalar(db.path, "SELECT count(*) FROM inputs WHERE status = 'incomplete'") == "2");
  // The run index comes with the schema; the server index when a run ends, so the next run to
  // end builds it.
  const std::string connection_indexes =
      "SELECT group_concat(name) FROM (SELECT name FROM sqlite_schema WHERE type = 'index' AND "
      "name IN ('connections_server', 'connections_run') ORDER BY name)";
  CHECK(sql_scalar(db.path, connection_indexes) == "connections_run");

  auto writer = lastack::sink::SqliteRunWriter::open(db.path, r);
  REQUIRE(writer.ok());
  std::vector<f::JudgedConnection> rows;
  for (const f::ConnectionSummary& c : r.connections) {
    bool flagged = false;
    for (const f::Finding& fd : r.findings) flagged = flagged || fd.connection_id == c.id;
    rows.push_back({&c, flagged});
  }
  // In batches of one, then the rest: the findings rows must find their connection's row
  // whichever batch it came in.
  const std::span<const f::JudgedConnection> all(rows);
  REQUIRE(writer.value()->add_connections(all.first(1)).ok());
  REQUIRE(writer.value()->add_connections({}).ok());
  REQUIRE(writer.value()->add_connections(all.subspan(1)).ok());
  REQUIRE(writer.value()->finish(r).ok());
  CHECK(sql_scalar(db.path, connection_indexes) == "connections_run,connections_server");
  CHECK(sql_scalar(db.path, "PRAGMA integrity_check") == "ok");
  const std::string run2 = "(SELECT max(id) FROM runs)";
  CHECK(sql_scalar(db.path, "SELECT count(*) FROM inputs WHERE run_id = " + run2 +
                                " AND status = 'incomplete'") == "0");
  CHECK(sql_scalar(db.path, "SELECT count(*) FROM connections WHERE run_id = " + run2) ==
        std::to_string(r.connections.size()));
  // Every finding of a connection points at that connection's row.
  CHECK(sql_scalar(db.path,
                   "SELECT count(*) FROM findings fd JOIN connections c ON c.id = "
                   "fd.connection_id WHERE fd.run_id = " +
                       run2) ==
        sql_scalar(db.path,
                   "SELECT count(*) FROM findings WHERE connection_id IS NOT NULL AND "
                   "run_id = " +
                       run2));
  CHECK(sql_scalar(db.path, "SELECT count(*) FROM findings WHERE run_id = " + run2 +
                                " AND connection_id IS NULL AND kind <> 'time_wait_pressure'") ==
        "0");
  // ... and at the right one.
  for (const f::Finding& fd : r.findings) {
    if (fd.connection_id == 0) continue;
    CHECK(sql_scalar(db.path,
                     "SELECT c.connection_no FROM findings fd JOIN connections c ON c.id = "
                     "fd.connection_id WHERE fd.run_id = " +
                         run2 + " AND fd.finding_no = " + std::to_string(fd.id)) ==
          std::to_string(fd.connection_id));
  }
}
