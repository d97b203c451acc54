// End to end, hostile ENVIRONMENT: unreadable paths, unwritable reports, an interrupted run and
// awkward file names. Each case asserts the message, the exit code and what survives (the other
// inputs' analysis, the previous report, the database rows).
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <catch2/catch.hpp>
#include <chrono>
#include <csignal>
#include <cstdlib>
#include <string>
#include <thread>
#include <vector>

#include "lastack/synth/conversation.h"
#include "support/hostile.h"
#include "support/sql.h"

using lastack::test::sql_rows;

namespace h = lastack::hostile;
namespace fs = std::filesystem;
using h::Bytes;
using nlohmann::json;

namespace {

std::vector<std::string> listing(const fs::path& dir) {
  std::vector<std::string> names;
  for (const auto& e : fs::directory_iterator(dir)) names.push_back(e.path().filename().string());
  std::sort(names.begin(), names.end());
  return names;
}

}  // namespace

TEST_CASE("robust: unreadable inputs are named and the others are still analysed",
          "[robust][cli]") {
  const h::Scratch dir("paths");
  h::write_file(dir / "good.pcap", h::base_pcap());
  auto check = [&](const fs::path& bad, const std::string& why) {
    const h::RunResult r = h::run_lastack(
        dir.path(), {"analyze", "--json", "-", bad.string(), (dir / "good.pcap").string()});
    INFO(r.err);
    CHECK(r.exit_code == 2);
    CHECK(h::contains(r.err, "lastack: " + bad.string() + ": "));
    CHECK(h::contains(r.err, why));
    const json report = json::parse(r.out);
    CHECK(report["inputs"][0]["status"] == "error");
    CHECK(h::contains(report["inputs"][0]["error"].get<std::string>(), why));
    CHECK(report["inputs"][1]["status"] == "ok");
    CHECK(report["inputs"][1]["packets"] == h::kBaseFrames);
    CHECK(h::count_kind(report, "abortive_close") == 1);
  };
  SECTION("nonexistent") {
    check(dir / "missing.pcap", "No such file or directory");
  }
  SECTION("a directory") {
    fs::create_directory(dir / "captures");
    check(dir / "captures", "Is a directory");
  }
  SECTION("permission denied") {
    if (::geteuid() == 0) {
      WARN("running as root: permissions are not enforced, permission-denied case skipped");
      return;
    }
    h::write_file(dir / "secret.pcap", h::base_pcap());
    fs::permissions(dir / "secret.pcap", fs::perms::none);
    check(dir / "secret.pcap", "Permission denied");
  }
}

TEST_CASE("robust: --json /dev/full fails with exit 2, the database is still written",
          "[robust][cli]") {
  const h::Scratch dir("devfull");
  h::write_file(dir / "good.pcap", h::base_pcap());
  const h::RunResult r =
      h::run_lastack(dir.path(), {"analyze", "--quiet", "--json", "/dev/full", "--db",
                                  (dir / "r.db").string(), (dir / "good.pcap").string()});
  CHECK(r.exit_code == 2);
  CHECK(h::contains(r.err, "lastack: cannot write the JSON report '/dev/full': "));
  CHECK(h::contains(r.err, "No space left on device"));
  CHECK(sql_rows(dir / "r.db", "SELECT count(*) FROM findings WHERE kind = 'abortive_close'") ==
        std::vector<std::string>{"1"});
}

TEST_CASE("robust: a report that cannot be written leaves the previous one untouched",
          "[robust][cli]") {
  const h::Scratch dir("keep-old");
  h::write_file(dir / "good.pcap", h::base_pcap());
  fs::create_directory(dir / "out");
  const std::string previous = "{\"previous\": true}\n";
  h::write_file(dir / "out" / "r.json", Bytes(previous.begin(), previous.end()));

  SECTION("the write fails part-way (file size limit: EFBIG)") {
    // prlimit caps the size of any file lastack writes; SIGXFSZ ignored, so write() fails.
    std::signal(SIGXFSZ, SIG_IGN);
    // Run through prlimit so only the child is limited.
    std::vector<std::string> args{"analyze",
                                  "--quiet",
                                  "--connections",
                                  "all",
                                  "--json",
                                  (dir / "out" / "r.json").string(),
                                  (dir / "good.pcap").string()};
    const std::string cmd = "prlimit --fsize=512 -- " LASTACK_BINARY;
    std::string line = cmd;
    for (const auto& a : args) line += " '" + a + "'";
    line += " 2>'" + (dir / "err.txt").string() + "'";
    const int status = std::system(line.c_str());
    std::signal(SIGXFSZ, SIG_DFL);
    REQUIRE(WIFEXITED(status));
    CHECK(WEXITSTATUS(status) == 2);
    const std::string err = h::read_text(dir / "err.txt");
    fs::remove(dir / "err.txt");
    CHECK(h::contains(err, "cannot write the JSON report '" + (dir / "out" / "r.json").string()));
    CHECK(h::contains(err, "File too large"));
  }
  SECTION("read-only directory") {
    if (::geteuid() == 0) {
      WARN("running as root: a read-only directory is still writable, case skipped");
      return;
    }
    fs::permissions(dir / "out", fs::perms::owner_read | fs::perms::owner_exec);
    const h::RunResult r = h::run_lastack(
        dir.path(), {"analyze", "--quiet", "--json", (dir / "out" / "r.json").string(),
                     (dir / "good.pcap").string()});
    CHECK(r.exit_code == 2);
    CHECK(h::contains(r.err, "Permission denied"));
    fs::permissions(dir / "out", fs::perms::owner_all);
  }
  CHECK(h::read_text(dir / "out" / "r.json") == previous);
  CHECK(listing(dir / "out") == std::vector<std::string>{"r.json"});  // no stray temporary
}

