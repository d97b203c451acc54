// The SQLite database of report-contract.md: one file holds many runs, each appended, never
// rewritten. Unlike the JSON report this holds *all* connections, so that archive-wide questions
// ("which servers lose final ACKs most often") are one query.
#include <algorithm>
#include <array>
#include <charconv>
#include <chrono>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "connection_rows.h"
#include "json_parts.h"
#include "lastack/core/ip_address.h"
#include "lastack/core/timestamp.h"
#include "lastack/sink/sinks.h"
#include "sqlite_handle.h"

namespace lastack::sink {

using detail::Row;
using detail::SqliteDb;
using detail::SqliteStmt;
namespace f = findings;

namespace {

constexpr std::int64_t kSchemaVersion = 1;

// Times are RFC 3339 TEXT (they sort and compare as text, and read well in the sqlite3 shell);
// booleans are 0/1; JSON-shaped values are JSON text in the report's shapes. `findings.related`
// holds report finding numbers (finding_no) of the same run. `severity_rank` (0 info .. 3
// critical) makes "error or worse" a plain comparison.
constexpr const char* kSchema = R"sql(
CREATE TABLE runs(
  id INTEGER PRIMARY KEY,
  tool_version TEXT NOT NULL,
  started_at TEXT NOT NULL,
  settings_json TEXT NOT NULL
) STRICT;
CREATE TABLE inputs(
  id INTEGER PRIMARY KEY,
  run_id INTEGER NOT NULL REFERENCES runs(id),
  input_no INTEGER NOT NULL,
  path TEXT NOT NULL,
  format TEXT NOT NULL,
  compression TEXT,
  size_bytes INTEGER NOT NULL,
  sha256 TEXT,
  packets INTEGER NOT NULL,
  first_ts TEXT,
  last_ts TEXT,
  status TEXT NOT NULL,
  error TEXT,
  error_offset INTEGER,
  link_types TEXT NOT NULL,
  interface_drops INTEGER NOT NULL
) STRICT;
CREATE TABLE connections(
  id INTEGER PRIMARY KEY,
  run_id INTEGER NOT NULL REFERENCES runs(id),
  input_id INTEGER REFERENCES inputs(id),
  connection_no INTEGER NOT NULL,
  client_ip TEXT NOT NULL,
  client_port INTEGER NOT NULL,
  server_ip TEXT NOT NULL,
  server_port INTEGER NOT NULL,
  incarnation INTEGER NOT NULL,
  interface_id INTEGER NOT NULL,
  first_frame INTEGER NOT NULL,
  first_ts TEXT NOT NULL,
  last_ts TEXT NOT NULL,
  handshake_seen INTEGER NOT NULL,
  mid_stream INTEGER NOT NULL,
  close_kind TEXT NOT NULL,
  active_closer TEXT NOT NULL,
  time_wait_holder TEXT NOT NULL,
  time_wait_start TEXT,
  final_ack_seen INTEGER NOT NULL,
  client_state TEXT NOT NULL,
  server_state TEXT NOT NULL,
  history TEXT NOT NULL,
  packets_c2s INTEGER NOT NULL,
  packets_s2c INTEGER NOT NULL,
  bytes_c2s INTEGER NOT NULL,
  bytes_s2c INTEGER NOT NULL,
  syns_c2s INTEGER NOT NULL,
  fins_c2s INTEGER NOT NULL,
  rsts_c2s INTEGER NOT NULL,
  syns_s2c INTEGER NOT NULL,
  fins_s2c INTEGER NOT NULL,
  rsts_s2c INTEGER NOT NULL,
  vantage TEXT NOT NULL,
  vlan INTEGER
) STRICT;
CREATE TABLE findings(
  id INTEGER PRIMARY KEY,
  run_id INTEGER NOT NULL REFERENCES runs(id),
  finding_no INTEGER NOT NULL,
  connection_id INTEGER REFERENCES connections(id),
  input_id INTEGER REFERENCES inputs(id),
  kind TEXT NOT NULL,
  cause TEXT NOT NULL,
  severity TEXT NOT NULL,
  severity_rank INTEGER NOT NULL,
  confidence TEXT NOT NULL,
  ts TEXT NOT NULL,
  frames TEXT NOT NULL,
  frame_refs TEXT,
  message TEXT NOT NULL,
  evidence_json TEXT NOT NULL,
  related TEXT NOT NULL
) STRICT;
CREATE INDEX findings_kind ON findings(kind);
CREATE INDEX findings_severity ON findings(severity);
CREATE INDEX findings_run ON findings(run_id);
CREATE INDEX findings_connection ON findings(connection_id);
CREATE INDEX inputs_run ON inputs(run_id);
CREATE INDEX connections_run ON connections(run_id);
PRAGMA user_version = 1;
)sql";

// The index on connections' servers is built after a run's last connection row
// (end_connections, else finish), not with the schema: a run into a new database then inserts
// its rows without keeping another B-tree in order (its rows land all over it; with it, a
// connection row cost ~30 % more), and CREATE INDEX builds it by sorting, once, while the
// pipeline finishes its analysis. The run index comes with the schema: a run's rows only ever
// append to it (one run id, rising row ids), so keeping it costs less than building it at the
// end, and the cost moves out of the run's serial end into the streaming inserts (1M packets,
// callgrind: 110M instructions over the inserts instead of 137M, ~20 ms, at the end). A database
// that already has the indexes keeps them up to date row by row; one left without them by a run
// killed hard gets them from the next run that ends.
constexpr const char* kConnectionIndexes = R"sql(
CREATE INDEX IF NOT EXISTS connections_server ON connections(server_ip, server_port);
CREATE INDEX IF NOT EXISTS connections_run ON connections(run_id);
)sql";

