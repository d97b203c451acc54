// Report sinks: JSON (deterministic), SQLite (appending runs) and the terminal summary.
// These are the only files in lastack that include nlohmann/json or sqlite3.
#pragma once

#include <cstdio>
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

// Appends this run to the SQLite database at `path` (created with the schema if new).
// Every input of the run is written in its own transaction.
Status append_sqlite(const findings::Report& report, const std::string& path);

// The human summary: counts per kind and severity, then one line per finding.
void write_text_summary(const findings::Report& report, std::FILE* out);

}  // namespace lastack::sink
