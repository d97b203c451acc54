// Runs the real `lastack` binary: exit codes, stdout/stderr and the files it writes.
// Captures are written by hand here (24-byte pcap header + Ethernet/IPv4/TCP records), so these
// tests depend on nothing but the program under test.
#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>
#include <catch2/catch.hpp>

#include <algorithm>
#include <array>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "support/sql.h"

extern char** environ;

namespace fs = std::filesystem;
using lastack::test::sql_rows;
using lastack::test::sql_scalar;

namespace {

struct RunResult {
  int exit_code = -1;
  std::string out;
  std::string err;
};

// A fresh directory per test case under LASTACK_TEST_TMP (parallel ctest runs never collide),
// removed when the test case ends.
class ScratchDir {
 public:
  ScratchDir() {
    static int counter = 0;
    const char* base = std::getenv("LASTACK_TEST_TMP");
    path_ = base != nullptr ? fs::path(base) : fs::temp_directory_path() / "lastack-test";
    path_ /= "cli-run-" + std::to_string(::getpid()) + "-" + std::to_string(++counter);
    fs::remove_all(path_);
    fs::create_directories(path_);
  }
  ScratchDir(const ScratchDir&) = delete;
  ScratchDir& operator=(const ScratchDir&) = delete;
  ~ScratchDir() {
    std::error_code ec;
    fs::remove_all(path_, ec);
  }
  [[nodiscard]] const fs::path& path() const { return path_; }

