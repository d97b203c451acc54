#include <catch2/catch.hpp>

#include <dirent.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "lastack/sink/sinks.h"
#include "support/json_schema.h"
#include "support/report_fixture.h"

namespace f = lastack::findings;
using nlohmann::ordered_json;

namespace {

ordered_json fixture_json() {
  return ordered_json::parse(lastack::sink::to_json(lastack::test::make_fixture_report()));
}

std::vector<std::string> keys_of(const ordered_json& object) {
  std::vector<std::string> keys;
  for (const auto& item : object.items()) keys.push_back(item.key());
  return keys;
}

// A fresh directory under $LASTACK_TEST_TMP (set by ctest) or /tmp, removed with its files.
struct TempDir {
  std::string path;
  TempDir() {
    const char* base = std::getenv("LASTACK_TEST_TMP");
    std::string root = base != nullptr ? base : "/tmp";
    ::mkdir(root.c_str(), 0755);
    std::string tmpl = root + "/sink-json-XXXXXX";
    path = ::mkdtemp(tmpl.data()) != nullptr ? tmpl : "";
  }
  ~TempDir() {
    for (const auto& name : entries()) ::unlink((path + "/" + name).c_str());
    ::rmdir(path.c_str());
  }
  [[nodiscard]] std::vector<std::string> entries() const {
    std::vector<std::string> names;
    if (DIR* d = ::opendir(path.c_str())) {
      while (const dirent* e = ::readdir(d)) {
        const std::string name = e->d_name;
        if (name != "." && name != "..") names.push_back(name);
      }
      ::closedir(d);
    }
    return names;
  }
};

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

void write_file(const std::string& path, const std::string& text) {
  std::ofstream(path, std::ios::binary) << text;
}

}  // namespace

TEST_CASE("JSON report: top-level layout, tool and settings", "[sink][json]") {
  const ordered_json j = fixture_json();
  CHECK(keys_of(j) == std::vector<std::string>{"schema_version", "tool", "settings", "inputs",
                                               "summary", "findings", "connections"});
  CHECK(j["schema_version"] == 1);
  CHECK(j["tool"] == ordered_json({{"name", "lastack"}, {"version", "0.1.0-test"}}));
  const ordered_json& s = j["settings"];
  CHECK(keys_of(s) ==
        std::vector<std::string>{"msl_s", "time_wait_s", "filter", "fail_on", "connections"});
  CHECK(s["msl_s"].is_number_integer());
  CHECK(s["msl_s"] == 30);
  CHECK(s["time_wait_s"] == 60);
  CHECK(s["filter"] == "tcp port 80 or tcp port 443");
  CHECK(s["fail_on"] == "error");
  CHECK(s["connections"] == "with_findings");
}

TEST_CASE("JSON report: settings print never, null filter and fractional MSL", "[sink][json]") {
  f::Report r = lastack::test::make_quiet_report();  // fail_on = nullopt
  r.settings.msl = lastack::Duration::from_ms(1500);
  r.settings.time_wait = lastack::Duration::from_ms(3000);
  r.settings.all_connections = true;
  const ordered_json s = ordered_json::parse(lastack::sink::to_json(r))["settings"];
  CHECK(s["filter"].is_null());
  CHECK(s["fail_on"] == "never");
  CHECK(s["msl_s"] == 1.5);
  CHECK(s["time_wait_s"].is_number_integer());
  CHECK(s["connections"] == "all");
}

