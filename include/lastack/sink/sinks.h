// Report sinks: JSON (deterministic), SQLite (appending runs) and the terminal summary.
// These are the only files in lastack that include nlohmann/json or sqlite3.
#pragma once

#include <cstdio>
#include <memory>
#include <span>
#include <string>

#include "lastack/core/result.h"
#include "lastack/findings/report.h"

namespace lastack::sink {

// The JSON report of report-contract.md: stable key order, 2-space indentation, trailing
// newline. Byte-identical for identical reports.
std::string to_json(const findings::Report& report);

// Writes the JSON report to `path` ("-" = stdout) through a temporary file in the same
// directory renamed into place, so a reader never sees half a report.
Status write_json(const findings::Report& report, const std::string& path);

// Appends one run to a SQLite database (created with the schema if new) while the analysis
// goes, so that memory does not grow with the number of connections:
//   open()            the run row and one row per input (status "incomplete");
//   add_connections() the connections as they are finalised, a batch at a time (committed
//                     every ~50k rows);
//   end_connections() optional: no more connections; builds the connections table's indexes
//                     (finish() does it otherwise), which can then overlap the end of the
//                     analysis;
//   finish()          completes the inputs, writes the findings and TIME_WAIT pressure, and
//                     commits what end_connections() left uncommitted with them.
// A run stopped before finish() (kill -9, power loss) leaves its committed connections and
// inputs still "incomplete"; after a failure every later call returns that failure.
class SqliteRunWriter {
 public:
  // `head`: tool version, settings and the inputs (their paths; the rest is completed by
  // finish()).
  static Result<std::unique_ptr<SqliteRunWriter>> open(const std::string& path,
                                                       const findings::Report& head);
  SqliteRunWriter(const SqliteRunWriter&) = delete;
  SqliteRunWriter& operator=(const SqliteRunWriter&) = delete;
  ~SqliteRunWriter();

  // The summaries need only live through the call.
  Status add_connections(std::span<const findings::JudgedConnection> batch);
  Status end_connections();
  // `report`: the final report (its inputs in the order given to open()).
  Status finish(const findings::Report& report);

 private:
  struct Impl;
  explicit SqliteRunWriter(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// The whole of a finished report in one go (open, every connection of report.connections,
// finish).
Status append_sqlite(const findings::Report& report, const std::string& path);

// The human summary: counts per kind and severity, then one line per finding.
void write_text_summary(const findings::Report& report, std::FILE* out);

}  // namespace lastack::sink