TEST_CASE(
    "robust: SIGINT part-way keeps completed inputs in the database, writes no JSON, "
    "exits 130",
    "[robust][cli]") {
  const h::Scratch dir("sigint");
  h::write_file(dir / "first.pcap", h::base_pcap());
  const std::string previous = "{\"previous\": true}\n";
  h::write_file(dir / "r.json", Bytes(previous.begin(), previous.end()));

  // Standard input: a long conversation that starts after first.pcap ends, fed slowly.
  lastack::IpAddress a, b;
  REQUIRE(lastack::parse_ip("10.0.1.1", a));
  REQUIRE(lastack::parse_ip("10.0.1.2", b));
  lastack::synth::Conversation c({a, 50000, 1}, {b, 443, 2},
                                 lastack::Timestamp{1'700'000'100'000'000'000});
  c.syn(lastack::synth::Side::client);
  c.syn_ack();
  c.ack(lastack::synth::Side::client);
  for (int i = 0; i < 3000; ++i) c.data(lastack::synth::Side::client, 100);
  const Bytes stream = lastack::synth::write_pcap(c.packets());
  const std::size_t head = h::pcap_record_offsets(stream)[10];  // header + 10 records

  h::Child child = h::spawn_lastack_piped(
      dir.path(), {"analyze", "--quiet", "--json", (dir / "r.json").string(), "--db",
                   (dir / "r.db").string(), (dir / "first.pcap").string(), "-"});
  std::signal(SIGPIPE, SIG_IGN);
  REQUIRE(::write(child.stdin_fd, stream.data(), head) == static_cast<ssize_t>(head));
  // Wait until lastack has read what was written (it is then running, the handler installed,
  // first.pcap merged before standard input's later records), then interrupt it.
  for (int i = 0; i < 500; ++i) {
    int pending = 0;
    REQUIRE(::ioctl(child.stdin_fd, FIONREAD, &pending) == 0);
    if (pending == 0) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  REQUIRE(::kill(child.pid, SIGINT) == 0);
  // It stops at the next packet; keep feeding until the pipe breaks.
  std::size_t pos = head;
  while (pos < stream.size()) {
    const std::size_t n = std::min<std::size_t>(512, stream.size() - pos);
    const ssize_t w = ::write(child.stdin_fd, stream.data() + pos, n);
    if (w <= 0) break;
    pos += static_cast<std::size_t>(w);
  }
  const h::RunResult r = h::wait_lastack(dir.path(), child);
  std::signal(SIGPIPE, SIG_DFL);
  INFO(r.err);
  CHECK(r.exit_code == 130);
  CHECK(h::contains(r.err, "lastack: interrupted by SIGINT"));
  CHECK(h::contains(r.err, "lastack: -: interrupted: not read from record "));
  CHECK(h::contains(r.err, "the JSON report '" + (dir / "r.json").string() + "' was not written"));
  // No half-written JSON: the previous report is as it was, no temporary left.
  CHECK(h::read_text(dir / "r.json") == previous);
  CHECK(listing(dir.path()) == std::vector<std::string>{"first.pcap", "r.db", "r.json"});
  // The database has the run: the completed input in full with its finding, the interrupted one
  // marked with the offset it stopped at.
  const fs::path db = dir / "r.db";
  CHECK(sql_rows(db, "SELECT count(*) FROM runs") == std::vector<std::string>{"1"});
  CHECK(sql_rows(db, "SELECT status || ' ' || packets FROM inputs ORDER BY input_no") ==
        std::vector<std::string>{"ok 14", sql_rows(db,
                                                   "SELECT 'error ' || packets FROM inputs "
                                                   "WHERE input_no = 1")[0]});
  const auto err = sql_rows(db, "SELECT error FROM inputs WHERE input_no = 1");
  REQUIRE(err.size() == 1);
  CHECK(err[0].rfind("interrupted: not read from record ", 0) == 0);
  const auto stopped = sql_rows(db, "SELECT packets FROM inputs WHERE input_no = 1");
  CHECK(std::stoul(stopped[0]) < c.packets().size());
  CHECK(sql_rows(db, "SELECT count(*) FROM findings WHERE kind = 'abortive_close'") ==
        std::vector<std::string>{"1"});
}

TEST_CASE("robust: file names with spaces, newlines and non-UTF-8 bytes keep reports valid",
          "[robust][cli]") {
  const h::Scratch dir("names");
  const std::vector<std::string> names = {"with space.pcap", "new\nline.pcap",
                                          std::string("latin1-\xe9t\xe9.pcap"),
                                          std::string("bad-\xff\xfe.pcap")};
  for (const std::string& name : names) {
    INFO(name);
    h::write_file(dir / name, h::base_pcap());
    const fs::path json_path = dir / (name + ".json");
    const h::RunResult r =
        h::run_lastack(dir.path(), {"analyze", "--json", json_path.string(), "--db",
                                    (dir / "names.db").string(), (dir / name).string()});
    INFO(r.err);
    CHECK(r.exit_code == 1);
    REQUIRE(fs::exists(json_path));
    json report;
    REQUIRE_NOTHROW(report = json::parse(h::read_text(json_path)));
    CHECK(report["inputs"][0]["status"] == "ok");
    CHECK(h::count_kind(report, "abortive_close") == 1);
    CHECK(h::contains(r.out, "abortive_close"));
  }
  CHECK(sql_rows(dir / "names.db", "SELECT count(*) FROM runs") == std::vector<std::string>{"4"});
  CHECK(sql_rows(dir / "names.db", "SELECT count(*) FROM findings") ==
        std::vector<std::string>{"4"});
}
