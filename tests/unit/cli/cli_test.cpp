#include <catch2/catch.hpp>

#include <initializer_list>
#include <string_view>
#include <vector>

#include "cli.h"

using lastack::Duration;
using lastack::cli::Command;
using lastack::cli::ParseOutcome;
using lastack::cli::ProgressMode;
using lastack::findings::Severity;

namespace {

ParseOutcome parse(std::initializer_list<std::string_view> args) {
  const std::vector<std::string_view> v(args);
  return lastack::cli::parse_command_line(v);
}

// Parses `lastack analyze <args>` and requires success.
lastack::cli::AnalyzeArgs analyze_ok(std::initializer_list<std::string_view> args) {
  std::vector<std::string_view> v{"analyze"};
  v.insert(v.end(), args.begin(), args.end());
  const ParseOutcome out = lastack::cli::parse_command_line(v);
  INFO((out.error ? out.error->message : std::string()));
  REQUIRE(out.ok());
  REQUIRE(out.invocation->command == Command::analyze);
  return out.invocation->args;
}

// Parses `lastack analyze <args>`, requires a usage error and returns its message.
std::string analyze_error(std::initializer_list<std::string_view> args) {
  std::vector<std::string_view> v{"analyze"};
  v.insert(v.end(), args.begin(), args.end());
  const ParseOutcome out = lastack::cli::parse_command_line(v);
  REQUIRE_FALSE(out.ok());
  REQUIRE(out.error.has_value());
  CHECK(out.error->hint == "Try 'lastack analyze --help'.");
  return out.error->message;
}

}  // namespace

TEST_CASE("analyze defaults", "[cli]") {
  const auto a = analyze_ok({"in.pcap"});
  CHECK(a.inputs == std::vector<std::string>{"in.pcap"});
  CHECK(a.settings.msl == Duration::from_s(30));
  CHECK(a.settings.time_wait == Duration::from_s(60));
  CHECK_FALSE(a.settings.filter.has_value());
  REQUIRE(a.settings.fail_on.has_value());
  CHECK(*a.settings.fail_on == Severity::error);
  CHECK_FALSE(a.settings.all_connections);
  CHECK(a.idle_timeout == Duration::from_s(300));
  CHECK_FALSE(a.json_path.has_value());
  CHECK_FALSE(a.db_path.has_value());
  CHECK_FALSE(a.quiet);
  CHECK_FALSE(a.strict);
  CHECK(a.progress == ProgressMode::automatic);
}

TEST_CASE("every value option in both --opt value and --opt=value forms", "[cli]") {
  const bool joined = GENERATE(false, true);
  // Builds the argument list for one option in the form under test.
  std::vector<std::string> storage;
  auto add = [&](std::string_view opt, std::string_view value) {
    if (joined) {
      storage.push_back(std::string(opt) + "=" + std::string(value));
    } else {
      storage.emplace_back(opt);
      storage.emplace_back(value);
    }
  };
  add("--filter", "tcp port 80");
  add("--json", "out.json");
  add("--db", "runs.db");
  add("--fail-on", "warning");
  add("--msl", "10s");
  add("--time-wait", "15s");
  add("--connections", "all");
  add("--idle-timeout", "2m");
  add("--progress", "always");
  storage.emplace_back("--quiet");
  storage.emplace_back("--strict");
  storage.emplace_back("cap.pcap");
  std::vector<std::string_view> v{"analyze"};
  v.insert(v.end(), storage.begin(), storage.end());
  const ParseOutcome out = lastack::cli::parse_command_line(v);
  REQUIRE(out.ok());
  const auto& a = out.invocation->args;
  CHECK(a.settings.filter == std::optional<std::string>("tcp port 80"));
  CHECK(a.json_path == std::optional<std::string>("out.json"));
  CHECK(a.db_path == std::optional<std::string>("runs.db"));
  CHECK(a.settings.fail_on == std::optional<Severity>(Severity::warning));
  CHECK(a.settings.msl == Duration::from_s(10));
  CHECK(a.settings.time_wait == Duration::from_s(15));  // explicit, not 2*msl
  CHECK(a.settings.all_connections);
  CHECK(a.idle_timeout == Duration::from_s(120));
  CHECK(a.progress == ProgressMode::always);
  CHECK(a.quiet);
  CHECK(a.strict);
  CHECK(a.inputs == std::vector<std::string>{"cap.pcap"});
}

