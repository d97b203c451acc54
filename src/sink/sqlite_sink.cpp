// The SQLite database of report-contract.md: one file holds many runs, each appended, never
// rewritten. Unlike the JSON report this holds *all* connections, so that archive-wide questions
// ("which servers lose final ACKs most often") are one query.
#include <algorithm>
#include <chrono>
#include <optional>
#include <map>
#include <string>
#include <vector>

#include "json_parts.h"
#include "lastack/core/ip_address.h"
#include "lastack/core/timestamp.h"
#include "lastack/sink/sinks.h"
#include "sqlite_handle.h"

namespace lastack::sink {

using detail::SqliteDb;
using detail::SqliteStmt;
using detail::SqlValue;
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
  vantage TEXT NOT NULL
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
CREATE INDEX connections_server ON connections(server_ip, server_port);
CREATE INDEX connections_run ON connections(run_id);
CREATE INDEX inputs_run ON inputs(run_id);
PRAGMA user_version = 1;
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
constexpr const char* kInsertInput =
    "INSERT INTO inputs(run_id, input_no, path, format, compression, size_bytes, sha256, "
    "packets, first_ts, last_ts, status, error, error_offset, link_types, interface_drops) "
    "VALUES(?1, ?2, ?3, ?4, ?5, ?6, NULL, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14)";
constexpr const char* kInsertConnection =
    "INSERT INTO connections(run_id, input_id, connection_no, client_ip, client_port, server_ip, "
    "server_port, incarnation, interface_id, first_frame, first_ts, last_ts, handshake_seen, "
    "mid_stream, close_kind, active_closer, time_wait_holder, time_wait_start, final_ack_seen, "
    "client_state, server_state, history, packets_c2s, packets_s2c, bytes_c2s, bytes_s2c, "
    "syns_c2s, fins_c2s, rsts_c2s, syns_s2c, fins_s2c, rsts_s2c, vantage) VALUES(?1, ?2, ?3, "
    "?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19, ?20, ?21, ?22, "
    "?23, ?24, ?25, ?26, ?27, ?28, ?29, ?30, ?31, ?32, ?33)";
constexpr const char* kInsertFinding =
    "INSERT INTO findings(run_id, finding_no, connection_id, input_id, kind, cause, severity, "
    "severity_rank, confidence, ts, frames, frame_refs, message, evidence_json, related) "
    "VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15)";

SqlValue i64(std::uint64_t v) { return static_cast<std::int64_t>(v); }
SqlValue text(std::string_view s) { return std::string(s); }
SqlValue opt_ts(const std::optional<Timestamp>& ts) {
  return ts ? SqlValue(format_rfc3339(*ts)) : SqlValue(nullptr);
}
SqlValue id_or_null(std::int64_t id) { return id > 0 ? SqlValue(id) : SqlValue(nullptr); }

// The one wall-clock value lastack records: when this run was stored, so that "last night's
// archive" is a WHERE clause. It never reaches the (deterministic) JSON report.
std::string now_rfc3339() {
  const auto since_epoch = std::chrono::system_clock::now().time_since_epoch();
  const auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(since_epoch).count();
  return format_rfc3339(Timestamp{static_cast<std::int64_t>(ns)});
}

// Creates the schema in a new (empty) database; refuses a database of another schema version
// or one that is not ours, without changing it. Runs inside the first transaction.
Status ensure_schema(SqliteDb& db) {
  auto version_stmt = SqliteStmt::prepare(db, "PRAGMA user_version");
  if (!version_stmt) return version_stmt.error();
  auto version = version_stmt.value().query_int();
  if (!version) return version.error();
  if (version.value() == kSchemaVersion) return {};
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

// Runs `body` inside BEGIN IMMEDIATE ... COMMIT, rolling back when it fails.
template <class Body>
Status in_transaction(SqliteDb& db, Body&& body) {
  if (Status st = db.exec("BEGIN IMMEDIATE"); !st) return st;
  Status st = body();
  if (st) st = db.exec("COMMIT");
  if (!st) (void)db.exec("ROLLBACK");
  return st;
}

struct Statements {
  SqliteStmt run;
  SqliteStmt input;
  SqliteStmt connection;
  SqliteStmt finding;
};

Result<Statements> prepare_all(SqliteDb& db) {
  auto run = SqliteStmt::prepare(db, kInsertRun);
  if (!run) return run.error();
  auto input = SqliteStmt::prepare(db, kInsertInput);
  if (!input) return input.error();
  auto connection = SqliteStmt::prepare(db, kInsertConnection);
  if (!connection) return connection.error();
  auto finding = SqliteStmt::prepare(db, kInsertFinding);
  if (!finding) return finding.error();
  return Statements{std::move(run).value(), std::move(input).value(),
                    std::move(connection).value(), std::move(finding).value()};
}

class RunWriter {
 public:
  RunWriter(SqliteDb& db, Statements& stmts, const f::Report& report)
      : db_(db), stmts_(stmts), report_(report) {
    bucket();
  }

  // The run row and its inputs: the first transaction (together with schema creation).
  Status write_run_and_inputs() {
    const std::string settings = detail::dump(detail::settings_json(report_.settings), -1);
    if (Status st = stmts_.run.run({text(report_.tool_version), now_rfc3339(), settings}); !st) {
      return st;
    }
    run_id_ = db_.last_insert_rowid();
    for (std::size_t i = 0; i < report_.inputs.size(); ++i) {
      if (Status st = write_input(i, report_.inputs[i]); !st) return st;
    }
    return {};
  }

  // Connections whose first packet is in input `group` (or beyond the inputs' range, for
  // group == inputs.size()) and the findings of those connections.
  Status write_group(std::size_t group) {
    for (const f::ConnectionSummary* c : connections_by_group_[group]) {
      if (Status st = write_connection(*c); !st) return st;
    }
    for (const f::Finding* fd : findings_by_group_[group]) {
      if (Status st = write_finding(*fd); !st) return st;
    }
    return {};
  }

  [[nodiscard]] std::size_t group_count() const { return connections_by_group_.size(); }

  // The TIME_WAIT pressure rows (a last transaction; only for reports that carry them).
  Status write_time_wait() {
    if (!report_.time_wait) return {};
    const f::TimeWaitPressure& tw = *report_.time_wait;
    auto pair_stmt = SqliteStmt::prepare(db_, kInsertTimeWaitPair);
    if (!pair_stmt) return pair_stmt.error();
    auto holder_stmt = SqliteStmt::prepare(db_, kInsertTimeWaitHolder);
    if (!holder_stmt) return holder_stmt.error();
    const std::uint64_t range = tw.range_size();
    const auto sustainable = tw.sustainable_rate();
    const double tw_s = tw.time_wait.seconds();
    for (const f::TimeWaitPair& p : tw.pairs) {
      const double share =
          range ? static_cast<double>(p.peak.value) / static_cast<double>(range) : 0.0;
      Status st = pair_stmt.value().run(
          {run_id_, to_string(p.client_ip), to_string(p.server_ip), i64(p.server_port),
           i64(p.connections), i64(p.outside_range), i64(p.time_wait_entries),
           i64(p.peak.value), i64(p.time_wait_at_peak), i64(tw.port_lo), i64(tw.port_hi),
           detail::report_double(share), opt_ts(p.peak.ts), offset(p.peak.ts),
           frame_or_null(p.peak), i64(p.peak_rate.value), opt_ts(p.peak_rate.ts),
           sustainable ? SqlValue(detail::report_double(*sustainable)) : SqlValue(nullptr),
           tw_s, i64(p.lower_bound), i64(p.under_pressure), i64(tw.series_step_s),
           series_text(p.series)});
      if (!st) return st;
    }
    for (const f::TimeWaitHolder& h : tw.holders) {
      Status st = holder_stmt.value().run(
          {run_id_, to_string(h.ip), text(f::to_string(h.role)), i64(h.connections),
           i64(h.closed), i64(h.active_closes), i64(h.entries), i64(h.peak.value),
           opt_ts(h.peak.ts), offset(h.peak.ts), frame_or_null(h.peak), i64(h.peak_rate.value),
           opt_ts(h.peak_rate.ts), tw_s, i64(h.lower_bound), i64(h.under_pressure),
           i64(tw.series_step_s), series_text(h.series)});
      if (!st) return st;
    }
    return {};
  }

 private:
  // Buckets connections and findings by transaction once, so that many inputs (rotated
  // captures) times many connections stays linear.
  void bucket() {
    connections_by_group_.resize(report_.inputs.size() + 1);
    findings_by_group_.resize(report_.inputs.size() + 1);
    for (const f::ConnectionSummary& c : report_.connections) {
      connections_by_id_[c.id] = &c;
      connections_by_group_[group_of_input(c.input)].push_back(&c);
    }
    for (const f::Finding& fd : report_.findings) {
      findings_by_group_[finding_group(fd)].push_back(&fd);
    }
  }

  [[nodiscard]] SqlValue offset(const std::optional<Timestamp>& ts) const {
    if (!ts || !report_.time_wait->capture_start) return nullptr;
    return detail::report_double((*ts - *report_.time_wait->capture_start).seconds());
  }

  static SqlValue frame_or_null(const f::PeakAt& p) {
    return p.frame.frame_no ? SqlValue(i64(p.frame.frame_no)) : SqlValue(nullptr);
  }

  static std::string series_text(const f::StepSeries& series) {
    detail::Json a = detail::Json::array();
    for (const auto& [t, v] : series) a.push_back(detail::Json::array({t, v}));
    return detail::dump(a, -1);
  }

  [[nodiscard]] std::size_t group_of_input(std::uint32_t input) const {
    return std::min<std::size_t>(input, report_.inputs.size());
  }

  [[nodiscard]] const f::ConnectionSummary* connection_of(const f::Finding& fd) const {
    const auto it = connections_by_id_.find(fd.connection_id);
    return it == connections_by_id_.end() ? nullptr : it->second;
  }

  [[nodiscard]] std::size_t finding_group(const f::Finding& fd) const {
    if (const f::ConnectionSummary* c = connection_of(fd)) return group_of_input(c->input);
    return group_of_input(fd.frames.empty() ? 0 : fd.frames.front().input);
  }

  [[nodiscard]] std::int64_t input_row(std::uint32_t input) const {
    return input < input_rows_.size() ? input_rows_[input] : 0;
  }

  Status write_input(std::size_t index, const f::InputReport& in) {
    const std::string link_types = detail::dump(detail::Json(in.link_types), -1);
    Status st = stmts_.input.run(
        {run_id_, i64(index), text(in.path), text(in.format),
         in.compression.empty() ? SqlValue(nullptr) : text(in.compression), i64(in.size_bytes),
         i64(in.packets), opt_ts(in.first_ts), opt_ts(in.last_ts), text(in.status),
         in.error ? text(*in.error) : SqlValue(nullptr),
         in.error_offset ? i64(*in.error_offset) : SqlValue(nullptr), link_types,
         i64(in.interface_drops)});
    if (st) input_rows_.push_back(db_.last_insert_rowid());
    return st;
  }

  Status write_connection(const f::ConnectionSummary& c) {
    Status st = stmts_.connection.run(
        {run_id_, id_or_null(input_row(c.input)), i64(c.id), to_string(c.client_ip),
         i64(c.client_port), to_string(c.server_ip), i64(c.server_port), i64(c.incarnation),
         i64(c.interface_id), i64(c.first_frame), format_rfc3339(c.first_ts),
         format_rfc3339(c.last_ts), i64(c.handshake_seen), i64(c.mid_stream),
         text(f::to_string(c.close_kind)), text(f::to_string(c.active_closer)),
         text(f::to_string(c.time_wait_holder)), opt_ts(c.time_wait_start),
         i64(c.final_ack_seen), text(c.client_final_state), text(c.server_final_state),
         text(c.history), i64(c.client.packets), i64(c.server.packets), i64(c.client.bytes),
         i64(c.server.bytes), i64(c.client.syns), i64(c.client.fins), i64(c.client.rsts),
         i64(c.server.syns), i64(c.server.fins), i64(c.server.rsts),
         text(f::to_string(c.vantage))});
    if (st) connection_rows_[c.id] = db_.last_insert_rowid();
    return st;
  }

  Status write_finding(const f::Finding& fd) {
    const auto conn = connection_rows_.find(fd.connection_id);
    const std::uint32_t input = fd.frames.empty() ? 0 : fd.frames.front().input;
    SqlValue frame_refs = nullptr;
    if (detail::frames_span_inputs(fd.frames)) {
      detail::Json refs = detail::Json::array();
      for (const f::FrameRef& fr : fd.frames) refs.push_back({fr.input, fr.frame_no});
      frame_refs = detail::dump(refs, -1);
    }
    return stmts_.finding.run(
        {run_id_, i64(fd.id), conn == connection_rows_.end() ? SqlValue(nullptr) : conn->second,
         id_or_null(input_row(input)), text(fd.kind), text(fd.cause),
         text(f::to_string(fd.severity)), i64(static_cast<std::uint64_t>(fd.severity)),
         text(f::to_string(fd.confidence)), format_rfc3339(fd.ts),
         detail::dump(detail::frame_numbers_json(fd.frames), -1), std::move(frame_refs),
         text(fd.message), detail::dump(detail::evidence_json(fd.evidence), -1),
         detail::dump(detail::ids_json(fd.related_ids), -1)});
  }

  SqliteDb& db_;
  Statements& stmts_;
  const f::Report& report_;
  std::int64_t run_id_ = 0;
  std::vector<std::int64_t> input_rows_;
  std::map<std::uint64_t, std::int64_t> connection_rows_;  // report id → connections.id
  std::map<std::uint64_t, const f::ConnectionSummary*> connections_by_id_;
  std::vector<std::vector<const f::ConnectionSummary*>> connections_by_group_;
  std::vector<std::vector<const f::Finding*>> findings_by_group_;
};

}  // namespace

Status append_sqlite(const findings::Report& report, const std::string& path) {
  auto opened = SqliteDb::open(path);
  if (!opened) return opened.error();
  SqliteDb db = std::move(opened).value();
  if (Status st = db.exec("PRAGMA foreign_keys = ON"); !st) return st;
  // Statements are prepared inside the first transaction, after the schema exists.
  std::optional<Statements> stmts;
  std::optional<RunWriter> writer;
  Status st = in_transaction(db, [&]() -> Status {
    if (Status s = ensure_schema(db); !s) return s;
    if (report.time_wait) {
      if (Status s = db.exec(kTimeWaitSchema); !s) return s;
    }
    auto prepared = prepare_all(db);
    if (!prepared) return prepared.error();
    stmts.emplace(std::move(prepared).value());
    writer.emplace(db, *stmts, report);
    return writer->write_run_and_inputs();
  });
  if (!st) return st;
  for (std::size_t group = 0; group < writer->group_count(); ++group) {
    st = in_transaction(db, [&]() { return writer->write_group(group); });
    if (!st) return st;
  }
  return in_transaction(db, [&]() { return writer->write_time_wait(); });
}

}  // namespace lastack::sink