// TIME_WAIT pressure (README "TIME_WAIT pressure"): every holder and every client -> server
// pair of a run (the JSON report lists only the top ones). Added in a backward-compatible way:
// created when a run that carries the analysis is appended, also to an older database of the
// same schema version (user_version stays 1). Times as in the other tables; offsets in seconds
// from the capture start; series_json is the report's [[offset_s, value], ...] step series.
constexpr const char* kTimeWaitSchema = R"sql(
CREATE TABLE IF NOT EXISTS time_wait_pairs(
  id INTEGER PRIMARY KEY,
  run_id INTEGER NOT NULL REFERENCES runs(id),
  client_ip TEXT NOT NULL,
  server_ip TEXT NOT NULL,
  server_port INTEGER NOT NULL,
  connections INTEGER NOT NULL,
  outside_range INTEGER NOT NULL,
  time_wait_entries INTEGER NOT NULL,
  peak_ports_in_use INTEGER NOT NULL,
  time_wait_at_peak INTEGER NOT NULL,
  port_range_lo INTEGER NOT NULL,
  port_range_hi INTEGER NOT NULL,
  range_share REAL NOT NULL,
  peak_ts TEXT,
  peak_offset_s REAL,
  peak_frame INTEGER,
  peak_rate_per_s INTEGER NOT NULL,
  peak_rate_ts TEXT,
  sustainable_rate_per_s REAL,
  time_wait_s REAL NOT NULL,
  lower_bound INTEGER NOT NULL,
  under_pressure INTEGER NOT NULL,
  series_step_s INTEGER NOT NULL,
  series_json TEXT NOT NULL
) STRICT;
CREATE TABLE IF NOT EXISTS time_wait_holders(
  id INTEGER PRIMARY KEY,
  run_id INTEGER NOT NULL REFERENCES runs(id),
  ip TEXT NOT NULL,
  role TEXT NOT NULL,
  connections INTEGER NOT NULL,
  closed INTEGER NOT NULL,
  active_closes INTEGER NOT NULL,
  entries INTEGER NOT NULL,
  peak INTEGER NOT NULL,
  peak_ts TEXT,
  peak_offset_s REAL,
  peak_frame INTEGER,
  peak_rate_per_s INTEGER NOT NULL,
  peak_rate_ts TEXT,
  time_wait_s REAL NOT NULL,
  lower_bound INTEGER NOT NULL,
  under_pressure INTEGER NOT NULL,
  series_step_s INTEGER NOT NULL,
  series_json TEXT NOT NULL
) STRICT;
CREATE INDEX IF NOT EXISTS time_wait_pairs_run ON time_wait_pairs(run_id);
CREATE INDEX IF NOT EXISTS time_wait_pairs_server ON time_wait_pairs(server_ip, server_port);
CREATE INDEX IF NOT EXISTS time_wait_holders_run ON time_wait_holders(run_id);
)sql";