TEST_CASE("JSON report: inputs with nulls for what is absent", "[sink][json]") {
  const ordered_json j = fixture_json();
  REQUIRE(j["inputs"].size() == 2);
  const ordered_json& ok = j["inputs"][0];
  CHECK(keys_of(ok) == std::vector<std::string>{"path", "format", "compression", "link_types",
                                                "packets", "size_bytes", "first_ts", "last_ts",
                                                "status", "error", "error_offset",
                                                "interface_drops"});
  CHECK(ok["path"] == "captures/rot-0.pcap");  // as given, not made absolute
  CHECK(ok["compression"].is_null());
  CHECK(ok["error"].is_null());
  CHECK(ok["error_offset"].is_null());
  CHECK(ok["first_ts"] == "2026-11-21T09:00:00.000000000Z");
  const ordered_json& cut = j["inputs"][1];
  CHECK(cut["compression"] == "gzip");
  CHECK(cut["status"] == "truncated");
  CHECK(cut["error_offset"] == 4096);
  CHECK(cut["link_types"] == ordered_json({"EN10MB", "LINUX_SLL2"}));
  CHECK(cut["interface_drops"] == 3);

  f::Report r = lastack::test::make_quiet_report();
  r.inputs[0].packets = 0;
  r.inputs[0].first_ts.reset();
  r.inputs[0].last_ts.reset();
  const ordered_json empty = ordered_json::parse(lastack::sink::to_json(r))["inputs"][0];
  CHECK(empty["first_ts"].is_null());
  CHECK(empty["last_ts"].is_null());
}

TEST_CASE("JSON report: summary counters and finding counts", "[sink][json]") {
  const ordered_json s = fixture_json()["summary"];
  CHECK(keys_of(s) == std::vector<std::string>{"packets", "tcp_packets", "connections", "not_ip",
                                               "not_tcp", "fragments", "unsupported_link",
                                               "duplicates", "late_segments", "filtered_out",
                                               "malformed", "findings"});
  CHECK(s["packets"] == 200);
  CHECK(s["late_segments"] == 2);
  CHECK(s["connections"] == 4);
  CHECK(s["malformed"]["tcp_header_too_short"] == 1);
  CHECK(s["findings"]["by_kind"]["tuple_reuse"] == 1);
  // Severities in rank order, only those present.
  CHECK(keys_of(s["findings"]["by_severity"]) ==
        std::vector<std::string>{"info", "warning", "error"});
  CHECK(s["findings"]["by_severity"]["error"] == 2);
}

TEST_CASE("JSON report: findings carry connection, frames, evidence and related ids",
          "[sink][json]") {
  const ordered_json j = fixture_json();
  REQUIRE(j["findings"].size() == 4);
  const ordered_json& lfa = j["findings"][1];
  CHECK(keys_of(lfa) == std::vector<std::string>{"id", "kind", "cause", "severity", "confidence",
                                                 "connection", "ts", "input", "frames", "message",
                                                 "evidence", "related"});
  CHECK(lfa["id"] == 2);
  CHECK(lfa["kind"] == "lost_final_ack");
  CHECK(lfa["severity"] == "warning");
  CHECK(lfa["connection"] == ordered_json({{"id", 1},
                                           {"client", "10.0.0.1:40000"},
                                           {"server", "10.0.0.2:80"},
                                           {"incarnation", 1}}));
  CHECK(lfa["ts"] == "2026-11-21T09:00:01.210000000Z");
  CHECK(lfa["frames"] == ordered_json({31, 33, 34}));
  CHECK(lfa["related"] == ordered_json({1}));
  // Evidence keeps the detector's order and types.
  const ordered_json& ev = lfa["evidence"];
  CHECK(keys_of(ev) == std::vector<std::string>{"fin_transmissions", "intervals_s", "vantage",
                                                "final_ack_captured"});
  CHECK(ev["fin_transmissions"].is_number_integer());
  CHECK(ev["intervals_s"].is_array());
  CHECK(ev["vantage"].is_string());
  CHECK(ev["final_ack_captured"].is_boolean());
  const ordered_json& reuse = j["findings"][2];
  CHECK(reuse["evidence"]["tsvals"] == ordered_json({1000, 1059}));
  CHECK(reuse["evidence"]["isn_delta"] == -123456);
}

TEST_CASE("JSON report: doubles are rounded so float noise never shows", "[sink][json]") {
  const std::string text = lastack::sink::to_json(lastack::test::make_fixture_report());
  // The fixture's interval is 1.21 - 1.0 = 0.20999999999999996 in binary.
  CHECK(text.find("0.20999") == std::string::npos);
  CHECK(fixture_json()["findings"][1]["evidence"]["intervals_s"][0].dump() == "0.21");

  f::Report r = lastack::test::make_fixture_report();
  r.findings[0].evidence = {
      {"tiny", 1e-7}, {"neg_zero", -0.0}, {"rtt", 0.0123456789}, {"big", 12345678901.5}};
  const ordered_json ev = ordered_json::parse(lastack::sink::to_json(r))["findings"][0]["evidence"];
  CHECK(ev["tiny"].dump() == "0.0");
  CHECK(ev["neg_zero"].dump() == "0.0");
  CHECK(ev["rtt"].dump() == "0.012346");
  CHECK(ev["big"].dump() == "12345678901.5");
}

