// The `lastack` program: parse the command line, run the analysis, write the reports and map
// the outcome to the exit codes of report-contract.md. This is the one catch-all of the
// project: the libraries report faults as values, anything thrown here is an internal error.
#include <unistd.h>

#include <atomic>
#include <csignal>
#include <cstdio>
#include <exception>
#include <memory>
#include <new>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "cli.h"
#include "lastack/capture/raw_frame.h"
#include "lastack/decode/decoded_packet.h"
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

// Ctrl-C (SIGINT) or SIGTERM during an analysis: the pipeline stops reading, analyses what it
// has read, the database gets the run (inputs read to their end complete, the others marked
// interrupted), no JSON report is written (a previous one stays as it was), and the exit code is
// 128 + the signal (130 for SIGINT). The handler is one-shot: a second Ctrl-C kills at once;
// SQLite's per-input transactions keep what was committed.
std::atomic<bool> g_cancel{false};
volatile std::sig_atomic_t g_signal = 0;
static_assert(std::atomic<bool>::is_always_lock_free);

extern "C" void on_stop_signal(int sig) {
  g_signal = sig;
  g_cancel.store(true, std::memory_order_relaxed);
}

void install_stop_handlers() {
  struct sigaction sa {};
  sa.sa_handler = on_stop_signal;
  sigemptyset(&sa.sa_mask);
  sa.sa_flags = SA_RESETHAND | SA_RESTART;
  sigaction(SIGINT, &sa, nullptr);
  sigaction(SIGTERM, &sa, nullptr);
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

// A link type decode does not handle is not an input fault (the file is fine, exit code by
// findings) but nothing of it is analysed: say so, with the link types that are supported.
void warn_unsupported_link_types(const Report& report) {
  std::string supported;
  std::set<std::string> names;
  for (const std::uint32_t lt : lastack::decode::supported_link_types()) {
    const std::string name = lastack::capture::linktype_name(lt);
    if (!names.insert(name).second) continue;
    supported += (supported.empty() ? "" : ", ") + name;
  }
  for (const InputReport& input : report.inputs) {
    for (const std::string& lt : input.link_types) {
      if (names.count(lt) != 0) continue;
      print_error("warning: " + input.path + ": link type " + lt +
                  " is not supported, its packets were not analysed (supported: " + supported +
                  ")");
    }
  }
}

// The SQLite database is written while the analysis goes (every connection, as it is
// finalised) and completed by finish(), alongside the JSON report; a failure is kept and
// reported with the other report failures.
class DatabaseWriter final : public lastack::pipeline::RunObserver {
 public:
  explicit DatabaseWriter(std::string path) : path_(std::move(path)) {}

  void on_start(const Report& head) override {
    auto opened = lastack::sink::SqliteRunWriter::open(path_, head);
    if (!opened) {
      status_ = opened.error();
      return;
    }
    writer_ = std::move(opened).value();
  }
  void on_connections(std::span<const lastack::findings::JudgedConnection> batch) override {
    if (writer_ && status_) status_ = writer_->add_connections(batch);
  }
  // The connections indexes are built on a thread of their own, while the pipeline finishes
  // its analysis and the JSON report is written; finish() waits for it.
  void on_connections_end() override {
    if (!writer_ || !status_) return;
    indexer_ = std::jthread([this] {
      try {
        status_ = writer_->end_connections();
      } catch (...) {
        indexer_failure_ = std::current_exception();
      }
    });
  }
  void on_finish(const Report& /*report*/) override {}  // see finish()
  // Findings, TIME_WAIT pressure and the run's totals; the database is closed after.
  void finish(const Report& report) {
    if (indexer_.joinable()) indexer_.join();
    if (indexer_failure_) std::rethrow_exception(indexer_failure_);
    if (writer_ && status_) status_ = writer_->finish(report);
    writer_.reset();
  }

  [[nodiscard]] const lastack::Status& status() const { return status_; }
  [[nodiscard]] const std::string& path() const { return path_; }

 private:
  std::string path_;
  std::unique_ptr<lastack::sink::SqliteRunWriter> writer_;
  lastack::Status status_;
  std::exception_ptr indexer_failure_;
  std::jthread indexer_;  // declared last: joined before the writer it uses goes
};

// Writes the requested reports; false when one of them could not be written. The database is
// completed on a thread of its own while the JSON report is written: both only read the report,
// and on a large run each takes a good part of a second.
bool write_reports(const Report& report, const AnalyzeArgs& args, DatabaseWriter* db) {
  std::exception_ptr db_failure;
  std::jthread db_thread;  // joined below, or on the way out of an exception
  if (db != nullptr) {
    db_thread = std::jthread([&report, db, &db_failure] {
      try {
        db->finish(report);
      } catch (...) {
        db_failure = std::current_exception();
      }
    });
  }
  bool ok = true;
  if (args.json_path && g_cancel.load()) {
    print_error("interrupted: the JSON report '" + *args.json_path + "' was not written");
  } else if (args.json_path) {
    const lastack::Status st = lastack::sink::write_json(report, *args.json_path);
    if (!st) {
      print_error("cannot write the JSON report '" + *args.json_path + "': " + st.error().message);
      ok = false;
    }
  }
  if (db_thread.joinable()) db_thread.join();
  if (db_failure) std::rethrow_exception(db_failure);
  if (db != nullptr && !db->status()) {
    print_error("cannot write the database '" + db->path() + "': " + db->status().error().message);
    ok = false;
  }
  // The summary shares stdout with nothing but a JSON report on '-', which takes it over.
  // (Interrupted with --json -: stdout stays empty rather than carry something else.)
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
  options.memcap_bytes = args.memcap_bytes;
  options.on_progress = [&meter](const lastack::pipeline::Progress& p) { meter.update(p); };
  options.on_input_problem = [&problems](const InputReport& input) { problems(input); };
  options.cancel = &g_cancel;
  std::optional<DatabaseWriter> db;
  if (args.db_path) options.observer = &db.emplace(*args.db_path);
  install_stop_handlers();

  lastack::Result<Report> result = lastack::pipeline::analyze(options);
  meter.clear();
  if (!result) {
    // The only failure analyze() returns is a usage error (a bad filter): nothing analysed.
    print_error(result.error().message);
    return lastack::cli::kExitTrouble;
  }
  const Report& report = result.value();
  problems.catch_up(report);
  if (!args.quiet) warn_unsupported_link_types(report);
  const bool reports_ok = write_reports(report, args, db ? &*db : nullptr);
  if (g_cancel.load()) {
    print_error(g_signal == SIGTERM ? "interrupted by SIGTERM" : "interrupted by SIGINT");
    return 128 + static_cast<int>(g_signal);
  }
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
    case lastack::cli::Command::analyze: return run_analyze(inv.args);
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