constexpr const char* kInsertTimeWaitPair =
    "INSERT INTO time_wait_pairs(run_id, client_ip, server_ip, server_port, connections, "
    "outside_range, time_wait_entries, peak_ports_in_use, time_wait_at_peak, port_range_lo, "
    "port_range_hi, range_share, peak_ts, peak_offset_s, peak_frame, peak_rate_per_s, "
    "peak_rate_ts, sustainable_rate_per_s, time_wait_s, lower_bound, under_pressure, "
    "series_step_s, series_json) VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, "
    "?14, ?15, ?16, ?17, ?18, ?19, ?20, ?21, ?22, ?23)";
constexpr const char* kInsertTimeWaitHolder =
    "INSERT INTO time_wait_holders(run_id, ip, role, connections, closed, active_closes, "
    "entries, peak, peak_ts, peak_offset_s, peak_frame, peak_rate_per_s, peak_rate_ts, "
    "time_wait_s, lower_bound, under_pressure, series_step_s, series_json) VALUES(?1, ?2, ?3, "
    "?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18)";

constexpr const char* kInsertRun =
    "INSERT INTO runs(tool_version, started_at, settings_json) VALUES(?1, ?2, ?3)";
// An input row is written when the run starts (status "incomplete": what a run stopped hard,
// e.g. by kill -9, leaves behind) and completed when the run ends.
constexpr const char* kInsertInput =
    "INSERT INTO inputs(run_id, input_no, path, format, size_bytes, packets, status, "
    "link_types, interface_drops) VALUES(?1, ?2, ?3, '', 0, 0, 'incomplete', '[]', 0)";
constexpr const char* kCompleteInput =
    "UPDATE inputs SET format = ?2, compression = ?3, size_bytes = ?4, packets = ?5, "
    "first_ts = ?6, last_ts = ?7, status = ?8, error = ?9, error_offset = ?10, link_types = ?11, "
    "interface_drops = ?12 WHERE id = ?1";
constexpr const char* kInsertFinding =
    "INSERT INTO findings(run_id, finding_no, connection_id, input_id, kind, cause, severity, "
    "severity_rank, confidence, ts, frames, frame_refs, message, evidence_json, related) "
    "VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15)";

// The one wall-clock value lastack records: when this run was stored, so that "last night's
// archive" is a WHERE clause. It never reaches the (deterministic) JSON report.
Timestamp now_wall_clock() {
  const auto since_epoch = std::chrono::system_clock::now().time_since_epoch();
  return Timestamp{static_cast<std::int64_t>(
      std::chrono::duration_cast<std::chrono::nanoseconds>(since_epoch).count())};
}

// connections.vlan came after schema version 1 was released: a database made before it gets the
// column (NULL in its older rows, as for untagged traffic) the first time a run is appended,
// the way the TIME_WAIT tables are added; user_version stays 1.
Status ensure_vlan_column(SqliteDb& db) {
  auto has_stmt = SqliteStmt::prepare(
      db, "SELECT count(*) FROM pragma_table_info('connections') WHERE name = 'vlan'");
  if (!has_stmt) return has_stmt.error();
  auto has = has_stmt.value().query_int();
  if (!has) return has.error();
  if (has.value() != 0) return {};
  return db.exec("ALTER TABLE connections ADD COLUMN vlan INTEGER");
}

// Creates the schema in a new (empty) database; refuses a database of another schema version
// or one that is not ours, without changing it. Runs inside the first transaction.
Status ensure_schema(SqliteDb& db) {
  auto version_stmt = SqliteStmt::prepare(db, "PRAGMA user_version");
  if (!version_stmt) return version_stmt.error();
  auto version = version_stmt.value().query_int();
  if (!version) return version.error();
  if (version.value() == kSchemaVersion) return ensure_vlan_column(db);
  auto tables_stmt = SqliteStmt::prepare(db, "SELECT count(*) FROM sqlite_schema");
  if (!tables_stmt) return tables_stmt.error();
  auto tables = tables_stmt.value().query_int();
  if (!tables) return tables.error();
  if (version.value() != 0 || tables.value() != 0) {
    return make_error(ErrorCode::io, "SQLite database " + db.path() + " has schema version " +
                                         std::to_string(version.value()) + ", expected " +
                                         std::to_string(kSchemaVersion) +
                                         " (not a lastack database, or another release's)");
  }
  return db.exec(kSchema);
}