TEST_CASE("JSON report: frame_refs only when frames span inputs", "[sink][json]") {
  const ordered_json j = fixture_json();
  CHECK_FALSE(j["findings"][1].contains("frame_refs"));
  const ordered_json& reuse = j["findings"][2];
  CHECK(reuse["input"] == 0);  // the first frame's input
  CHECK(reuse["frames"] == ordered_json({118, 2}));
  REQUIRE(reuse.contains("frame_refs"));
  CHECK(reuse["frame_refs"] ==
        ordered_json::parse(R"([{"input":0,"frame":118},{"input":1,"frame":2}])"));
  // Next to "frames", not at the end.
  const auto keys = keys_of(reuse);
  CHECK(keys[9] == "frame_refs");
  CHECK(j["findings"][3]["input"] == 1);
  CHECK_FALSE(j["findings"][3].contains("frame_refs"));
}

TEST_CASE("JSON report: listed connections with IPv6 endpoints in brackets", "[sink][json]") {
  const ordered_json j = fixture_json();
  REQUIRE(j["connections"].size() == 3);  // connection 4 has no findings
  const ordered_json& c1 = j["connections"][0];
  CHECK(
      keys_of(c1) ==
      std::vector<std::string>{
          "id",           "client",        "server",           "incarnation",     "input",
          "first_frame",  "first_ts",      "last_ts",          "handshake_seen",  "mid_stream",
          "close_kind",   "active_closer", "time_wait_holder", "time_wait_start", "final_ack_seen",
          "client_state", "server_state",  "packets_c2s",      "packets_s2c",     "bytes_c2s",
          "bytes_s2c",    "syns_c2s",      "fins_c2s",         "rsts_c2s",        "syns_s2c",
          "fins_s2c",     "rsts_s2c",      "history",          "vantage",         "interface_id",
          "finding_ids"});
  CHECK(c1["close_kind"] == "fin");
  CHECK(c1["active_closer"] == "client");
  CHECK(c1["time_wait_start"] == "2026-11-21T09:00:01.000000000Z");
  CHECK(c1["fins_s2c"] == 2);
  CHECK(c1["finding_ids"] == ordered_json({1, 2}));
  CHECK(j["connections"][1]["time_wait_start"].is_null());
  CHECK(j["connections"][1]["incarnation"] == 2);
  const ordered_json& v6 = j["connections"][2];
  CHECK(v6["client"] == "[2001:db8::1]:51000");
  CHECK(v6["server"] == "[2001:db8::2]:443");
  CHECK(v6["vantage"] == "near_server");
  CHECK(j["findings"][3]["connection"]["client"] == "[2001:db8::1]:51000");

  f::Report all = lastack::test::make_fixture_report();
  all.settings.all_connections = true;
  const ordered_json ja = ordered_json::parse(lastack::sink::to_json(all));
  REQUIRE(ja["connections"].size() == 4);
  CHECK(ja["connections"][3]["finding_ids"] == ordered_json::array());
  CHECK(ja["connections"][3]["mid_stream"] == true);
}