TEST_CASE("short options -f and -r, separate and attached", "[cli]") {
  const auto a = analyze_ok({"-f", "host 10.0.0.1", "-r", "a.pcap", "-rb.pcap", "c.pcap"});
  CHECK(a.settings.filter == std::optional<std::string>("host 10.0.0.1"));
  CHECK(a.inputs == std::vector<std::string>{"a.pcap", "b.pcap", "c.pcap"});
  const auto b = analyze_ok({"-ftcp", "x.pcap"});
  CHECK(b.settings.filter == std::optional<std::string>("tcp"));
}

TEST_CASE("repeated -r and positionals keep command-line order", "[cli]") {
  const auto a =
      analyze_ok({"one.pcap", "-r", "two.pcap", "--quiet", "three.pcap", "-r", "four.pcapng"});
  CHECK(a.inputs == std::vector<std::string>{"one.pcap", "two.pcap", "three.pcap", "four.pcapng"});
  CHECK(a.quiet);
}

TEST_CASE("short option -q is --quiet", "[cli]") {
  CHECK(analyze_ok({"-q", "x.pcap"}).quiet);
  CHECK_FALSE(analyze_ok({"x.pcap"}).quiet);
}

TEST_CASE("'-' is standard input, as a positional or with -r", "[cli]") {
  CHECK(analyze_ok({"-"}).inputs == std::vector<std::string>{"-"});
  CHECK(analyze_ok({"-r", "-"}).inputs == std::vector<std::string>{"-"});
  CHECK(analyze_ok({"--json", "-", "-"}).json_path == std::optional<std::string>("-"));
  CHECK(analyze_error({"-", "-r", "-"}).find("only once") != std::string::npos);
}

TEST_CASE("'--' ends the options", "[cli]") {
  const auto a = analyze_ok({"--quiet", "--", "--strange-name.pcap", "-r"});
  CHECK(a.inputs == std::vector<std::string>{"--strange-name.pcap", "-r"});
  CHECK(a.quiet);
  CHECK_FALSE(a.strict);
}

TEST_CASE("time_wait follows msl unless given, whatever the order", "[cli]") {
  CHECK(analyze_ok({"--msl", "2s", "x"}).settings.time_wait == Duration::from_s(4));
  CHECK(analyze_ok({"--msl", "500ms", "x"}).settings.time_wait == Duration::from_ms(1000));
  CHECK(analyze_ok({"--time-wait", "7s", "--msl", "2s", "x"}).settings.time_wait ==
        Duration::from_s(7));
  CHECK(analyze_ok({"--time-wait=0", "x"}).settings.time_wait == Duration{0});
}

TEST_CASE("fail-on accepts every severity and never", "[cli]") {
  CHECK(analyze_ok({"--fail-on", "info", "x"}).settings.fail_on ==
        std::optional<Severity>(Severity::info));
  CHECK(analyze_ok({"--fail-on", "critical", "x"}).settings.fail_on ==
        std::optional<Severity>(Severity::critical));
  CHECK(analyze_ok({"--fail-on", "error", "x"}).settings.fail_on ==
        std::optional<Severity>(Severity::error));
  CHECK_FALSE(analyze_ok({"--fail-on=never", "x"}).settings.fail_on.has_value());
}

TEST_CASE("enumerated options accept their values", "[cli]") {
  CHECK(analyze_ok({"--progress", "never", "x"}).progress == ProgressMode::never);
  CHECK(analyze_ok({"--progress", "auto", "x"}).progress == ProgressMode::automatic);
  CHECK_FALSE(analyze_ok({"--connections", "with-findings", "x"}).settings.all_connections);
}