struct Statements {
  SqliteStmt run;
  SqliteStmt input;
  SqliteStmt complete_input;
  SqliteStmt connection;
  SqliteStmt finding;
};

Result<Statements> prepare_all(SqliteDb& db) {
  auto run = SqliteStmt::prepare(db, kInsertRun);
  if (!run) return run.error();
  auto input = SqliteStmt::prepare(db, kInsertInput);
  if (!input) return input.error();
  auto complete_input = SqliteStmt::prepare(db, kCompleteInput);
  if (!complete_input) return complete_input.error();
  auto connection = SqliteStmt::prepare(db, detail::insert_connection_batch_sql());
  if (!connection) return connection.error();
  auto finding = SqliteStmt::prepare(db, kInsertFinding);
  if (!finding) return finding.error();
  return Statements{std::move(run).value(), std::move(input).value(),
                    std::move(complete_input).value(), std::move(connection).value(),
                    std::move(finding).value()};
}

// [[offset_s, value], ...] as nlohmann's compact dump writes it (integers only), without
// building a JSON value per point: a run writes one series per TIME_WAIT pair and holder.
std::string series_text(const f::StepSeries& series) {
  // At most 20 digits and a sign per number, plus ",[", "," and "]": sized once, then written
  // in place and cut to what was written.
  constexpr std::size_t kMaxPoint = 2 * 21 + 4;
  std::string out(2 + series.size() * kMaxPoint, '\0');
  char* p = out.data();
  char* const end = p + out.size();
  *p++ = '[';
  for (const auto& [t, v] : series) {
    if (p != out.data() + 1) *p++ = ',';
    *p++ = '[';
    p = std::to_chars(p, end, t).ptr;
    *p++ = ',';
    p = std::to_chars(p, end, v).ptr;
    *p++ = ']';
  }
  *p++ = ']';
  out.resize(static_cast<std::size_t>(p - out.data()));
  return out;
}

}  // namespace

// Connection rows go in as connections are finalised, a batch per INSERT (connection_rows.h), in
// transactions of about kRowsPerCommit rows (bulk inserts, and other runs appending to the same
// file get a turn between them).
struct SqliteRunWriter::Impl {
  static constexpr std::uint64_t kRowsPerCommit = 50'000;

  SqliteDb db;
  std::optional<Statements> stmts;
  bool in_transaction = false;
  std::int64_t run_id = 0;
  std::vector<std::int64_t> input_rows;
  std::uint64_t rows_since_commit = 0;
  bool indexed = false;  // the connections indexes exist (end_connections)
  // report connection id → connections.id, only for connections with findings (the findings
  // rows point at them); kept small on purpose: a run can have millions of connections.
  std::vector<std::pair<std::uint64_t, std::int64_t>> flagged_rows;
  Status failed;  // the first failure: later calls do nothing and return it

  detail::ConnectionBatch batch;  // what the connection INSERT reads (connection_rows.h)

  explicit Impl(SqliteDb d) : db(std::move(d)) {}

  Status begin() {
    if (Status st = db.exec("BEGIN IMMEDIATE"); !st) return st;
    in_transaction = true;
    return {};
  }

  Status commit() {
    in_transaction = false;
    return db.exec("COMMIT");
  }