// Connection summaries are written as text directly (not through nlohmann): the report must
// still be exactly what nlohmann's dump(2) makes of it, strings that need escaping included.
TEST_CASE("JSON report: connections are laid out and escaped as nlohmann lays them out",
          "[sink][json]") {
  f::Report r = lastack::test::make_fixture_report();
  r.settings.all_connections = true;
  REQUIRE(r.connections.size() == 4);
  r.connections[1].vlan = 42;
  r.connections[2].history = "Sh\"A\\d\x01\tF\xc3\xa9";  // quote, backslash, controls, UTF-8
  r.connections[3].client_final_state = "\x7f";
  const std::string text = lastack::sink::to_json(r);
  const ordered_json j = ordered_json::parse(text);
  CHECK(text == j.dump(2) + "\n");
  REQUIRE(j["connections"].size() == 4);
  CHECK(j["connections"][1]["vlan"] == 42);
  CHECK_FALSE(j["connections"][0].contains("vlan"));
  CHECK(j["connections"][2]["history"] == r.connections[2].history);
  CHECK(j["connections"][3]["client_state"] == "\x7f");
  CHECK(j["connections"][0]["bytes_c2s"] == r.connections[0].client.bytes);
  CHECK(j["connections"][0]["first_frame"] == r.connections[0].first_frame);
}

TEST_CASE("JSON report: no findings gives empty arrays", "[sink][json]") {
  const ordered_json j =
      ordered_json::parse(lastack::sink::to_json(lastack::test::make_quiet_report()));
  CHECK(j["findings"] == ordered_json::array());
  CHECK(j["connections"] == ordered_json::array());
  CHECK(j["summary"]["findings"]["by_kind"] == ordered_json::object());
  CHECK(j["summary"]["findings"]["by_severity"] == ordered_json::object());
}

TEST_CASE("JSON report is byte-identical for identical reports, 2-space, newline-ended",
          "[sink][json]") {
  const std::string a = lastack::sink::to_json(lastack::test::make_fixture_report());
  const std::string b = lastack::sink::to_json(lastack::test::make_fixture_report());
  CHECK(a == b);
  REQUIRE_FALSE(a.empty());
  CHECK(a.back() == '\n');
  CHECK(a.substr(0, 24) == "{\n  \"schema_version\": 1,");
}

TEST_CASE("JSON report survives invalid UTF-8 in strings", "[sink][json]") {
  f::Report r = lastack::test::make_fixture_report();
  r.inputs[0].path = "bad\xff\xfe.pcap";
  const std::string text = lastack::sink::to_json(r);
  const ordered_json j = ordered_json::parse(text);
  CHECK(j["inputs"][0]["path"] == "bad\xEF\xBF\xBD\xEF\xBF\xBD.pcap");
}

TEST_CASE("JSON reports validate against reports/report.schema.json", "[sink][json][schema]") {
  CHECK(lastack::test::validate_report(lastack::sink::to_json(
            lastack::test::make_fixture_report())) == std::vector<std::string>{});
  CHECK(lastack::test::validate_report(lastack::sink::to_json(
            lastack::test::make_quiet_report())) == std::vector<std::string>{});
  f::Report all = lastack::test::make_fixture_report();
  all.settings.all_connections = true;
  all.settings.fail_on.reset();
  CHECK(lastack::test::validate_report(lastack::sink::to_json(all)) == std::vector<std::string>{});
}

TEST_CASE("A finding whose connection is missing fails schema validation", "[sink][json]") {
  f::Report r = lastack::test::make_fixture_report();
  r.findings[0].connection_id = 99;  // a pipeline bug: the schema must catch it
  const auto errors = lastack::test::validate_report(lastack::sink::to_json(r));
  CHECK_FALSE(errors.empty());
}

TEST_CASE("write_json renames a complete temp file into place", "[sink][json][io]") {
  TempDir dir;
  REQUIRE_FALSE(dir.path.empty());
  const std::string path = dir.path + "/report.json";
  const f::Report r = lastack::test::make_fixture_report();
  REQUIRE(lastack::sink::write_json(r, path).ok());
  CHECK(read_file(path) == lastack::sink::to_json(r));
  CHECK(dir.entries() == std::vector<std::string>{"report.json"});  // no stray temp file

  // Overwriting an existing report keeps its permissions.
  ::chmod(path.c_str(), 0640);
  REQUIRE(lastack::sink::write_json(lastack::test::make_quiet_report(), path).ok());
  CHECK(read_file(path) == lastack::sink::to_json(lastack::test::make_quiet_report()));
  struct stat st {};
  REQUIRE(::stat(path.c_str(), &st) == 0);
  CHECK((st.st_mode & 0777) == 0640);
  CHECK(dir.entries() == std::vector<std::string>{"report.json"});
}