TEST_CASE("a repeated option keeps its last value", "[cli]") {
  const auto a = analyze_ok({"--json", "a.json", "--json", "b.json", "x"});
  CHECK(a.json_path == std::optional<std::string>("b.json"));
  CHECK_FALSE(analyze_ok({"-f", "tcp", "-f", "", "x"}).settings.filter.has_value());
}

TEST_CASE("usage errors: unknown options", "[cli]") {
  CHECK(analyze_error({"--bogus", "x"}) == "unknown option '--bogus'");
  CHECK(analyze_error({"--bogus=1", "x"}) == "unknown option '--bogus'");
  CHECK(analyze_error({"-z", "x"}) == "unknown option '-z'");
  CHECK(analyze_error({"-hx", "x"}) == "unknown option '-hx'");
  CHECK(analyze_error({"--jso", "o", "x"}) == "unknown option '--jso'");  // no prefix guessing
  CHECK(analyze_error({"--quiet=yes", "x"}) == "option '--quiet' takes no value");
}

TEST_CASE("usage errors: missing values", "[cli]") {
  CHECK(analyze_error({"x", "--json"}) == "option '--json' needs a value");
  CHECK(analyze_error({"x", "-r"}) == "option '-r' needs a value");
  CHECK(analyze_error({"x", "-f"}) == "option '-f' needs a value");
  // A forgotten value must not swallow the next option as a file name.
  CHECK(analyze_error({"--json", "--quiet", "x"}) == "option '--json' needs a value");
  CHECK(analyze_error({"--db=", "x"}) == "option '--db' needs a non-empty value");
  CHECK(analyze_error({"--db", "-", "x"}).find("--db") != std::string::npos);
  // Near miss: '--json=--quiet' is an explicit (odd) file name, and '-' is a value.
  CHECK(analyze_ok({"--json=--quiet", "x"}).json_path == std::optional<std::string>("--quiet"));
}