  Status start(const f::Report& head) {
    // Not enforced while writing: every reference is to a row this writer inserted in the same
    // run, and checking each connection row's two parents cost a fifth of the run's time. The
    // schema keeps its REFERENCES (PRAGMA foreign_key_check: tests/unit/sink/sqlite_sink_test).
    if (Status st = db.exec("PRAGMA foreign_keys = OFF"); !st) return st;
    // A new database gets 16 KiB pages: the run writes it sequentially and reads it back whole
    // for CREATE INDEX, in a quarter of the read and write calls of the 4 KiB default (5M
    // packets: ~6-9 % faster). 64 KiB pages cut the calls further but raised peak RSS by
    // ~19 MiB at 5M packets for no more speed. An existing database keeps its page size (the
    // pragma only applies before the first table exists).
    if (Status st = db.exec("PRAGMA page_size = 16384"); !st) return st;
    if (Status st = begin(); !st) return st;
    if (Status st = ensure_schema(db); !st) return st;
    if (Status st = detail::register_connection_batch(db, &batch); !st) return st;
    // Statements are prepared after the schema and the batch table exist.
    auto prepared = prepare_all(db);
    if (!prepared) return prepared.error();
    stmts.emplace(std::move(prepared).value());
    const std::string settings = detail::dump(detail::settings_json(head.settings), -1);
    Row run(stmts->run);
    if (Status st = run.text(head.tool_version).timestamp(now_wall_clock()).text(settings).run();
        !st) {
      return st;
    }
    run_id = db.last_insert_rowid();
    for (std::size_t i = 0; i < head.inputs.size(); ++i) {
      Row in(stmts->input);
      if (Status st = in.integer(run_id).integer(std::uint64_t{i}).text(head.inputs[i].path).run();
          !st) {
        return st;
      }
      input_rows.push_back(db.last_insert_rowid());
    }
    return commit();
  }

  [[nodiscard]] std::int64_t input_row(std::uint32_t input) const {
    return input < input_rows.size() ? input_rows[input] : 0;
  }

  Status add(std::span<const f::JudgedConnection> rows) {
    if (rows.empty()) return {};
    if (!in_transaction) {
      if (Status st = begin(); !st) return st;
    }
    batch = {rows, run_id, input_rows};
    const int rc = sqlite3_step(stmts->connection.get());
    Status result = rc == SQLITE_DONE ? Status{} : Status{db.error("cannot write connections")};
    sqlite3_reset(stmts->connection.get());
    batch = {};
    if (!result) return result;
    // One INSERT gives its rows consecutive ids: each new row gets one more than the table's
    // largest (https://sqlite.org/autoinc.html: rowids below the maximum, no AUTOINCREMENT).
    const std::int64_t first = db.last_insert_rowid() - static_cast<std::int64_t>(rows.size()) + 1;
    for (std::size_t i = 0; i < rows.size(); ++i) {
      if (rows[i].has_findings) {
        flagged_rows.emplace_back(rows[i].summary->id, first + static_cast<std::int64_t>(i));
      }
    }
    rows_since_commit += rows.size();
    if (rows_since_commit >= kRowsPerCommit) {
      rows_since_commit = 0;
      return commit();
    }
    return {};
  }

  // Builds the indexes in the transaction that holds the last connection rows, and leaves it
  // open for finish(): one commit at the end instead of two, and each commit of a rollback
  // journal syncs the disk twice (1M packets: the index's commit took ~10 ms of fdatasync at
  // the end of the run). A run killed in between, or whose finish() fails, loses those rows
  // (its inputs stay "incomplete"), as it would have before their commit.
  Status end_connections() {
    if (!in_transaction) {
      if (Status st = begin(); !st) return st;
    }
    if (Status st = db.exec(kConnectionIndexes); !st) return st;
    indexed = true;
    return {};
  }

  Status finish(const f::Report& report) {
    if (!in_transaction) {
      if (Status st = begin(); !st) return st;
    }
    std::sort(flagged_rows.begin(), flagged_rows.end());
    for (std::size_t i = 0; i < report.inputs.size() && i < input_rows.size(); ++i) {
      if (Status st = complete_input(input_rows[i], report.inputs[i]); !st) return st;
    }
    f::FindingReader findings(report);
    for (std::size_t i = 0; i < findings.size(); ++i) {
      if (Status st = write_finding(findings[i]); !st) return st;
    }
    if (report.time_wait) {
      if (Status st = db.exec(kTimeWaitSchema); !st) return st;
      if (Status st = write_time_wait(*report.time_wait); !st) return st;
    }
    if (!indexed) {
      if (Status st = db.exec(kConnectionIndexes); !st) return st;
    }
    return commit();
  }

