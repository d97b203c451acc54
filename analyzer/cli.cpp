#include "cli.h"

#include <algorithm>
#include <array>

#include "lastack/findings/finding.h"

namespace lastack::cli {

namespace {

constexpr std::string_view kAnalyzeHint = "Try 'lastack analyze --help'.";
constexpr std::string_view kTopHint = "Try 'lastack --help'.";

enum class OptionId {
  read,
  filter,
  json,
  db,
  fail_on,
  msl,
  time_wait,
  connections,
  idle_timeout,
  quiet,
  progress,
  strict,
  version,
  help,
  port_range,
  server_tw_peak,
  memcap,
};

struct OptionSpec {
  OptionId id;
  std::string_view long_name;  // without "--"
  char short_name;             // '\0' = none
  bool takes_value;
};

// The whole analyze option surface. Names are part of the user contract: add, never rename.
constexpr std::array<OptionSpec, 17> kOptions{{
    {OptionId::read, "read", 'r', true},
    {OptionId::filter, "filter", 'f', true},
    {OptionId::json, "json", '\0', true},
    {OptionId::db, "db", '\0', true},
    {OptionId::fail_on, "fail-on", '\0', true},
    {OptionId::msl, "msl", '\0', true},
    {OptionId::time_wait, "time-wait", '\0', true},
    {OptionId::connections, "connections", '\0', true},
    {OptionId::idle_timeout, "idle-timeout", '\0', true},
    {OptionId::quiet, "quiet", 'q', false},
    {OptionId::progress, "progress", '\0', true},
    {OptionId::strict, "strict", '\0', false},
    {OptionId::version, "version", '\0', false},
    {OptionId::help, "help", 'h', false},
    {OptionId::port_range, "port-range", '\0', true},
    {OptionId::server_tw_peak, "server-tw-peak", '\0', true},
    {OptionId::memcap, "memcap", '\0', true},
}};

ParseOutcome usage(std::string message, std::string_view hint = kAnalyzeHint) {
  return ParseOutcome{std::nullopt, UsageError{std::move(message), std::string(hint)}};
}

ParseOutcome success(Invocation inv) {
  return ParseOutcome{std::move(inv), std::nullopt};
}

const OptionSpec* find_long(std::string_view name) {
  for (const OptionSpec& spec : kOptions) {
    if (spec.long_name == name) return &spec;
  }
  return nullptr;
}

const OptionSpec* find_short(char c) {
  for (const OptionSpec& spec : kOptions) {
    if (spec.short_name == c) return &spec;
  }
  return nullptr;
}

// How the user spelled an option, for messages: "--json" or "-f".
std::string spelled(const OptionSpec& spec, bool as_short) {
  return as_short ? std::string("-") + spec.short_name : "--" + std::string(spec.long_name);
}

// A failure to apply one option's value; empty = fine.
using ApplyError = std::optional<std::string>;

ApplyError parse_duration_value(std::string_view value, std::string_view option, bool allow_zero,
                                Duration& out) {
  Duration d;
  if (!parse_duration(value, d)) {
    return "invalid duration '" + std::string(value) + "' for " + std::string(option) +
           " (examples: 30s, 500ms, 2m, 1.5)";
  }
  if (!allow_zero && d.ns == 0) return std::string(option) + " must be greater than zero";
  out = d;
  return std::nullopt;
}

std::string invalid_choice(std::string_view value, std::string_view option,
                           std::string_view choices) {
  return "invalid value '" + std::string(value) + "' for " + std::string(option) + " (choose " +
         std::string(choices) + ")";
}

ApplyError parse_fail_on(std::string_view value, findings::Settings& settings) {
  if (value == "never") {
    settings.fail_on = std::nullopt;
    return std::nullopt;
  }
  findings::Severity severity{};
  if (!findings::parse_severity(value, severity)) {
    return invalid_choice(value, "--fail-on", "info, warning, error, critical or never");
  }
  settings.fail_on = severity;
  return std::nullopt;
}

ApplyError parse_progress(std::string_view value, ProgressMode& out) {
  if (value == "auto")
    out = ProgressMode::automatic;
  else if (value == "always")
    out = ProgressMode::always;
  else if (value == "never")
    out = ProgressMode::never;
  else
    return invalid_choice(value, "--progress", "auto, always or never");
  return std::nullopt;
}

ApplyError parse_connections(std::string_view value, bool& all) {
  if (value == "with-findings")
    all = false;
  else if (value == "all")
    all = true;
  else
    return invalid_choice(value, "--connections", "with-findings or all");
  return std::nullopt;
}

// A decimal number without sign or spaces, at most `max`.
bool parse_uint(std::string_view text, std::uint64_t max, std::uint64_t& out) {
  if (text.empty() || text.size() > 20) return false;
  std::uint64_t v = 0;
  for (char c : text) {
    if (c < '0' || c > '9') return false;
    const auto digit = static_cast<std::uint64_t>(c - '0');
    if (v > (max - digit) / 10) return false;
    v = v * 10 + digit;
  }
  out = v;
  return true;
}

// "--port-range LO-HI" (as net.ipv4.ip_local_port_range, with a dash): 1 <= LO <= HI <= 65535.
ApplyError parse_port_range(std::string_view value, findings::Settings& settings) {
  const std::size_t dash = value.find('-');
  std::uint64_t lo = 0;
  std::uint64_t hi = 0;
  if (dash == std::string_view::npos || !parse_uint(value.substr(0, dash), 65535, lo) ||
      !parse_uint(value.substr(dash + 1), 65535, hi) || lo == 0 || lo > hi) {
    return "invalid port range '" + std::string(value) +
           "' for --port-range (LO-HI with 1 <= LO <= HI <= 65535, e.g. 32768-60999)";
  }
  settings.port_range_lo = static_cast<std::uint16_t>(lo);
  settings.port_range_hi = static_cast<std::uint16_t>(hi);
  return std::nullopt;
}

ApplyError parse_server_tw_peak(std::string_view value, findings::Settings& settings) {
  std::uint64_t n = 0;
  if (!parse_uint(value, 1'000'000'000'000ULL, n)) {
    return "invalid count '" + std::string(value) +
           "' for --server-tw-peak (a whole number; 0 turns the warning off)";
  }
  settings.server_tw_peak = n;
  return std::nullopt;
}

// The power-of-1024 shift of a size unit (Suricata's spelling: 256mb, 1gb; also 256M, 1GiB).
std::optional<int> unit_shift(std::string_view unit) {
  std::string u;
  for (char c : unit) u += static_cast<char>(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c);
  if (u.empty() || u == "b") return 0;
  static constexpr std::string_view kPrefixes = "kmgt";
  const std::size_t i = kPrefixes.find(u.front());
  if (i == std::string_view::npos) return std::nullopt;
  const std::string_view rest = std::string_view(u).substr(1);
  if (!rest.empty() && rest != "b" && rest != "ib") return std::nullopt;
  return 10 * static_cast<int>(i + 1);
}

// "--memcap SIZE": bytes, or a number with a unit (K, M, G, T: powers of 1024).
ApplyError parse_memcap(std::string_view value, std::uint64_t& out) {
  const std::size_t digits = value.find_first_not_of("0123456789");
  const std::optional<int> shift = unit_shift(value.substr(std::min(digits, value.size())));
  std::uint64_t n = 0;
  if (!shift || !parse_uint(value.substr(0, digits), UINT64_MAX >> *shift, n)) {
    return "invalid size '" + std::string(value) +
           "' for --memcap (bytes, or with a unit: 512M, 2G, 1024K)";
  }
  if ((n << *shift) < pipeline::kMinMemcap) {
    return "--memcap " + std::string(value) + " is too small: at least " +
           std::to_string(pipeline::kMinMemcap >> 20) + "M";
  }
  out = n << *shift;
  return std::nullopt;
}

// State that only matters while parsing.
struct ParseState {
  Invocation inv;
  bool time_wait_given = false;
  std::optional<Command> early_exit;  // --help / --version seen
};

ApplyError need_nonempty(std::string_view value, std::string_view option) {
  if (value.empty()) return "option '" + std::string(option) + "' needs a non-empty value";
  return std::nullopt;
}

ApplyError apply_option(OptionId id, std::string_view option, std::string_view value,
                        ParseState& st) {
  AnalyzeArgs& a = st.inv.args;
  switch (id) {
    case OptionId::read:
      if (auto e = need_nonempty(value, option)) return e;
      a.inputs.emplace_back(value);
      return std::nullopt;
    case OptionId::filter:
      // An empty expression matches everything in libpcap; treat it as "no filter" so that
      // scripts passing -f "$FILTER" with an empty variable behave.
      if (value.empty())
        a.settings.filter = std::nullopt;
      else
        a.settings.filter = std::string(value);
      return std::nullopt;
    case OptionId::json:
      if (auto e = need_nonempty(value, option)) return e;
      a.json_path = std::string(value);
      return std::nullopt;
    case OptionId::db:
      if (auto e = need_nonempty(value, option)) return e;
      if (value == "-") return std::string("--db needs a file: a database cannot go to stdout");
      a.db_path = std::string(value);
      return std::nullopt;
    case OptionId::fail_on: return parse_fail_on(value, a.settings);
    case OptionId::msl: return parse_duration_value(value, option, false, a.settings.msl);
    case OptionId::time_wait:
      // Zero is a real configuration (a stack without TIME_WAIT), so it is allowed.
      st.time_wait_given = true;
      return parse_duration_value(value, option, true, a.settings.time_wait);
    case OptionId::connections: return parse_connections(value, a.settings.all_connections);
    case OptionId::idle_timeout: return parse_duration_value(value, option, false, a.idle_timeout);
    case OptionId::quiet: a.quiet = true; return std::nullopt;
    case OptionId::progress: return parse_progress(value, a.progress);
    case OptionId::strict: a.strict = true; return std::nullopt;
    case OptionId::version: st.early_exit = Command::version; return std::nullopt;
    case OptionId::help: st.early_exit = Command::analyze_help; return std::nullopt;
    case OptionId::port_range: return parse_port_range(value, a.settings);
    case OptionId::server_tw_peak: return parse_server_tw_peak(value, a.settings);
    case OptionId::memcap: return parse_memcap(value, a.memcap_bytes);
  }
  return std::nullopt;
}

// A separate-form value that is itself a long option ("--json --quiet") is almost surely a
// forgotten value, not a file named "--quiet"; "--json=--quiet" still allows that name.
bool looks_like_long_option(std::string_view arg) {
  return arg.size() > 2 && arg.starts_with("--");
}

// Splits one option argument into its spec and inline value. Returns an error message on an
// unknown option or a value given to a flag.
struct SplitOption {
  const OptionSpec* spec = nullptr;
  bool as_short = false;
  std::optional<std::string_view> inline_value;
};

std::optional<std::string> split_option(std::string_view arg, SplitOption& out) {
  if (arg.starts_with("--")) {
    const std::string_view body = arg.substr(2);
    const std::size_t eq = body.find('=');
    const std::string_view name = body.substr(0, eq);
    out.spec = find_long(name);
    if (out.spec == nullptr) return "unknown option '--" + std::string(name) + "'";
    if (eq != std::string_view::npos) {
      if (!out.spec->takes_value) return "option '--" + std::string(name) + "' takes no value";
      out.inline_value = body.substr(eq + 1);
    }
    return std::nullopt;
  }
  // Short option, getopt style: "-r FILE" or "-rFILE".
  out.spec = find_short(arg[1]);
  out.as_short = true;
  if (out.spec == nullptr || (!out.spec->takes_value && arg.size() > 2)) {
    return "unknown option '" + std::string(arg) + "'";
  }
  if (arg.size() > 2) out.inline_value = arg.substr(2);
  return std::nullopt;
}

std::optional<std::string> finish(ParseState& st) {
  AnalyzeArgs& a = st.inv.args;
  if (a.inputs.empty()) return std::string("no capture given (a file, or '-' for standard input)");
  if (std::count(a.inputs.begin(), a.inputs.end(), "-") > 1) {
    return std::string("standard input ('-') can be read only once");
  }
  if (!st.time_wait_given) a.settings.time_wait = a.settings.msl * 2;
  return std::nullopt;
}

}  // namespace

ParseOutcome parse_analyze(std::span<const std::string_view> args) {
  ParseState st;
  bool options_done = false;
  for (std::size_t i = 0; i < args.size(); ++i) {
    const std::string_view arg = args[i];
    // Options and captures may be mixed (GNU style); "-" is stdin, "--" ends the options.
    if (!options_done && arg == "--") {
      options_done = true;
      continue;
    }
    if (options_done || arg == "-" || !arg.starts_with("-")) {
      st.inv.args.inputs.emplace_back(arg);
      continue;
    }
    SplitOption opt;
    if (auto err = split_option(arg, opt)) return usage(std::move(*err));
    const std::string name = spelled(*opt.spec, opt.as_short);
    std::string_view value;
    if (opt.inline_value) {
      value = *opt.inline_value;
    } else if (opt.spec->takes_value) {
      if (i + 1 >= args.size() || looks_like_long_option(args[i + 1])) {
        return usage("option '" + name + "' needs a value");
      }
      value = args[++i];
    }
    if (auto err = apply_option(opt.spec->id, name, value, st)) return usage(std::move(*err));
    // --help and --version answer at once: the rest of the line does not matter any more.
    if (st.early_exit) return success(Invocation{*st.early_exit, {}});
  }
  if (auto err = finish(st)) return usage(std::move(*err));
  st.inv.command = Command::analyze;
  return success(std::move(st.inv));
}

ParseOutcome parse_command_line(std::span<const std::string_view> args) {
  if (args.empty()) return usage("no command given", kTopHint);
  const std::string_view first = args[0];
  if (first == "analyze") return parse_analyze(args.subspan(1));
  if (first == "--help" || first == "-h" || first == "help") {
    return success(Invocation{Command::help, {}});
  }
  if (first == "--version") return success(Invocation{Command::version, {}});
  // `lastack file.pcap` or `lastack -r file.pcap`: the subcommand is required so that new
  // commands can be added later without capture names becoming ambiguous, but say what to type.
  const std::string suggestion = "to analyse captures: lastack analyze " + std::string(first);
  if (first.starts_with("-") && first != "-") {
    return usage("'" + std::string(first) + "' is not a command; " + suggestion + " ...", kTopHint);
  }
  return usage("unknown command '" + std::string(first) + "'; " + suggestion, kTopHint);
}

std::string top_level_help() {
  return "Usage: lastack analyze [options] CAPTURE...\n"
         "       lastack --version\n"
         "       lastack --help\n"
         "\n"
         "Rebuilds every TCP connection of pcap/pcapng captures with the RFC 9293 state machine\n"
         "of both endpoints and reports what goes wrong when connections close.\n"
         "\n"
         "Commands:\n"
         "  analyze   analyse captures and report findings (see 'lastack analyze --help')\n"
         "\n"
         "Exit status: 0 no finding at or above --fail-on, 1 findings at or above it,\n"
         "2 trouble (usage error, bad filter, unreadable or corrupt input).\n";
}

std::string analyze_help() {
  return "Usage: lastack analyze [options] CAPTURE...\n"
         "\n"
         "Analyses pcap/pcapng captures (optionally gzip/zstd-compressed) as one capture in\n"
         "timestamp order. CAPTURE '-' reads standard input.\n"
         "\n"
         "Options:\n"
         "  -r FILE                 add a capture (repeatable, as in tcpdump)\n"
         "  -f, --filter EXPR       packet filter in tcpdump syntax\n"
         "      --json FILE         write the JSON report ('-' = standard output)\n"
         "      --db FILE           append this run to a SQLite database\n"
         "      --fail-on LEVEL     exit 1 on findings at or above LEVEL:\n"
         "                          info, warning, error (default), critical, never\n"
         "      --msl DURATION      maximum segment lifetime (default 30s)\n"
         "      --time-wait DURATION\n"
         "                          TIME_WAIT length (default 2 x MSL)\n"
         "      --port-range LO-HI  the clients' ephemeral port range, for TIME_WAIT pressure\n"
         "                          (default 32768-60999, Linux's ip_local_port_range)\n"
         "      --server-tw-peak N  warn when a server that closes first holds N TIME_WAIT\n"
         "                          entries at once (default 1000; 0 = never)\n"
         "      --connections WHICH with-findings (default) or all: connections in the report\n"
         "      --idle-timeout DURATION\n"
         "                          finalise a connection idle this long (default 300s)\n"
         "      --memcap SIZE       keep the whole process under SIZE (default 1G; K, M, G:\n"
         "                          powers of 1024; at least 32M): beyond it the oldest\n"
         "                          half-open attempts are counted per server, not analysed,\n"
         "                          then the least recently active connections end early\n"
         "  -q, --quiet             no summary on stdout, no warnings (errors still shown)\n"
         "      --progress WHEN     auto (default: when stderr is a terminal), always, never\n"
         "      --strict            a truncated capture makes the exit status 2\n"
         "      --version           print the version and exit\n"
         "  -h, --help              print this help and exit\n"
         "\n"
         "DURATION: a number with unit ns, us, ms, s, m or h (no unit = seconds), e.g. 500ms.\n"
         "Options take '--opt VALUE' or '--opt=VALUE'; '--' ends the options. A repeated option\n"
         "keeps its last value (except -r, which adds).\n"
         "\n"
         "Without --json/--db, or unless --quiet or '--json -', a summary goes to stdout.\n"
         "\n"
         "Exit status: 0 no finding at or above --fail-on, 1 findings at or above it,\n"
         "2 trouble (usage error, bad filter, unreadable or corrupt input, report not written).\n";
}

std::string version_text(std::string_view version) {
  return "lastack " + std::string(version) + "\n";
}

std::string describe_input_problem(const findings::InputReport& input, bool strict) {
  std::string why = input.error.value_or(input.status);
  // Reader messages may already start with the path; the line names it once.
  if (const std::string prefix = input.path + ": "; why.starts_with(prefix) && why != prefix) {
    why.erase(0, prefix.size());
  }
  if (input.status == "truncated") {
    std::string line = strict ? "" : "warning: ";
    line += input.path + ": truncated";
    if (input.error_offset) line += " at byte " + std::to_string(*input.error_offset);
    return line + ": " + why;
  }
  std::string line = input.path + ": " + why;
  if (input.error_offset) line += " (byte offset " + std::to_string(*input.error_offset) + ")";
  return line;
}

bool input_is_trouble(const findings::InputReport& input, bool strict) {
  return input.status == "error" || (strict && input.status == "truncated");
}

int decide_exit_code(const findings::Report& report, bool strict, bool sink_failed) {
  if (sink_failed) return kExitTrouble;
  const bool trouble =
      std::any_of(report.inputs.begin(), report.inputs.end(),
                  [strict](const auto& in) { return input_is_trouble(in, strict); });
  if (trouble) return kExitTrouble;
  return report.fails() ? kExitFindings : kExitOk;
}

}  // namespace lastack::cli
