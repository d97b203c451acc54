#include "support/tshark.h"

#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

namespace lastack::test::tshark {
namespace fs = std::filesystem;

namespace {

std::string shell_quote(const std::string& s) {
  std::string q = "'";
  for (char c : s) {
    if (c == '\'') {
      q += "'\\''";
    } else {
      q += c;
    }
  }
  return q + "'";
}

std::string slurp(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// Scratch files for one run: $LASTACK_TEST_TMP (set by ctest) or the system temp directory.
fs::path scratch_dir() {
  const char* base = std::getenv("LASTACK_TEST_TMP");
  fs::path dir = (base != nullptr && *base != '\0') ? fs::path(base) : fs::temp_directory_path();
  dir /= "tshark-" + std::to_string(::getpid());
  fs::create_directories(dir);
  return dir;
}

bool have_timeout() {
  static const bool have = std::system("command -v timeout >/dev/null 2>&1") == 0;
  return have;
}

// tshark warns about running as root on every start; that is not a capture problem.
std::string drop_root_warning(std::string err) {
  const std::string warning =
      "Running as user \"root\" and group \"root\". This could be dangerous.";
  for (std::size_t at; (at = err.find(warning)) != std::string::npos;) {
    std::size_t end = at + warning.size();
    if (end < err.size() && err[end] == '\n') ++end;
    err.erase(at, end - at);
  }
  return err;
}

std::string trim(const std::string& s) {
  const std::size_t b = s.find_first_not_of(" \t\r\n");
  if (b == std::string::npos) return "";
  const std::size_t e = s.find_last_not_of(" \t\r\n");
  return s.substr(b, e - b + 1);
}

// "ip:port" in lastack's form; "" when the address or port is missing.
std::string endpoint(const std::string& v4, const std::string& v6, const std::string& port) {
  if (port.empty()) return "";
  if (!v4.empty()) return v4 + ":" + port;
  if (!v6.empty()) return "[" + v6 + "]:" + port;
  return "";
}

}  // namespace

std::optional<std::string> find() {
  const char* path = std::getenv("PATH");
  if (path == nullptr) return std::nullopt;
  std::stringstream dirs(path);
  for (std::string dir; std::getline(dirs, dir, ':');) {
    if (dir.empty()) continue;
    const fs::path candidate = fs::path(dir) / "tshark";
    if (::access(candidate.c_str(), X_OK) == 0) return candidate.string();
  }
  return std::nullopt;
}

std::string version() {
  const auto exe = find();
  if (!exe) return "";
  const RunResult r = run(*exe, {"--version"}, 30);
  const std::size_t nl = r.out.find('\n');
  return trim(r.out.substr(0, nl));
}

RunResult run(const std::string& program, const std::vector<std::string>& args, int timeout_s) {
  static std::atomic<unsigned> counter{0};
  const fs::path dir = scratch_dir();
  const std::string tag = std::to_string(counter++);
  const fs::path out_file = dir / ("out" + tag);
  const fs::path err_file = dir / ("err" + tag);

  std::string cmd;
  if (have_timeout()) cmd = "timeout -k 5 " + std::to_string(timeout_s) + " ";
  cmd += shell_quote(program);
  for (const std::string& a : args) cmd += " " + shell_quote(a);
  cmd += " </dev/null >" + shell_quote(out_file.string()) + " 2>" + shell_quote(err_file.string());

  RunResult r;
  const int status = std::system(cmd.c_str());
  if (status != -1 && WIFEXITED(status)) r.exit_code = WEXITSTATUS(status);
  r.timed_out = r.exit_code == 124 || r.exit_code == 137;
  r.out = slurp(out_file);
  r.err = drop_root_warning(slurp(err_file));
  std::error_code ec;
  fs::remove(out_file, ec);
  fs::remove(err_file, ec);
  return r;
}

Fault fault_of(const std::string& err) {
  if (err.find("appears to be damaged or corrupt") != std::string::npos) return Fault::damaged;
  if (err.find("cut short in the middle of a packet") != std::string::npos) return Fault::cut_short;
  if (err.find("isn't a capture file") != std::string::npos ||
      err.find("unknown file format") != std::string::npos ||
      err.find("couldn't be opened") != std::string::npos ||
      err.find("doesn't exist") != std::string::npos) {
    return Fault::unreadable;
  }
  return Fault::none;
}

const char* to_string(Fault f) {
  switch (f) {
    case Fault::none: return "none";
    case Fault::damaged: return "damaged";
    case Fault::cut_short: return "cut_short";
    case Fault::unreadable: return "unreadable";
  }
  return "?";
}

std::vector<std::vector<std::string>> parse_fields(const std::string& out) {
  std::vector<std::vector<std::string>> rows;
  std::stringstream lines(out);
  for (std::string line; std::getline(lines, line);) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.empty()) continue;
    std::vector<std::string> cols;
    std::size_t start = 0;
    for (;;) {
      const std::size_t tab = line.find('\t', start);
      cols.push_back(
          line.substr(start, tab == std::string::npos ? std::string::npos : tab - start));
      if (tab == std::string::npos) break;
      start = tab + 1;
    }
    rows.push_back(std::move(cols));
  }
  return rows;
}