TEST_CASE("usage errors: malformed durations", "[cli]") {
  CHECK(analyze_error({"--msl", "abc", "x"}).find("invalid duration 'abc' for --msl") == 0);
  CHECK(analyze_error({"--time-wait=10parsecs", "x"}).find("--time-wait") != std::string::npos);
  CHECK(analyze_error({"--idle-timeout", "-5s", "x"}).find("invalid duration '-5s'") == 0);
  CHECK(analyze_error({"--idle-timeout", "0", "x"}) == "--idle-timeout must be greater than zero");
  CHECK(analyze_error({"--msl", "0s", "x"}) == "--msl must be greater than zero");
  CHECK(analyze_ok({"--msl", "1.5", "x"}).settings.msl.ns == 1'500'000'000);
}

TEST_CASE("usage errors: malformed enumerations", "[cli]") {
  CHECK(analyze_error({"--fail-on", "fatal", "x"}).find("invalid value 'fatal' for --fail-on") ==
        0);
  CHECK(analyze_error({"--fail-on", "Error", "x"}).find("--fail-on") != std::string::npos);
  CHECK(analyze_error({"--progress", "sometimes", "x"}).find("--progress") != std::string::npos);
  CHECK(analyze_error({"--connections", "some", "x"}).find("--connections") != std::string::npos);
}

TEST_CASE("usage errors: no inputs", "[cli]") {
  CHECK(analyze_error({}).find("no capture") == 0);
  CHECK(analyze_error({"--quiet", "--json", "out.json"}).find("no capture") == 0);
}

TEST_CASE("top level: help, version, and no bare captures", "[cli]") {
  CHECK(parse({"--help"}).invocation->command == Command::help);
  CHECK(parse({"-h"}).invocation->command == Command::help);
  CHECK(parse({"--version"}).invocation->command == Command::version);
  CHECK(parse({"analyze", "--help"}).invocation->command == Command::analyze_help);
  CHECK(parse({"analyze", "x", "-h"}).invocation->command == Command::analyze_help);
  CHECK(parse({"analyze", "--version"}).invocation->command == Command::version);
  // --help answers even without inputs, but an earlier error still wins.
  CHECK_FALSE(parse({"analyze", "--bogus", "--help"}).ok());

  const ParseOutcome none = parse({});
  REQUIRE_FALSE(none.ok());
  CHECK(none.error->hint == "Try 'lastack --help'.");

  const ParseOutcome bare = parse({"capture.pcap"});
  REQUIRE_FALSE(bare.ok());
  CHECK(bare.error->message.find("lastack analyze capture.pcap") != std::string::npos);
  const ParseOutcome tcpdump_habit = parse({"-r", "capture.pcap"});
  REQUIRE_FALSE(tcpdump_habit.ok());
  CHECK(tcpdump_habit.error->message.find("lastack analyze -r") != std::string::npos);
}

TEST_CASE("help and version texts", "[cli]") {
  CHECK(lastack::cli::version_text("1.2.3") == "lastack 1.2.3\n");
  const std::string top = lastack::cli::top_level_help();
  CHECK(top.find("Usage: lastack analyze") == 0);
  CHECK(top.find("--version") != std::string::npos);
  const std::string help = lastack::cli::analyze_help();
  for (const char* opt : {"-r FILE", "--filter", "--json", "--db", "--fail-on", "--msl",
                          "--time-wait", "--connections", "--idle-timeout", "--quiet", "--progress",
                          "--strict", "--version", "--help"}) {
    INFO(opt);
    CHECK(help.find(opt) != std::string::npos);
  }
  // Fits a 100-column terminal.
  std::size_t start = 0;
  while (start < help.size()) {
    const std::size_t end = help.find('\n', start);
    CHECK(end - start <= 100);
    start = end + 1;
  }
}

TEST_CASE("input problems: wording and exit code", "[cli]") {
  lastack::findings::InputReport bad;
  bad.path = "x.pcap";
  bad.status = "error";
  bad.error = "record length 99999999 exceeds snaplen 65535";
  bad.error_offset = 4120;
  CHECK(lastack::cli::describe_input_problem(bad, false) ==
        "x.pcap: record length 99999999 exceeds snaplen 65535 (byte offset 4120)");
  lastack::findings::InputReport missing;
  missing.path = "nope.pcap";
  missing.status = "error";
  missing.error = "No such file or directory";
  CHECK(lastack::cli::describe_input_problem(missing, false) ==
        "nope.pcap: No such file or directory");

  // A message that already names the input does not name it twice.
  missing.error = "nope.pcap: empty file, not a capture";
  CHECK(lastack::cli::describe_input_problem(missing, false) ==
        "nope.pcap: empty file, not a capture");
  missing.error = std::nullopt;  // near miss: no message at all still says something
  CHECK(lastack::cli::describe_input_problem(missing, false) == "nope.pcap: error");

  lastack::findings::InputReport cut;
  cut.path = "cut.pcap";
  cut.status = "truncated";
  cut.error = "record needs 60 bytes, 12 left";
  cut.error_offset = 800;
  CHECK(lastack::cli::describe_input_problem(cut, false) ==
        "warning: cut.pcap: truncated at byte 800: record needs 60 bytes, 12 left");
  CHECK(lastack::cli::describe_input_problem(cut, true) ==
        "cut.pcap: truncated at byte 800: record needs 60 bytes, 12 left");

  lastack::findings::Report report;
  lastack::findings::InputReport ok;
  ok.path = "ok.pcap";
  report.inputs = {ok};
  CHECK(lastack::cli::decide_exit_code(report, false, false) == 0);
  CHECK(lastack::cli::decide_exit_code(report, false, true) == 2);  // report not written

  lastack::findings::Finding warn;
  warn.severity = Severity::warning;
  report.findings = {warn};
  CHECK(lastack::cli::decide_exit_code(report, false, false) == 0);  // below --fail-on error
  report.settings.fail_on = Severity::warning;
  CHECK(lastack::cli::decide_exit_code(report, false, false) == 1);
  report.settings.fail_on = std::nullopt;
  CHECK(lastack::cli::decide_exit_code(report, false, false) == 0);

  report.settings.fail_on = Severity::warning;
  report.inputs.push_back(cut);
  CHECK(lastack::cli::decide_exit_code(report, false, false) == 1);  // truncation: findings decide
  CHECK(lastack::cli::decide_exit_code(report, true, false) == 2);   // unless --strict
  report.inputs.push_back(bad);
  CHECK(lastack::cli::decide_exit_code(report, false, false) == 2);  // error outranks findings
}

TEST_CASE("tw: --port-range and --server-tw-peak", "[cli][tw]") {
  const auto defaults = analyze_ok({"x"});
  CHECK(defaults.settings.port_range_lo == 32768);
  CHECK(defaults.settings.port_range_hi == 60999);
  CHECK(defaults.settings.server_tw_peak == 1000);
  const auto a = analyze_ok({"--port-range", "40000-40063", "--server-tw-peak=100", "x"});
  CHECK(a.settings.port_range_lo == 40000);
  CHECK(a.settings.port_range_hi == 40063);
  CHECK(a.settings.server_tw_peak == 100);
  CHECK(
      analyze_ok({"--port-range=1024-1024", "--server-tw-peak", "0", "x"}).settings.port_range_hi ==
      1024);
  for (std::string_view bad :
       {"40000", "40063-40000", "0-10", "1-65536", "a-b", "-5", "1 - 2", "10-", "+1-2"}) {
    DYNAMIC_SECTION(bad) {
      const std::string joined = "--port-range=" + std::string(bad);
      CHECK(analyze_error({joined, "x"}).find("--port-range") != std::string::npos);
    }
  }
  CHECK(analyze_error({"--server-tw-peak", "-1", "x"}).find("needs a value") == std::string::npos);
  CHECK(analyze_error({"--server-tw-peak=ten", "x"}).find("--server-tw-peak") != std::string::npos);
  CHECK(analyze_error({"--server-tw-peak=1e3", "x"}).find("--server-tw-peak") != std::string::npos);
  CHECK(lastack::cli::analyze_help().find("--port-range LO-HI") != std::string::npos);
  CHECK(lastack::cli::analyze_help().find("--server-tw-peak N") != std::string::npos);
}

TEST_CASE("memcap: --memcap SIZE in bytes or with a unit", "[cli][memcap]") {
  CHECK(analyze_ok({"x"}).memcap_bytes == std::uint64_t{1} << 30);  // default 1G
  CHECK(analyze_ok({"--memcap", "256M", "x"}).memcap_bytes == std::uint64_t{256} << 20);
  CHECK(analyze_ok({"--memcap=1G", "x"}).memcap_bytes == std::uint64_t{1} << 30);
  CHECK(analyze_ok({"--memcap=2gb", "x"}).memcap_bytes == std::uint64_t{2} << 30);
  CHECK(analyze_ok({"--memcap=96MiB", "x"}).memcap_bytes == std::uint64_t{96} << 20);
  CHECK(analyze_ok({"--memcap=65536k", "x"}).memcap_bytes == std::uint64_t{64} << 20);
  CHECK(analyze_ok({"--memcap=1T", "x"}).memcap_bytes == std::uint64_t{1} << 40);
  CHECK(analyze_ok({"--memcap", "100000000", "x"}).memcap_bytes == 100'000'000);
  for (std::string_view bad : {"", "M", "abc", "12X", "1.5G", "-1G", "1 G", "1GG", "1Mb2",
                               "99999999999999999999", "20000000T"}) {
    DYNAMIC_SECTION(bad) {
      const std::string joined = "--memcap=" + std::string(bad);
      CHECK(analyze_error({joined, "x"}).find("--memcap") != std::string::npos);
    }
  }
  // Below what the process needs besides the flow table.
  CHECK(analyze_error({"--memcap=16M", "x"}).find("too small") != std::string::npos);
  CHECK(analyze_error({"--memcap=1000", "x"}).find("too small") != std::string::npos);
  CHECK(lastack::cli::analyze_help().find("--memcap SIZE") != std::string::npos);
}
