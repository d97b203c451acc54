// The connections table's rows, read by SQLite itself from a batch of summaries: an
// eponymous virtual table `lastack_connection_batch` whose rows are the batch being written, so
// that one `INSERT INTO connections(...) SELECT ... FROM lastack_connection_batch` stores a whole
// batch. Against one bound INSERT per row (34 sqlite3_bind_* calls, then a step that opens the
// table's cursor, seeks its end and closes it again), this is ~17 % fewer instructions per row
// (callgrind, the 75k rows of the 1M-packet benchmark capture: ~13,200 -> ~11,000).
// Private to the sink layer.
#pragma once

#include <cstdint>
#include <span>
#include <string>

#include "lastack/core/result.h"
#include "lastack/findings/connection_summary.h"
#include "sqlite_handle.h"

namespace lastack::sink::detail {

// What the virtual table shows: `rows`, with the run's id and its input rows (connections.input_id
// is input_rows[summary.input], NULL past its end). Set before each INSERT; read only during it.
struct ConnectionBatch {
  std::span<const findings::JudgedConnection> rows;
  std::int64_t run_id = 0;
  std::span<const std::int64_t> input_rows;
};

// Registers the virtual table on `db`, showing `*batch` (which must outlive the handle).
Status register_connection_batch(SqliteDb& db, const ConnectionBatch* batch);

// The INSERT that copies the registered batch into `connections`, in the batch's order.
std::string insert_connection_batch_sql();

}  // namespace lastack::sink::detail