// Equivalent display filter, for running by hand. is_real_tcp() applies it to the fields of one
// tshark run so that every frame comes out of a single pass.
// tcp.srcport (not just "tcp"): tshark adds a bare "tcp" layer to a frame whose TCP header was
// cut by the snaplen before the ports; lastack counts that as malformed (tcp_truncated).
const char* const kRealTcpFilter =
    "tcp.srcport && !icmp && !icmpv6"
    " && !(ip.flags.mf == 1) && !(ip.frag_offset > 0)"
    " && !(ipv6.fraghdr.more == 1) && !(ipv6.fraghdr.offset > 0)";

std::vector<std::string> common_options() {
  // One option and its value per line.
  // clang-format off
  return {"-n",
          "-o", "ip.defragment:FALSE",
          "-o", "ipv6.defragment:FALSE",
          "-o", "tcp.analyze_sequence_numbers:TRUE"};
  // clang-format on
}

namespace {

std::vector<std::string> split(const std::string& s, char sep) {
  std::vector<std::string> out;
  std::size_t start = 0;
  for (;;) {
    const std::size_t at = s.find(sep, start);
    out.push_back(s.substr(start, at == std::string::npos ? std::string::npos : at - start));
    if (at == std::string::npos) return out;
    start = at + 1;
  }
}

// The last occurrence of a repeated field (the innermost header).
std::string last(const std::string& s) {
  const std::size_t comma = s.rfind(',');
  return comma == std::string::npos ? s : s.substr(comma + 1);
}

// True when any occurrence equals `value` / is a positive number.
bool any_is(const std::string& s, const std::string& value) {
  for (const std::string& v : split(s, ',')) {
    if (v == value) return true;
  }
  return false;
}
bool any_positive(const std::string& s) {
  for (const std::string& v : split(s, ',')) {
    if (!v.empty() && v.find_first_not_of('0') != std::string::npos) return true;
  }
  return false;
}

// The fields of the single tshark pass, in column order.
const std::vector<std::string> kFields = {"frame.number",
                                          "frame.protocols",
                                          "ip.flags.mf",
                                          "ip.frag_offset",
                                          "ipv6.fraghdr.more",
                                          "ipv6.fraghdr.offset",
                                          "ip.src",
                                          "ipv6.src",
                                          "tcp.srcport",
                                          "ip.dst",
                                          "ipv6.dst",
                                          "tcp.dstport",
                                          "tcp.flags.fin",
                                          "tcp.analysis.retransmission",
                                          "tcp.analysis.fast_retransmission",
                                          "tcp.analysis.spurious_retransmission"};

}  // namespace

bool is_real_tcp(const std::vector<std::string>& row) {
  // Columns as in kFields; kRealTcpFilter term by term.
  if (row.size() < kFields.size() || row[8].empty()) return false;  // tcp.srcport
  for (const std::string& proto : split(row[1], ':')) {
    if (proto == "icmp" || proto == "icmpv6") return false;
  }
  if (any_is(row[2], "1") || any_is(row[2], "True") || any_positive(row[3])) return false;
  if (any_is(row[4], "1") || any_is(row[4], "True") || any_positive(row[5])) return false;
  return true;
}

CaptureView read_capture(const std::string& path, int timeout_s) {
  CaptureView view;
  const auto exe = find();
  if (!exe) {
    view.problem = "tshark is not installed";
    return view;
  }
  // One pass over every frame; occurrence=a so repeated fields (tunnels) are all visible.
  std::vector<std::string> args = common_options();
  for (const char* a :
       {"-r", path.c_str(), "-T", "fields", "-E", "occurrence=a", "-E", "aggregator=,"}) {
    args.emplace_back(a);
  }
  for (const std::string& f : kFields) {
    args.emplace_back("-e");
    args.push_back(f);
  }
  const RunResult r = run(*exe, args, timeout_s);
  if (r.timed_out) {
    view.problem = "tshark timed out after " + std::to_string(timeout_s) + " s";
    return view;
  }
  view.fault = fault_of(r.err);
  view.fault_message = trim(r.err);
  if (view.fault == Fault::unreadable || (r.exit_code != 0 && view.fault == Fault::none)) {
    view.problem = "tshark exited with " + std::to_string(r.exit_code) + ": " + trim(r.err);
    return view;
  }
  for (const auto& row : parse_fields(r.out)) {
    if (row.size() != kFields.size()) {
      view.problem = "unexpected tshark fields line with " + std::to_string(row.size()) +
                     " columns (expected " + std::to_string(kFields.size()) + ")";
      return view;
    }
    ++view.packets;
    if (!is_real_tcp(row)) continue;
    TcpFrame f;
    f.number = std::stoull(row[0]);
    f.src = endpoint(last(row[6]), last(row[7]), last(row[8]));
    f.dst = endpoint(last(row[9]), last(row[10]), last(row[11]));
    const std::string fin = last(row[12]);
    f.fin = fin == "1" || fin == "True";
    f.retransmission = !row[13].empty();
    f.fast_retransmission = !row[14].empty();
    f.spurious_retransmission = !row[15].empty();
    view.tcp[f.number] = f;
  }
  view.ok = true;
  return view;
}

}  // namespace lastack::test::tshark
