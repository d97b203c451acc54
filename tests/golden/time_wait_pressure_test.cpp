// TIME_WAIT pressure end to end: a synthetic capture whose peak and rate are computed here from
// the schedule alone (brute force, independent of lastack's sweep), the real-kernel recordings
// of samples/real (port_exhaustion, port_exhaustion_tw_reuse, server_close_many; see its
// README), the quiet samples, and the JSON / SQLite / text outputs of the section.
#include <catch2/catch.hpp>

#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "lastack/pipeline/analyze.h"
#include "lastack/sink/sinks.h"
#include "lastack/synth/pressure_schedule.h"
#include "support/golden.h"
#include "support/json_schema.h"
#include "support/sql.h"

using lastack::test::sql_rows;

namespace {

namespace f = lastack::findings;
using lastack::Duration;
using lastack::Timestamp;

std::string scratch_dir() {
  const char* base = std::getenv("LASTACK_TEST_TMP");
  std::string root = base != nullptr ? base : "/tmp";
  ::mkdir(root.c_str(), 0755);
  std::string tmpl = root + "/tw-pressure-XXXXXX";
  return ::mkdtemp(tmpl.data()) != nullptr ? tmpl : "/tmp";
}

struct Scratch {
  std::string dir = scratch_dir();
  std::vector<std::string> files;
  std::string file(const std::string& name) {
    files.push_back(dir + "/" + name);
    return files.back();
  }
  ~Scratch() {
    for (const std::string& p : files) {
      for (const char* suffix : {"", "-journal", "-wal", "-shm"}) ::unlink((p + suffix).c_str());
    }
    ::rmdir(dir.c_str());
  }
};

// Keeps every connection in the report (--connections all): the tests look at all of them.
f::Report analyze(const std::string& path, const f::Settings& settings) {
  lastack::pipeline::Options o;
  o.inputs = {path};
  o.settings = settings;
  o.settings.all_connections = true;
  auto r = lastack::pipeline::analyze(o);
  REQUIRE(r.ok());
  return std::move(r.value());
}

f::Settings settings_with(std::uint16_t lo, std::uint16_t hi) {
  f::Settings s;
  s.port_range_lo = lo;
  s.port_range_hi = hi;
  return s;
}

std::vector<const f::Finding*> of_kind(const f::Report& r, const std::string& kind) {
  std::vector<const f::Finding*> out;
  for (const f::Finding& fd : r.findings) {
    if (fd.kind == kind) out.push_back(&fd);
  }
  return out;
}

std::vector<std::string> pressure_causes(const f::Report& r) {
  std::vector<std::string> out;
  for (const f::Finding* fd : of_kind(r, "time_wait_pressure")) {
    out.push_back(fd->cause + "/" + std::string(f::to_string(fd->severity)));
  }
  std::sort(out.begin(), out.end());
  return out;
}

const f::TimeWaitHolder* holder(const f::Report& r, f::Side role) {
  for (const auto& h : r.time_wait->holders) {
    if (h.role == role) return &h;
  }
  return nullptr;
}

// ---- the independent computation for a schedule (nothing from lastack but the schedule)
struct Expected {
  std::uint64_t peak_ports = 0;
  std::size_t peak_conn = 0;  // index of the connection whose SYN reached it
  std::uint64_t peak_rate = 0;
  std::size_t rate_conn = 0;
  std::uint64_t peak_tw = 0;  // client TIME_WAIT entries at once
};

// Connection k uses its port from its SYN (start_k) to its TIME_WAIT end: the final ACK at
// start_k + 8 steps plus TIME_WAIT, or the next SYN from the same port if that is sooner. Ports
// in use only rise at a SYN, TIME_WAIT entries only at a final ACK, so checking those instants
// by brute force finds the maxima.
Expected brute_force(const lastack::synth::PressureSchedule& s, Duration tw) {
  const std::size_t n = s.connections.size();
  std::vector<std::int64_t> start(n), tw_start(n), end(n);
  for (std::size_t k = 0; k < n; ++k) start[k] = s.connections[k].start.ns;
  for (std::size_t k = 0; k < n; ++k) {
    tw_start[k] = start[k] + 8 * s.step.ns;
    end[k] = tw_start[k] + tw.ns;
    for (std::size_t j = k + 1; j < n; ++j) {
      if (s.connections[j].client_port == s.connections[k].client_port) {
        end[k] = std::min(end[k], start[j]);
        break;
      }
    }
  }
  Expected e;
  for (std::size_t j = 0; j < n; ++j) {
    std::uint64_t ports = 0;
    std::uint64_t rate = 0;
    std::uint64_t tws = 0;
    for (std::size_t k = 0; k < n; ++k) {
      if (start[k] <= start[j] && start[j] < end[k]) ++ports;
      if (start[j] - 1'000'000'000 < start[k] && start[k] <= start[j]) ++rate;
      if (tw_start[k] <= tw_start[j] && tw_start[j] < end[k]) ++tws;
    }
    if (ports > e.peak_ports) e.peak_ports = ports, e.peak_conn = j;
    if (rate > e.peak_rate) e.peak_rate = rate, e.rate_conn = j;
    e.peak_tw = std::max(e.peak_tw, tws);
  }
  return e;
}

std::string text_summary(const f::Report& r) {
  char* buf = nullptr;
  std::size_t len = 0;
  std::FILE* out = ::open_memstream(&buf, &len);
  lastack::sink::write_text_summary(r, out);
  std::fclose(out);
  std::string text(buf, len);
  std::free(buf);
  return text;
}

lastack::IpAddress ip(const char* text) {
  lastack::IpAddress a;
  REQUIRE(lastack::parse_ip(text, a));
  return a;
}

std::string real(const std::string& name) {
  return lastack::test::source_path("samples/real/" + name + ".pcap");
}

}  // namespace

TEST_CASE("tw: synthetic schedule, peak and rate equal the independent computation", "[tw]") {
  struct Case {
    const char* name;
    std::int64_t tw_ms;
    std::int64_t msl_ms;
    const char* causes;
  };
  // 300 connections 10 ms apart (100/s), client closes first, ports 40000.. wrapping after 200
  // (connection k+200 reuses connection k's four-tuple 2 s later), range 40000-40199.
  //  - TIME_WAIT 1 s: ports in use 1.008 s per connection: 101 at once (50.5 %), 100 TIME_WAIT
  //    entries at once; 100/s is below 200 ports / 1 s.
  //  - TIME_WAIT 3 s: the reuse 2 s later ends each TIME_WAIT: 200 at once = the whole range;
  //    100/s is above 200 / 3 s = 66.7/s.
  const Case cases[] = {
      {"tw1s", 1000, 500, "port_exhaustion_risk/warning"},
      {"tw3s", 3000, 1500, "port_exhaustion_risk/error rate_above_sustainable/warning"},
  };
  for (const Case& c : cases) {
    DYNAMIC_SECTION(c.name) {
      const auto schedule = lastack::synth::periodic_pressure_schedule(
          ip("192.0.2.10"), ip("198.51.100.7"), 443, 300, Duration::from_ms(10), 40000, 200,
          lastack::synth::Side::client);
      Scratch tmp;
      const std::string path = tmp.file("schedule.pcap");
      REQUIRE(lastack::synth::write_file(
          path, lastack::synth::write_pcap(lastack::synth::build_pressure_capture(schedule))));
      f::Settings s = settings_with(40000, 40199);
      s.time_wait = Duration{c.tw_ms * 1'000'000};
      s.msl = Duration{c.msl_ms * 1'000'000};
      const f::Report r = analyze(path, s);
      REQUIRE(r.connections.size() == 300);
      const Expected e = brute_force(schedule, s.time_wait);
      REQUIRE(r.time_wait.has_value());
      REQUIRE(r.time_wait->pairs.size() == 1);
      const f::TimeWaitPair& p = r.time_wait->pairs[0];
      CHECK(p.peak.value == e.peak_ports);
      CHECK(*p.peak.ts == schedule.start + schedule.connections[e.peak_conn].start);
      CHECK(p.peak.frame.frame_no ==
            e.peak_conn * lastack::synth::kPressureFramesPerConnection + 1);
      CHECK(p.peak_rate.value == e.peak_rate);
      CHECK(*p.peak_rate.ts == schedule.start + schedule.connections[e.rate_conn].start);
      const f::TimeWaitHolder* h = holder(r, f::Side::client);
      REQUIRE(h != nullptr);
      CHECK(h->peak.value == e.peak_tw);
      CHECK(h->entries == 300);
      // The closed forms of the comment above.
      CHECK(e.peak_rate == 100);
      CHECK(e.peak_ports == (c.tw_ms == 1000 ? 101u : 200u));
      std::string got;
      for (const std::string& x : pressure_causes(r)) got += (got.empty() ? "" : " ") + x;
      CHECK(got == c.causes);
      const std::string json = lastack::sink::to_json(r);
      const auto errors = lastack::test::validate_report(json);
      CHECK(errors.empty());
      for (const auto& err : errors) UNSCOPED_INFO(err);
      // The database holds the same series, written as the JSON writes them.
      REQUIRE(p.series.size() > 1);
      const std::string db = tmp.file("schedule.db");
      REQUIRE(lastack::sink::append_sqlite(r, db).ok());
      CHECK(sql_rows(db, "SELECT series_json FROM time_wait_pairs") ==
            std::vector<std::string>{nlohmann::json(p.series).dump()});
      CHECK(sql_rows(db, "SELECT series_json FROM time_wait_holders WHERE role = 'client'") ==
            std::vector<std::string>{nlohmann::json(h->series).dump()});
    }
  }
}

TEST_CASE("tw: port_exhaustion sample: the client used up its 64-port range", "[tw][real]") {
  for (const char* vantage : {"client", "server"}) {
    DYNAMIC_SECTION(vantage) {
      const f::Report r =
          analyze(real(std::string("port_exhaustion.") + vantage), settings_with(40000, 40063));
      REQUIRE(r.connections.size() == 64);
      const f::ConnectionSummary& last = r.connections.back();  // the 64th SYN reached the peak
      REQUIRE(r.time_wait->pairs.size() == 1);
      const f::TimeWaitPair& p = r.time_wait->pairs[0];
      CHECK(lastack::to_string(p.client_ip) == "10.77.1.2");
      CHECK(lastack::format_endpoint(p.server_ip, p.server_port) == "10.77.2.2:8080");
      CHECK(p.peak.value == 64);
      CHECK(p.time_wait_at_peak == 63);
      CHECK(*p.peak.ts == last.first_ts);
      CHECK(p.peak.frame.frame_no == last.first_frame);
      CHECK(p.lower_bound);
      const f::TimeWaitHolder* h = holder(r, f::Side::client);
      REQUIRE(h != nullptr);
      CHECK(lastack::to_string(h->ip) == "10.77.1.2");
      CHECK(h->peak.value == 64);
      CHECK(h->entries == 64);
      CHECK(holder(r, f::Side::server) == nullptr);
      CHECK(pressure_causes(r) == std::vector<std::string>{"port_exhaustion_risk/error",
                                                           "rate_above_sustainable/warning"});
      const f::Finding* fd = of_kind(r, "time_wait_pressure").front();
      CHECK(fd->cause == "port_exhaustion_risk");
      CHECK(fd->connection_id == 0);
      CHECK(fd->ts == last.first_ts);
      CHECK(fd->frames == std::vector<lastack::FrameRef>{{0, last.first_frame}});
      CHECK(r.findings.size() == 2);  // nothing else
      // The report is valid with "connection": null and says what it is about.
      const std::string json = lastack::sink::to_json(r);
      CHECK(lastack::test::validate_report(json).empty());
      const auto j = nlohmann::json::parse(json);
      CHECK(j["findings"][0]["connection"].is_null());
      CHECK(j["findings"][0]["subject"] == "10.77.1.2 -> 10.77.2.2:8080");
      CHECK(j["time_wait"]["pairs"][0]["peak_ports_in_use"] == 64);
      CHECK(j["time_wait"]["pairs"][0]["range_share"] == 1.0);
      CHECK(j["time_wait"]["port_range"]["size"] == 64);
      // With Linux's default range it is no risk, and nothing is reported.
      const f::Report defaults = analyze(real(std::string("port_exhaustion.") + vantage), {});
      CHECK(defaults.findings.empty());
      CHECK(defaults.time_wait->pairs[0].peak.value == 64);
    }
  }
}

TEST_CASE("tw: port_exhaustion_tw_reuse sample: ports come back after ~1 s", "[tw][real]") {
  for (const char* vantage : {"client", "server"}) {
    DYNAMIC_SECTION(vantage) {
      const std::string path = real(std::string("port_exhaustion_tw_reuse.") + vantage);
      const f::Report r = analyze(path, settings_with(40000, 40063));
      REQUIRE(r.connections.size() == 80);
      CHECK(r.time_wait->pairs[0].peak.value == 64);
      CHECK(holder(r, f::Side::client)->entries == 80);
      CHECK(holder(r, f::Side::client)->peak.value == 64);  // each reuse ended a TIME_WAIT
      CHECK(pressure_causes(r) == std::vector<std::string>{"port_exhaustion_risk/error",
                                                           "rate_above_sustainable/warning"});
      const auto reuse = of_kind(r, "tuple_reuse");
      CHECK(reuse.size() == 16);
      for (const f::Finding* fd : reuse) CHECK(fd->cause == "rfc6191_safe");
      CHECK(r.findings.size() == 18);
      // Defaults: only the tuple_reuse findings.
      CHECK(analyze(path, {}).findings.size() == 16);
    }
  }
}

TEST_CASE("tw: server_close_many sample: the server holds the TIME_WAIT entries", "[tw][real]") {
  for (const char* vantage : {"client", "server"}) {
    DYNAMIC_SECTION(vantage) {
      const std::string path = real(std::string("server_close_many.") + vantage);
      f::Settings s;
      s.server_tw_peak = 100;
      const f::Report r = analyze(path, s);
      REQUIRE(r.connections.size() == 200);
      CHECK(pressure_causes(r) == std::vector<std::string>{"server_holds_time_wait/warning"});
      const f::TimeWaitHolder* h = holder(r, f::Side::server);
      REQUIRE(h != nullptr);
      CHECK(lastack::to_string(h->ip) == "10.77.2.2");
      CHECK(h->peak.value == 200);
      CHECK(h->active_closes == 200);
      CHECK(holder(r, f::Side::client) == nullptr);
      CHECK(r.time_wait->pairs[0].time_wait_entries == 0);
      const f::Finding* fd = of_kind(r, "time_wait_pressure").front();
      CHECK(fd->subject == "server 10.77.2.2");
      CHECK(text_summary(r).find("time_wait server 10.77.2.2: TIME_WAIT peak 200") !=
            std::string::npos);
      // The default threshold (1000) is not reached: nothing.
      CHECK(analyze(path, {}).findings.empty());
    }
  }
}

TEST_CASE("tw: no time_wait_pressure finding on the other samples", "[tw][real]") {
  for (const std::string& sample : lastack::test::sample_files()) {
    if (sample.find("port_exhaustion") != std::string::npos) continue;
    DYNAMIC_SECTION(sample) {
      const f::Report r = analyze(lastack::test::source_path(sample), {});
      CHECK(of_kind(r, "time_wait_pressure").empty());
      REQUIRE(r.time_wait.has_value());
    }
  }
}

TEST_CASE("tw: text summary and SQLite tables, with the README's archive query", "[tw]") {
  const f::Report r = analyze(real("port_exhaustion.client"), settings_with(40000, 40063));
  const std::string text = text_summary(r);
  CHECK(text.find("time_wait 10.77.1.2 -> 10.77.2.2:8080: ports in use peak 64/64 (100%, 63 in "
                  "TIME_WAIT)") != std::string::npos);
  CHECK(text.find("10.77.1.2 -> 10.77.2.2:8080 time_wait_pressure/port_exhaustion_risk error") !=
        std::string::npos);
  Scratch tmp;
  const std::string db = tmp.file("archive.db");
  REQUIRE(lastack::sink::append_sqlite(r, db).ok());
  f::Settings s;
  s.server_tw_peak = 100;
  const f::Report r2 = analyze(real("server_close_many.server"), s);
  REQUIRE(lastack::sink::append_sqlite(r2, db).ok());
  CHECK(sql_rows(db, "SELECT count(*) FROM time_wait_pairs") == std::vector<std::string>{"2"});
  // The series columns hold the report's series as its JSON writes them.
  for (const auto& [run, report] : {std::pair{1, &r}, std::pair{2, &r2}}) {
    REQUIRE(report->time_wait.has_value());
    const std::string where = " WHERE run_id = " + std::to_string(run);
    for (const f::TimeWaitPair& p : report->time_wait->pairs) {
      CHECK(sql_rows(db, "SELECT series_json FROM time_wait_pairs" + where + " AND client_ip = '" +
                             lastack::to_string(p.client_ip) + "'") ==
            std::vector<std::string>{nlohmann::json(p.series).dump()});
    }
    for (const f::TimeWaitHolder& h : report->time_wait->holders) {
      CHECK(sql_rows(db, "SELECT series_json FROM time_wait_holders" + where + " AND ip = '" +
                             lastack::to_string(h.ip) + "' AND role = '" +
                             std::string(f::to_string(h.role)) + "'") ==
            std::vector<std::string>{nlohmann::json(h.series).dump()});
    }
  }
  CHECK(sql_rows(db,
                 "SELECT ip, role, peak, under_pressure FROM time_wait_holders ORDER BY "
                 "run_id") ==
        std::vector<std::string>{"10.77.1.2|client|64|0", "10.77.2.2|server|200|1"});
  CHECK(sql_rows(db,
                 "SELECT count(*) FROM findings WHERE kind = 'time_wait_pressure' AND "
                 "connection_id IS NULL") == std::vector<std::string>{"3"});
  // README: the worst client -> server pairs of a whole archive.
  const std::string worst =
      "SELECT p.client_ip, p.server_ip || ':' || p.server_port AS server,\n"
      "       max(p.range_share) AS share, max(p.peak_ports_in_use) AS peak,\n"
      "       max(p.peak_rate_per_s) AS rate, count(*) AS runs\n"
      "FROM time_wait_pairs p\n"
      "GROUP BY p.client_ip, p.server_ip, p.server_port\n"
      "ORDER BY share DESC, peak DESC LIMIT 10";
  const auto rows = sql_rows(db, worst);
  REQUIRE(rows.size() == 1);  // one pair, in two runs
  CHECK(rows[0] == "10.77.1.2|10.77.2.2:8080|1.0|64|200|2");
}