  Status complete_input(std::int64_t row, const f::InputReport& in) {
    const std::string link_types = detail::dump(detail::Json(in.link_types), -1);
    Row r(stmts->complete_input);
    r.integer(row).text(in.format);
    if (in.compression.empty())
      r.null();
    else
      r.text(in.compression);
    r.integer(in.size_bytes)
        .integer(in.packets)
        .timestamp(in.first_ts)
        .timestamp(in.last_ts)
        .text(in.status);
    if (in.error)
      r.text(*in.error);
    else
      r.null();
    if (in.error_offset)
      r.integer(*in.error_offset);
    else
      r.null();
    return r.text(link_types).integer(in.interface_drops).run();
  }

  [[nodiscard]] std::int64_t connection_row(std::uint64_t id) const {
    const auto it = std::lower_bound(flagged_rows.begin(), flagged_rows.end(),
                                     std::pair<std::uint64_t, std::int64_t>{id, 0});
    return it != flagged_rows.end() && it->first == id ? it->second : 0;
  }

  Status write_finding(const f::Finding& fd) {
    const std::uint32_t input = fd.frames.empty() ? 0 : fd.frames.front().input;
    std::string frame_refs;
    if (detail::frames_span_inputs(fd.frames)) {  // [[input, frame], ...]
      auto refs = detail::JsonText::compact(frame_refs);
      refs.begin_array();
      for (const f::FrameRef& fr : fd.frames) {
        refs.begin_array();
        refs.number(std::uint64_t{fr.input});
        refs.number(fr.frame_no);
        refs.end_array();
      }
      refs.end_array();
    }
    std::string frames;
    auto frames_out = detail::JsonText::compact(frames);
    detail::write_frame_numbers(frames_out, fd.frames);
    std::string evidence;
    auto evidence_out = detail::JsonText::compact(evidence);
    detail::write_evidence(evidence_out, fd.evidence);
    std::string related;
    auto related_out = detail::JsonText::compact(related);
    detail::write_ids(related_out, fd.related_ids);
    Row r(stmts->finding);
    r.integer(run_id)
        .integer(fd.id)
        .id_or_null(connection_row(fd.connection_id))
        .id_or_null(input_row(input))
        .text(fd.kind)
        .text(fd.cause)
        .text(f::to_string(fd.severity))
        .integer(static_cast<std::int64_t>(fd.severity))
        .text(f::to_string(fd.confidence))
        .timestamp(fd.ts)
        .text(frames);
    if (frame_refs.empty())
      r.null();
    else
      r.text(frame_refs);
    return r.text(fd.message).text(evidence).text(related).run();
  }

  Status write_time_wait(const f::TimeWaitPressure& tw) {
    auto pair_stmt = SqliteStmt::prepare(db, kInsertTimeWaitPair);
    if (!pair_stmt) return pair_stmt.error();
    auto holder_stmt = SqliteStmt::prepare(db, kInsertTimeWaitHolder);
    if (!holder_stmt) return holder_stmt.error();
    for (const f::TimeWaitPair& p : tw.pairs) {
      if (Status st = write_pair(pair_stmt.value(), tw, p); !st) return st;
    }
    for (const f::TimeWaitHolder& h : tw.holders) {
      if (Status st = write_holder(holder_stmt.value(), tw, h); !st) return st;
    }
    return {};
  }

  static void offset(Row& r, const f::TimeWaitPressure& tw, const std::optional<Timestamp>& ts) {
    if (!ts || !tw.capture_start) {
      r.null();
      return;
    }
    r.real(detail::report_double((*ts - *tw.capture_start).seconds()));
  }

  static void frame_or_null(Row& r, const f::PeakAt& p) {
    if (p.frame.frame_no)
      r.integer(p.frame.frame_no);
    else
      r.null();
  }

