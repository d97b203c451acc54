// The `lastack` command line: argument parsing into plain values, help texts and the exit-code
// rule of report-contract.md. No I/O here, so every decision is unit-testable; main.cpp does the
// printing, the analysis and the catch-all.
#pragma once

#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "lastack/core/result.h"
#include "lastack/core/timestamp.h"
#include "lastack/findings/report.h"
#include "lastack/pipeline/analyze.h"

namespace lastack::cli {

// The exit codes of report-contract.md: an error outranks findings.
enum ExitCode : int { kExitOk = 0, kExitFindings = 1, kExitTrouble = 2 };

enum class Command {
  analyze,       // run an analysis
  help,          // `lastack --help`: the top-level help
  analyze_help,  // `lastack analyze --help`
  version,       // `lastack --version` (also accepted after `analyze`)
};

enum class ProgressMode { automatic, always, never };

struct AnalyzeArgs {
  std::vector<std::string> inputs;  // in command-line order; "-" = standard input
  findings::Settings settings;      // msl, time_wait (2*msl unless --time-wait), filter, ...
  Duration idle_timeout = Duration::from_s(300);
  std::uint64_t memcap_bytes = pipeline::kDefaultMemcap;  // --memcap
  std::optional<std::string> json_path;                   // "-" = stdout
  std::optional<std::string> db_path;
  bool quiet = false;
  bool strict = false;
  ProgressMode progress = ProgressMode::automatic;
};

struct Invocation {
  Command command = Command::analyze;
  AnalyzeArgs args;  // meaningful for Command::analyze only
};

// A parse failure carries what to print after "lastack: " and which help to point at.
struct UsageError {
  std::string message;
  std::string hint;  // "Try 'lastack analyze --help'." or "Try 'lastack --help'."
};

struct ParseOutcome {
  std::optional<Invocation> invocation;  // set on success
  std::optional<UsageError> error;       // set on failure
  [[nodiscard]] bool ok() const { return invocation.has_value(); }
};

// `args` excludes the program name (argv[1..argc)).
ParseOutcome parse_command_line(std::span<const std::string_view> args);

// Parses what follows `analyze`.
ParseOutcome parse_analyze(std::span<const std::string_view> args);

std::string top_level_help();
std::string analyze_help();
std::string version_text(std::string_view version);

// The line printed on stderr for an input that failed or was cut short (without "lastack: "
// prefix and newline). A truncated input is a warning unless `strict` makes it an error.
std::string describe_input_problem(const findings::InputReport& input, bool strict);

// True when this input makes the run exit 2: an error always, a truncation with --strict.
bool input_is_trouble(const findings::InputReport& input, bool strict);

// The exit code once the report exists. `sink_failed` = a requested report could not be written.
int decide_exit_code(const findings::Report& report, bool strict, bool sink_failed);

}  // namespace lastack::cli
