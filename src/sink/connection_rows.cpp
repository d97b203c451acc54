#include "connection_rows.h"

#include <array>
#include <new>
#include <string_view>

#include "lastack/core/ip_address.h"
#include "lastack/core/timestamp.h"

namespace lastack::sink::detail {

namespace {

namespace f = findings;

// The virtual table's columns, in the order xColumn numbers them; the same names as the
// connections table's (all but its id, which SQLite assigns).
enum Column : int {
  run_id,
  input_id,
  connection_no,
  client_ip,
  client_port,
  server_ip,
  server_port,
  incarnation,
  interface_id,
  first_frame,
  first_ts,
  last_ts,
  handshake_seen,
  mid_stream,
  close_kind,
  active_closer,
  time_wait_holder,
  time_wait_start,
  final_ack_seen,
  client_state,
  server_state,
  history,
  packets_c2s,
  packets_s2c,
  bytes_c2s,
  bytes_s2c,
  syns_c2s,
  fins_c2s,
  rsts_c2s,
  syns_s2c,
  fins_s2c,
  rsts_s2c,
  vantage,
  vlan,
  kColumns
};

constexpr std::array<std::string_view, kColumns> kColumnNames = {
    "run_id",           "input_id",
    "connection_no",    "client_ip",
    "client_port",      "server_ip",
    "server_port",      "incarnation",
    "interface_id",     "first_frame",
    "first_ts",         "last_ts",
    "handshake_seen",   "mid_stream",
    "close_kind",       "active_closer",
    "time_wait_holder", "time_wait_start",
    "final_ack_seen",   "client_state",
    "server_state",     "history",
    "packets_c2s",      "packets_s2c",
    "bytes_c2s",        "bytes_s2c",
    "syns_c2s",         "fins_c2s",
    "rsts_c2s",         "syns_s2c",
    "fins_s2c",         "rsts_s2c",
    "vantage",          "vlan"};

constexpr const char* kTableName = "lastack_connection_batch";

std::string column_list() {
  std::string out;
  for (std::string_view name : kColumnNames) {
    if (!out.empty()) out += ", ";
    out += name;
  }
  return out;
}

struct Table {
  sqlite3_vtab base{};  // first: SQLite hands back a pointer to it
  const ConnectionBatch* batch = nullptr;
};

// One pass over the batch. The text a column formats lives in the cursor's buffer for that
// column and is handed to SQLite without a copy (SQLITE_STATIC): SQLite has stored the row
// (its record copies the text) before it moves the cursor on.
struct Cursor {
  sqlite3_vtab_cursor base{};  // first, as for Table
  const ConnectionBatch* batch = nullptr;
  std::size_t at = 0;
  IpBuffer client{};
  IpBuffer server{};
  Rfc3339Column first;
  Rfc3339Column last;
  Rfc3339Column time_wait;
};

void result_text(sqlite3_context* ctx, std::string_view s) {
  sqlite3_result_text64(ctx, s.data(), s.size(), SQLITE_STATIC, SQLITE_UTF8);
}

void result_ip(sqlite3_context* ctx, const IpAddress& a, IpBuffer& buf) {
  result_text(ctx, {buf.data(), format_ip(a, buf)});
}

void result_ts(sqlite3_context* ctx, Timestamp ts, Rfc3339Column& column) {
  result_text(ctx, column.format(ts));
}

void result_id_or_null(sqlite3_context* ctx, std::int64_t id) {
  if (id > 0) {
    sqlite3_result_int64(ctx, id);
  } else {
    sqlite3_result_null(ctx);
  }
}

std::int64_t as_int(std::uint64_t v) {
  return static_cast<std::int64_t>(v);
}

// Column `column` of the cursor's row, in one dispatch.
void result_column(Cursor& cur, sqlite3_context* ctx, int column) {
  const ConnectionBatch& batch = *cur.batch;
  const f::ConnectionSummary& c = *batch.rows[cur.at].summary;
  const auto integer = [ctx](std::int64_t v) { sqlite3_result_int64(ctx, v); };
  switch (static_cast<Column>(column)) {
    case run_id: return integer(batch.run_id);
    case input_id:
      return result_id_or_null(ctx,
                               c.input < batch.input_rows.size() ? batch.input_rows[c.input] : 0);
    case connection_no: return integer(as_int(c.id));
    case client_ip: return result_ip(ctx, c.client_ip, cur.client);
    case client_port: return integer(c.client_port);
    case server_ip: return result_ip(ctx, c.server_ip, cur.server);
    case server_port: return integer(c.server_port);
    case incarnation: return integer(c.incarnation);
    case interface_id: return integer(c.interface_id);
    case first_frame: return integer(as_int(c.first_frame));
    case first_ts: return result_ts(ctx, c.first_ts, cur.first);
    case last_ts: return result_ts(ctx, c.last_ts, cur.last);
    case handshake_seen: return integer(c.handshake_seen ? 1 : 0);
    case mid_stream: return integer(c.mid_stream ? 1 : 0);
    case close_kind: return result_text(ctx, f::to_string(c.close_kind));
    case active_closer: return result_text(ctx, f::to_string(c.active_closer));
    case time_wait_holder: return result_text(ctx, f::to_string(c.time_wait_holder));
    case time_wait_start:
      if (c.time_wait_start) return result_ts(ctx, *c.time_wait_start, cur.time_wait);
      return sqlite3_result_null(ctx);
    case final_ack_seen: return integer(c.final_ack_seen ? 1 : 0);
    case client_state: return result_text(ctx, c.client_final_state);
    case server_state: return result_text(ctx, c.server_final_state);
    case history: return result_text(ctx, c.history);
    case packets_c2s: return integer(as_int(c.client.packets));
    case packets_s2c: return integer(as_int(c.server.packets));
    case bytes_c2s: return integer(as_int(c.client.bytes));
    case bytes_s2c: return integer(as_int(c.server.bytes));
    case syns_c2s: return integer(c.client.syns);
    case fins_c2s: return integer(c.client.fins);
    case rsts_c2s: return integer(c.client.rsts);
    case syns_s2c: return integer(c.server.syns);
    case fins_s2c: return integer(c.server.fins);
    case rsts_s2c: return integer(c.server.rsts);
    case vantage: return result_text(ctx, f::to_string(c.vantage));
    case vlan: return result_id_or_null(ctx, c.vlan);  // NULL when untagged, as in the JSON
    case kColumns: break;
  }
  sqlite3_result_null(ctx);  // not a column of the table
}

int x_connect(sqlite3* db, void* aux, int /*argc*/, const char* const* /*argv*/, sqlite3_vtab** out,
              char** /*err*/) {
  const std::string declaration = "CREATE TABLE x(" + column_list() + ")";
  if (const int rc = sqlite3_declare_vtab(db, declaration.c_str()); rc != SQLITE_OK) return rc;
  auto* table = new (std::nothrow) Table;
  if (table == nullptr) return SQLITE_NOMEM;
  table->batch = static_cast<const ConnectionBatch*>(aux);
  *out = &table->base;
  return SQLITE_OK;
}

int x_disconnect(sqlite3_vtab* vtab) {
  delete reinterpret_cast<Table*>(vtab);
  return SQLITE_OK;
}

// Only ever scanned whole, in order.
int x_best_index(sqlite3_vtab* /*vtab*/, sqlite3_index_info* info) {
  info->estimatedCost = 1.0;
  return SQLITE_OK;
}

int x_open(sqlite3_vtab* vtab, sqlite3_vtab_cursor** out) {
  auto* cur = new (std::nothrow) Cursor;
  if (cur == nullptr) return SQLITE_NOMEM;
  cur->batch = reinterpret_cast<Table*>(vtab)->batch;
  *out = &cur->base;
  return SQLITE_OK;
}

int x_close(sqlite3_vtab_cursor* cursor) {
  delete reinterpret_cast<Cursor*>(cursor);
  return SQLITE_OK;
}

int x_filter(sqlite3_vtab_cursor* cursor, int /*idx_num*/, const char* /*idx_str*/, int /*argc*/,
             sqlite3_value** /*argv*/) {
  reinterpret_cast<Cursor*>(cursor)->at = 0;
  return SQLITE_OK;
}

int x_next(sqlite3_vtab_cursor* cursor) {
  ++reinterpret_cast<Cursor*>(cursor)->at;
  return SQLITE_OK;
}

int x_eof(sqlite3_vtab_cursor* cursor) {
  const auto* cur = reinterpret_cast<const Cursor*>(cursor);
  return cur->at >= cur->batch->rows.size() ? 1 : 0;
}

int x_column(sqlite3_vtab_cursor* cursor, sqlite3_context* ctx, int column) {
  result_column(*reinterpret_cast<Cursor*>(cursor), ctx, column);
  return SQLITE_OK;
}

int x_rowid(sqlite3_vtab_cursor* cursor, sqlite3_int64* out) {
  *out = static_cast<sqlite3_int64>(reinterpret_cast<const Cursor*>(cursor)->at);
  return SQLITE_OK;
}

// Eponymous-only (no xCreate): the table exists on the handle it was registered on, is never
// written into the database file, and is read-only (no xUpdate).
constexpr sqlite3_module make_module() {
  sqlite3_module m{};
  m.iVersion = 0;
  m.xConnect = x_connect;
  m.xBestIndex = x_best_index;
  m.xDisconnect = x_disconnect;
  m.xDestroy = x_disconnect;
  m.xOpen = x_open;
  m.xClose = x_close;
  m.xFilter = x_filter;
  m.xNext = x_next;
  m.xEof = x_eof;
  m.xColumn = x_column;
  m.xRowid = x_rowid;
  return m;
}

constexpr sqlite3_module kModule = make_module();

}  // namespace

Status register_connection_batch(SqliteDb& db, const ConnectionBatch* batch) {
  if (sqlite3_create_module_v2(db.get(), kTableName, &kModule, const_cast<ConnectionBatch*>(batch),
                               nullptr) != SQLITE_OK) {
    return db.error("cannot register the connection batch table");
  }
  return {};
}

std::string insert_connection_batch_sql() {
  const std::string columns = column_list();
  return "INSERT INTO connections(" + columns + ") SELECT " + columns + " FROM " + kTableName;
}

}  // namespace lastack::sink::detail