  Status write_pair(SqliteStmt& stmt, const f::TimeWaitPressure& tw, const f::TimeWaitPair& p) {
    const std::uint64_t range = tw.range_size();
    const double share =
        range ? static_cast<double>(p.peak.value) / static_cast<double>(range) : 0.0;
    const std::string series = series_text(p.series);
    Row r(stmt);
    r.integer(run_id)
        .ip(p.client_ip)
        .ip(p.server_ip)
        .integer(p.server_port)
        .integer(p.connections)
        .integer(p.outside_range)
        .integer(p.time_wait_entries)
        .integer(p.peak.value)
        .integer(p.time_wait_at_peak)
        .integer(tw.port_lo)
        .integer(tw.port_hi)
        .real(detail::report_double(share))
        .timestamp(p.peak.ts);
    offset(r, tw, p.peak.ts);
    frame_or_null(r, p.peak);
    r.integer(p.peak_rate.value).timestamp(p.peak_rate.ts);
    if (auto sustainable = tw.sustainable_rate())
      r.real(detail::report_double(*sustainable));
    else
      r.null();
    return r.real(tw.time_wait.seconds())
        .integer(p.lower_bound)
        .integer(p.under_pressure)
        .integer(tw.series_step_s)
        .text(series)
        .run();
  }

  Status write_holder(SqliteStmt& stmt, const f::TimeWaitPressure& tw, const f::TimeWaitHolder& h) {
    const std::string series = series_text(h.series);
    Row r(stmt);
    r.integer(run_id)
        .ip(h.ip)
        .text(f::to_string(h.role))
        .integer(h.connections)
        .integer(h.closed)
        .integer(h.active_closes)
        .integer(h.entries)
        .integer(h.peak.value)
        .timestamp(h.peak.ts);
    offset(r, tw, h.peak.ts);
    frame_or_null(r, h.peak);
    return r.integer(h.peak_rate.value)
        .timestamp(h.peak_rate.ts)
        .real(tw.time_wait.seconds())
        .integer(h.lower_bound)
        .integer(h.under_pressure)
        .integer(tw.series_step_s)
        .text(series)
        .run();
  }

  // Latches the first failure and rolls back what was not committed.
  Status fail(Status st) {
    if (!st && failed) {
      failed = st;
      if (in_transaction) (void)db.exec("ROLLBACK");
      in_transaction = false;
    }
    return st;
  }
};

Result<std::unique_ptr<SqliteRunWriter>> SqliteRunWriter::open(const std::string& path,
                                                               const findings::Report& head) {
  auto opened = SqliteDb::open(path);
  if (!opened) return opened.error();
  auto impl = std::make_unique<Impl>(std::move(opened).value());
  if (Status st = impl->start(head); !st) {
    if (impl->in_transaction) (void)impl->db.exec("ROLLBACK");
    return st.error();
  }
  return std::unique_ptr<SqliteRunWriter>(new SqliteRunWriter(std::move(impl)));
}

SqliteRunWriter::SqliteRunWriter(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

SqliteRunWriter::~SqliteRunWriter() {
  if (impl_ && impl_->in_transaction) (void)impl_->db.exec("ROLLBACK");
}

Status SqliteRunWriter::add_connections(std::span<const findings::JudgedConnection> batch) {
  if (!impl_->failed) return impl_->failed;
  return impl_->fail(impl_->add(batch));
}

Status SqliteRunWriter::end_connections() {
  if (!impl_->failed) return impl_->failed;
  return impl_->fail(impl_->end_connections());
}

Status SqliteRunWriter::finish(const findings::Report& report) {
  if (!impl_->failed) return impl_->failed;
  return impl_->fail(impl_->finish(report));
}

Status append_sqlite(const findings::Report& report, const std::string& path) {
  auto writer = SqliteRunWriter::open(path, report);
  if (!writer) return writer.error();
  std::vector<std::uint64_t> with_findings;
  f::FindingReader findings(report);
  for (std::size_t i = 0; i < findings.size(); ++i) {
    with_findings.push_back(findings[i].connection_id);
  }
  std::sort(with_findings.begin(), with_findings.end());
  std::vector<f::JudgedConnection> rows;
  rows.reserve(report.connections.size());
  for (const f::ConnectionSummary& c : report.connections) {
    rows.push_back({&c, std::binary_search(with_findings.begin(), with_findings.end(), c.id)});
  }
  if (Status st = writer.value()->add_connections(rows); !st) return st;
  return writer.value()->finish(report);
}

}  // namespace lastack::sink