TEST_CASE("write_json through a symlink replaces the link's target", "[sink][json][io]") {
  TempDir dir;
  const std::string target = dir.path + "/real.json";
  const std::string link = dir.path + "/latest.json";
  write_file(target, "old");
  REQUIRE(::symlink("real.json", link.c_str()) == 0);
  REQUIRE(lastack::sink::write_json(lastack::test::make_quiet_report(), link).ok());
  struct stat st {};
  REQUIRE(::lstat(link.c_str(), &st) == 0);
  CHECK(S_ISLNK(st.st_mode));
  CHECK(read_file(target) == lastack::sink::to_json(lastack::test::make_quiet_report()));
}

TEST_CASE("write_json to /dev/full fails with ENOSPC and leaves nothing", "[sink][json][io]") {
  struct stat st {};
  if (::stat("/dev/full", &st) != 0) return;  // not on this system
  const lastack::Status s =
      lastack::sink::write_json(lastack::test::make_fixture_report(), "/dev/full");
  REQUIRE_FALSE(s.ok());
  CHECK(s.error().code == lastack::ErrorCode::io);
  CHECK(s.error().message.find("/dev/full") != std::string::npos);
  CHECK(s.error().message.find("No space left on device") != std::string::npos);
  REQUIRE(::stat("/dev/full", &st) == 0);
  CHECK(S_ISCHR(st.st_mode));  // the device was written, not replaced
  CHECK(::access(("/dev/.full.tmp-" + std::to_string(::getpid())).c_str(), F_OK) != 0);
}

TEST_CASE("write_json into an unwritable place fails and keeps the old report",
          "[sink][json][io]") {
  TempDir dir;
  // A directory that does not exist (running as root, chmod cannot make one read-only).
  const std::string missing = dir.path + "/no/such/dir/report.json";
  lastack::Status s = lastack::sink::write_json(lastack::test::make_fixture_report(), missing);
  REQUIRE_FALSE(s.ok());
  CHECK(s.error().message.find(missing) != std::string::npos);
  CHECK(s.error().message.find("No such file or directory") != std::string::npos);
  CHECK(dir.entries().empty());

  // /proc refuses new files even for root.
  s = lastack::sink::write_json(lastack::test::make_fixture_report(), "/proc/lastack.json");
  CHECK_FALSE(s.ok());

  // The rename fails (target is a non-empty directory): the temp file is removed.
  const std::string blocked = dir.path + "/blocked";
  REQUIRE(::mkdir(blocked.c_str(), 0755) == 0);
  write_file(blocked + "/keep", "x");
  s = lastack::sink::write_json(lastack::test::make_fixture_report(), blocked);
  CHECK_FALSE(s.ok());
  CHECK(read_file(blocked + "/keep") == "x");
  const auto names = dir.entries();
  CHECK(names == std::vector<std::string>{"blocked"});
  ::unlink((blocked + "/keep").c_str());
  ::rmdir(blocked.c_str());
}

TEST_CASE("JSON report: a degraded object only when something was evicted", "[sink][json][flood]") {
  CHECK_FALSE(fixture_json().contains("degraded"));
  f::Report r = lastack::test::make_fixture_report();
  f::Degradation d;
  d.memcap_bytes = 96ULL << 20;
  d.evicted_half_open = 12;
  d.evicted_live = 1;
  d.targets = {{lastack::test::fixture_ip("10.30.0.1"), 80, 12}};
  r.degraded = d;
  const std::string text = lastack::sink::to_json(r);
  const ordered_json j = ordered_json::parse(text);
  REQUIRE(j.contains("degraded"));
  CHECK(j["degraded"]["memcap_bytes"] == 96ULL << 20);
  CHECK(j["degraded"]["evicted_half_open"] == 12);
  CHECK(j["degraded"]["evicted_live"] == 1);
  CHECK(j["degraded"]["targets"][0]["server"] == "10.30.0.1:80");
  CHECK(j["degraded"]["targets"][0]["half_open"] == 12);
  CHECK(lastack::test::validate_report(text) == std::vector<std::string>{});
}