 private:
  fs::path path_;
};

std::string read_file(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

void write_file(const fs::path& p, const std::vector<std::uint8_t>& bytes) {
  std::ofstream out(p, std::ios::binary);
  out.write(reinterpret_cast<const char*>(bytes.data()),
            static_cast<std::streamsize>(bytes.size()));
}

// Runs lastack with `args`, stdin from `stdin_path` (or /dev/null), capturing stdout and stderr
// in files of `dir`.
RunResult run_lastack(const fs::path& dir, const std::vector<std::string>& args,
                      const fs::path& stdin_path = "/dev/null") {
  const fs::path out_path = dir / "stdout.txt";
  const fs::path err_path = dir / "stderr.txt";
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 0, stdin_path.c_str(), O_RDONLY, 0);
  posix_spawn_file_actions_addopen(&actions, 1, out_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC,
                                   0644);
  posix_spawn_file_actions_addopen(&actions, 2, err_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC,
                                   0644);
  std::vector<std::string> storage{LASTACK_BINARY};
  storage.insert(storage.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (std::string& s : storage) argv.push_back(s.data());
  argv.push_back(nullptr);
  pid_t pid = 0;
  const int rc = posix_spawn(&pid, LASTACK_BINARY, &actions, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  REQUIRE(rc == 0);
  int status = 0;
  REQUIRE(waitpid(pid, &status, 0) == pid);
  RunResult r;
  r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  r.out = read_file(out_path);
  r.err = read_file(err_path);
  return r;
}

void put16be(std::vector<std::uint8_t>& b, std::uint32_t v) {
  b.push_back(static_cast<std::uint8_t>(v >> 8));
  b.push_back(static_cast<std::uint8_t>(v));
}
void put32be(std::vector<std::uint8_t>& b, std::uint32_t v) {
  put16be(b, v >> 16);
  put16be(b, v & 0xffff);
}
void put32le(std::vector<std::uint8_t>& b, std::uint32_t v) {
  for (int i = 0; i < 4; ++i) b.push_back(static_cast<std::uint8_t>(v >> (8 * i)));
}

// Ethernet + IPv4 + TCP SYN from 10.0.0.1:40000 to 10.0.0.2:80, with a valid IP checksum.
std::vector<std::uint8_t> syn_frame() {
  std::vector<std::uint8_t> f;
  f.insert(f.end(), {0x02, 0, 0, 0, 0, 2, 0x02, 0, 0, 0, 0, 1, 0x08, 0x00});
  const std::size_t ip = f.size();
  f.insert(f.end(),
           {0x45, 0x00, 0x00, 40, 0x12, 0x34, 0x40, 0x00, 64, 6, 0, 0, 10, 0, 0, 1, 10, 0, 0, 2});
  std::uint32_t sum = 0;
  for (std::size_t i = ip; i < ip + 20; i += 2) sum += (std::uint32_t{f[i]} << 8) | f[i + 1];
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >> 16);
  f[ip + 10] = static_cast<std::uint8_t>(~sum >> 8);
  f[ip + 11] = static_cast<std::uint8_t>(~sum);
  put16be(f, 40000);
  put16be(f, 80);
  put32be(f, 1000);                                         // seq
  put32be(f, 0);                                            // ack
  f.insert(f.end(), {0x50, 0x02, 0xfa, 0xf0, 0, 0, 0, 0});  // SYN, window 64240
  return f;
}

// A little-endian microsecond pcap with `records` copies of the SYN, one second apart.
std::vector<std::uint8_t> pcap_with_syns(int records) {
  std::vector<std::uint8_t> b;
  put32le(b, 0xa1b2c3d4);
  b.insert(b.end(), {2, 0, 4, 0});  // version 2.4
  put32le(b, 0);                    // thiszone
  put32le(b, 0);                    // sigfigs
  put32le(b, 65535);                // snaplen
  put32le(b, 1);                    // LINKTYPE_ETHERNET
  const std::vector<std::uint8_t> frame = syn_frame();
  for (int i = 0; i < records; ++i) {
    put32le(b, 1'795'251'600U + static_cast<std::uint32_t>(i));
    put32le(b, 0);
    put32le(b, static_cast<std::uint32_t>(frame.size()));
    put32le(b, static_cast<std::uint32_t>(frame.size()));
    b.insert(b.end(), frame.begin(), frame.end());
  }
  return b;
}

fs::path minimal_capture(const fs::path& dir) {
  const fs::path p = dir / "syn.pcap";
  write_file(p, pcap_with_syns(1));
  return p;
}

bool contains(const std::string& hay, const std::string& needle) {
  return hay.find(needle) != std::string::npos;
}

}  // namespace

// --- Behaviour that needs no analysis ---------------------------------------------------------

TEST_CASE("lastack --version prints the version and exits 0", "[cli][run]") {
  const ScratchDir scratch;
  const fs::path& dir = scratch.path();
  const RunResult r = run_lastack(dir, {"--version"});
  CHECK(r.exit_code == 0);
  CHECK(r.out.rfind("lastack ", 0) == 0);
  CHECK(r.out.size() > 9);
  CHECK(r.out.back() == '\n');
  CHECK(r.err.empty());
  CHECK(run_lastack(dir, {"analyze", "--version"}).out == r.out);
}

TEST_CASE("lastack --help and analyze --help exit 0 on stdout", "[cli][run]") {
  const ScratchDir scratch;
  const fs::path& dir = scratch.path();
  const RunResult top = run_lastack(dir, {"--help"});
  CHECK(top.exit_code == 0);
  CHECK(contains(top.out, "Usage: lastack analyze"));
  const RunResult sub = run_lastack(dir, {"analyze", "--help"});
  CHECK(sub.exit_code == 0);
  CHECK(contains(sub.out, "--fail-on"));
  CHECK(sub.err.empty());
}

TEST_CASE("usage errors exit 2 with a message and analyse nothing", "[cli][run]") {
  const ScratchDir scratch;
  const fs::path& dir = scratch.path();
  const fs::path cap = minimal_capture(dir);
  const fs::path json = dir / "r.json";

  const RunResult bad = run_lastack(dir, {"analyze", "--bogus", "--json", json, cap});
  CHECK(bad.exit_code == 2);
  CHECK(bad.err == "lastack: unknown option '--bogus'\nTry 'lastack analyze --help'.\n");
  CHECK(bad.out.empty());
  CHECK_FALSE(fs::exists(json));

  const RunResult dur = run_lastack(dir, {"analyze", "--msl", "soon", cap});
  CHECK(dur.exit_code == 2);
  CHECK(contains(dur.err, "lastack: invalid duration 'soon' for --msl"));

  const RunResult none = run_lastack(dir, {"analyze"});
  CHECK(none.exit_code == 2);
  CHECK(contains(none.err, "no capture"));

  const RunResult bare = run_lastack(dir, {cap});
  CHECK(bare.exit_code == 2);
  CHECK(contains(bare.err, "lastack analyze"));

  const RunResult nothing = run_lastack(dir, {});
  CHECK(nothing.exit_code == 2);
  CHECK(contains(nothing.err, "Try 'lastack --help'."));
}

// --- Behaviour that needs the pipeline and sinks ---------------------------------------------

TEST_CASE("a nonexistent capture exits 2 and names the path", "[cli][run]") {
  const ScratchDir scratch;
  const fs::path& dir = scratch.path();
  const fs::path missing = dir / "no-such-capture.pcap";
  const RunResult r = run_lastack(dir, {"analyze", missing});
  CHECK(r.exit_code == 2);
  CHECK(contains(r.err, "lastack: " + missing.string() + ": "));
}

TEST_CASE("an unreadable input does not stop the others", "[cli][run]") {
  const ScratchDir scratch;
  const fs::path& dir = scratch.path();
  const fs::path cap = minimal_capture(dir);
  const fs::path missing = dir / "missing.pcap";
  const RunResult r = run_lastack(dir, {"analyze", "--json", "-", missing, cap});
  CHECK(r.exit_code == 2);
  CHECK(contains(r.err, missing.string()));
  const auto report = nlohmann::json::parse(r.out);
  REQUIRE(report["inputs"].size() == 2);
  CHECK(report["inputs"][0]["status"] == "error");
  CHECK(report["inputs"][1]["status"] == "ok");
}

TEST_CASE("a minimal valid capture exits 0 with a summary", "[cli][run]") {
  const ScratchDir scratch;
  const fs::path& dir = scratch.path();
  const fs::path cap = minimal_capture(dir);
  const RunResult r = run_lastack(dir, {"analyze", cap});
  INFO(r.err);
  CHECK(r.exit_code == 0);
  CHECK_FALSE(r.out.empty());
  CHECK(r.err.empty());

  const RunResult quiet = run_lastack(dir, {"analyze", "--quiet", cap});
  CHECK(quiet.exit_code == 0);
  CHECK(quiet.out.empty());
  CHECK(quiet.err.empty());
}

TEST_CASE("the JSON report alone on stdout with --json -", "[cli][run]") {
  const ScratchDir scratch;
  const fs::path& dir = scratch.path();
  const fs::path cap = minimal_capture(dir);
  const RunResult r = run_lastack(dir, {"analyze", "--json", "-", "--msl=10s", cap});
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  const auto report = nlohmann::json::parse(r.out);  // throws if a summary got mixed in
  CHECK(report["schema_version"] == 1);
  CHECK(report["tool"]["name"] == "lastack");
  CHECK(report["settings"]["msl_s"] == 10);
  CHECK(report["settings"]["time_wait_s"] == 20);
  CHECK(report["settings"]["fail_on"] == "error");
  REQUIRE(report["inputs"].size() == 1);
  CHECK(report["inputs"][0]["packets"] == 1);
  CHECK(report["inputs"][0]["status"] == "ok");
  CHECK(report["summary"]["tcp_packets"] == 1);
}

TEST_CASE("json and db files are written, the summary still printed", "[cli][run]") {
  const ScratchDir scratch;
  const fs::path& dir = scratch.path();
  const fs::path cap = minimal_capture(dir);
  const fs::path json = dir / "report.json";
  const fs::path db = dir / "runs.db";
  const RunResult r = run_lastack(dir, {"analyze", "--json", json, "--db=" + db.string(), cap});
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  CHECK_FALSE(r.out.empty());
  REQUIRE(fs::exists(json));
  CHECK(nlohmann::json::parse(read_file(json))["schema_version"] == 1);
  REQUIRE(fs::exists(db));

  // A second run appends to the database instead of replacing it.
  REQUIRE(run_lastack(dir, {"analyze", "--quiet", "--db", db, cap}).exit_code == 0);
  CHECK(sql_scalar(db, "SELECT count(*) FROM runs") == "2");
}

TEST_CASE("a report that cannot be written exits 2", "[cli][run]") {
  const ScratchDir scratch;
  const fs::path& dir = scratch.path();
  const fs::path cap = minimal_capture(dir);
  const fs::path json = dir / "no-such-dir" / "report.json";
  const RunResult r = run_lastack(dir, {"analyze", "--json", json, cap});
  CHECK(r.exit_code == 2);
  CHECK(contains(r.err, json.string()));
}

TEST_CASE("'-' reads the capture from standard input", "[cli][run]") {
  const ScratchDir scratch;
  const fs::path& dir = scratch.path();
  const fs::path cap = minimal_capture(dir);
  const RunResult r = run_lastack(dir, {"analyze", "--json", "-", "-"}, cap);
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  const auto report = nlohmann::json::parse(r.out);
  CHECK(report["inputs"][0]["packets"] == 1);
}

TEST_CASE("a truncated capture warns; --strict makes it exit 2", "[cli][run]") {
  const ScratchDir scratch;
  const fs::path& dir = scratch.path();
  std::vector<std::uint8_t> bytes = pcap_with_syns(3);
  bytes.resize(bytes.size() - 10);  // the last record is cut short, as by a killed tcpdump
  const fs::path cap = dir / "cut.pcap";
  write_file(cap, bytes);

  const RunResult r = run_lastack(dir, {"analyze", cap});
  CHECK(r.exit_code == 0);
  CHECK(contains(r.err, "lastack: warning: " + cap.string() + ": truncated"));

  const RunResult quiet = run_lastack(dir, {"analyze", "--quiet", cap});
  CHECK(quiet.exit_code == 0);
  CHECK(quiet.err.empty());

  const RunResult strict = run_lastack(dir, {"analyze", "--strict", "--quiet", cap});
  CHECK(strict.exit_code == 2);
  CHECK(contains(strict.err, cap.string()));
}

TEST_CASE("a corrupt record mid-file exits 2 with the byte offset", "[cli][run]") {
  const ScratchDir scratch;
  const fs::path& dir = scratch.path();
  std::vector<std::uint8_t> bytes = pcap_with_syns(3);
  // Second record's incl_len (at 24 + 16 + 54 + 8) becomes impossibly large.
  const std::size_t second = 24 + 16 + 54;
  for (std::size_t i = 0; i < 4; ++i) bytes[second + 8 + i] = 0x7f;
  const fs::path cap = dir / "corrupt.pcap";
  write_file(cap, bytes);
  const RunResult r = run_lastack(dir, {"analyze", cap});
  CHECK(r.exit_code == 2);
  CHECK(contains(r.err, "lastack: " + cap.string() + ": "));
  CHECK(contains(r.err, "(byte offset " + std::to_string(second) + ")"));
}

TEST_CASE("a bad filter is a usage error", "[cli][run]") {
  const ScratchDir scratch;
  const fs::path& dir = scratch.path();
  const fs::path cap = minimal_capture(dir);
  const fs::path json = dir / "r.json";
  const RunResult r = run_lastack(dir, {"analyze", "-f", "tcp and and", "--json", json, cap});
  CHECK(r.exit_code == 2);
  CHECK(r.err.rfind("lastack: ", 0) == 0);
  CHECK_FALSE(fs::exists(json));
  // Near miss: a valid filter analyses normally.
  CHECK(run_lastack(dir, {"analyze", "--quiet", "-f", "tcp port 80", cap}).exit_code == 0);
}

// --- Behaviour that needs the detectors ----------------------------------------------------------

// The writer does not have SQLite enforce the foreign keys (a cost per row): every reference it
// writes must hold by construction, across appended runs too.
TEST_CASE("every SQLite reference holds after appended runs with findings", "[cli][run]") {
  const ScratchDir scratch;
  const fs::path& dir = scratch.path();
  const std::string lost = LASTACK_SOURCE_DIR "/samples/real/lost_final_ack.client.pcap";
  const std::string linger = LASTACK_SOURCE_DIR "/samples/real/linger_zero.server.pcap";
  const fs::path db = dir / "runs.db";
  for (int run = 0; run < 2; ++run) {
    const RunResult r =
        run_lastack(dir, {"analyze", "--quiet", "--connections", "all", "--db", db, lost, linger});
    INFO(r.err);
    REQUIRE(r.exit_code == 0);
  }
  auto count = [&](const char* sql) { return sql_rows(db, sql).size(); };
  CHECK(count("SELECT 1 FROM findings") > 0);
  CHECK(count("SELECT 1 FROM findings WHERE connection_id IS NOT NULL") > 0);
  CHECK(count("PRAGMA foreign_key_check") == 0);
  // And each finding points at a connection of its own run and input.
  CHECK(count("SELECT 1 FROM findings f JOIN connections c ON c.id = f.connection_id "
              "WHERE c.run_id != f.run_id OR c.input_id != f.input_id") == 0);
}

TEST_CASE("findings at or above --fail-on exit 1, below it 0", "[cli][run]") {
  const ScratchDir scratch;
  const fs::path& dir = scratch.path();
  // Real kernel traffic seen from the client: the server re-sends its FIN after the client's
  // final ACK, so the report has a lost_final_ack finding.
  const std::string cap = LASTACK_SOURCE_DIR "/samples/real/lost_final_ack.client.pcap";
  REQUIRE(fs::exists(cap));

  const RunResult r = run_lastack(dir, {"analyze", "--json", "-", "--fail-on", "info", cap});
  INFO(r.err);
  CHECK(r.exit_code == 1);
  const auto report = nlohmann::json::parse(r.out);
  const auto& found = report["findings"];
  CHECK(std::any_of(found.begin(), found.end(),
                    [](const auto& f) { return f["kind"] == "lost_final_ack"; }));

  // The exit code follows the most severe finding against each threshold.
  const std::array<std::string, 4> levels{"info", "warning", "error", "critical"};
  std::size_t worst = 0;
  for (const auto& f : found) {
    const auto at = std::find(levels.begin(), levels.end(), f["severity"].get<std::string>());
    REQUIRE(at != levels.end());
    worst = std::max(worst, static_cast<std::size_t>(at - levels.begin()));
  }
  for (std::size_t i = 0; i < levels.size(); ++i) {
    INFO("--fail-on " << levels[i]);
    CHECK(run_lastack(dir, {"analyze", "--quiet", "--fail-on", levels[i], cap}).exit_code ==
          (i <= worst ? 1 : 0));
  }
  CHECK(run_lastack(dir, {"analyze", "--quiet", "--fail-on=never", cap}).exit_code == 0);
}
