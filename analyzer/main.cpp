// The `lastack` program: parse the command line, run the analysis, write the reports and map
// the outcome to the exit codes of report-contract.md. This is the one catch-all of the
// project: the libraries report faults as values, anything thrown here is an internal error.
#include <unistd.h>

#include <cstdio>
#include <exception>
#include <new>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "cli.h"
#include "lastack/pipeline/analyze.h"
#include "lastack/sink/sinks.h"
#include "progress.h"

namespace {

using lastack::cli::AnalyzeArgs;
using lastack::findings::InputReport;
using lastack::findings::Report;

void print_error(const std::string& message) {
  std::fprintf(stderr, "lastack: %s\n", message.c_str());
}

// Prints input problems as they happen, and remembers which were printed so that a problem the
// pipeline only recorded in the report is still shown once at the end.
class InputProblemPrinter {
 public:
  InputProblemPrinter(const AnalyzeArgs& args, lastack::cli::ProgressMeter& meter)
      : args_(args), meter_(meter) {}

  void operator()(const InputReport& input) {
    if (!printed_.insert(input.path).second) return;
    // --quiet silences warnings, never errors.
    if (args_.quiet && !lastack::cli::input_is_trouble(input, args_.strict)) return;
    meter_.clear();
    print_error(lastack::cli::describe_input_problem(input, args_.strict));
  }

  void catch_up(const Report& report) {
    for (const InputReport& input : report.inputs) {
      if (input.status != "ok") (*this)(input);
    }
  }

 private:
  const AnalyzeArgs& args_;
  lastack::cli::ProgressMeter& meter_;
  std::set<std::string> printed_;
};

// Writes the requested reports; false when one of them could not be written.
bool write_reports(const Report& report, const AnalyzeArgs& args) {
  bool ok = true;
  if (args.json_path) {
    const lastack::Status st = lastack::sink::write_json(report, *args.json_path);
    if (!st) {
      print_error("cannot write the JSON report '" + *args.json_path + "': " + st.error().message);
      ok = false;
    }
  }
  if (args.db_path) {
    const lastack::Status st = lastack::sink::append_sqlite(report, *args.db_path);
    if (!st) {
      print_error("cannot write the database '" + *args.db_path + "': " + st.error().message);
      ok = false;
    }
  }
  // The summary shares stdout with nothing but a JSON report on '-', which takes it over.
  const bool json_on_stdout = args.json_path && *args.json_path == "-";
  if (!args.quiet && !json_on_stdout) lastack::sink::write_text_summary(report, stdout);
  // A full disk or a closed pipe must not pass for success.
  if (std::fflush(stdout) != 0 || std::ferror(stdout)) {
    print_error("error writing to standard output");
    ok = false;
  }
  return ok;
}

int run_analyze(const AnalyzeArgs& args) {
  const bool show_progress =
      lastack::cli::progress_enabled(args.progress, args.quiet, isatty(STDERR_FILENO) == 1);
  lastack::cli::ProgressMeter meter(stderr, show_progress);
  InputProblemPrinter problems(args, meter);

  lastack::pipeline::Options options;
  options.inputs = args.inputs;
  options.settings = args.settings;
  options.idle_timeout = args.idle_timeout;
  options.on_progress = [&meter](const lastack::pipeline::Progress& p) { meter.update(p); };
  options.on_input_problem = [&problems](const InputReport& input) { problems(input); };

  lastack::Result<Report> result = lastack::pipeline::analyze(options);
  meter.clear();
  if (!result) {
    // The only failure analyze() returns is a usage error (a bad filter): nothing analysed.
    print_error(result.error().message);
    return lastack::cli::kExitTrouble;
  }
  const Report& report = result.value();
  problems.catch_up(report);
  const bool reports_ok = write_reports(report, args);
  return lastack::cli::decide_exit_code(report, args.strict, !reports_ok);
}

int run(int argc, char** argv) {
  const std::vector<std::string_view> args(argv + 1, argv + argc);
  const lastack::cli::ParseOutcome parsed = lastack::cli::parse_command_line(args);
  if (!parsed.ok()) {
    print_error(parsed.error->message);
    std::fprintf(stderr, "%s\n", parsed.error->hint.c_str());
    return lastack::cli::kExitTrouble;
  }
  const lastack::cli::Invocation& inv = *parsed.invocation;
  switch (inv.command) {
    case lastack::cli::Command::help:
      std::fputs(lastack::cli::top_level_help().c_str(), stdout);
      return lastack::cli::kExitOk;
    case lastack::cli::Command::analyze_help:
      std::fputs(lastack::cli::analyze_help().c_str(), stdout);
      return lastack::cli::kExitOk;
    case lastack::cli::Command::version:
      std::fputs(lastack::cli::version_text(lastack::pipeline::tool_version()).c_str(), stdout);
      return lastack::cli::kExitOk;
    case lastack::cli::Command::analyze:
      return run_analyze(inv.args);
  }
  return lastack::cli::kExitTrouble;
}

}  // namespace

int main(int argc, char** argv) {
  try {
    return run(argc, argv);
  } catch (const std::bad_alloc&) {
    std::fputs("lastack: internal error: out of memory\n", stderr);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "lastack: internal error: %s\n", e.what());
  } catch (...) {
    std::fputs("lastack: internal error: unknown exception\n", stderr);
  }
  return lastack::cli::kExitTrouble;
}
