// time_wait_pressure from hand-built connection summaries: the interval rules (TIME_WAIT length,
// ended by reuse or RST, open connections until the capture end, ports outside the range), the
// peaks, the sliding rate, the series encoding and the thresholds of each cause.
#include <catch2/catch.hpp>

#include <algorithm>
#include <string>
#include <vector>

#include "lastack/detect/time_wait_pressure.h"

namespace {

namespace f = lastack::findings;
using lastack::Duration;
using lastack::IpAddress;
using lastack::Timestamp;

constexpr std::int64_t kBase = 1'800'000'000LL * 1'000'000'000LL;
constexpr std::int64_t kMs = 1'000'000;
constexpr std::int64_t kS = 1'000'000'000;

IpAddress ip4(std::uint8_t a, std::uint8_t b, std::uint8_t c, std::uint8_t d) {
  const std::uint8_t bytes[4] = {a, b, c, d};
  return IpAddress::v4(bytes);
}

const IpAddress kClient = ip4(10, 0, 0, 1);
const IpAddress kServer = ip4(10, 0, 0, 2);

Timestamp at_ms(std::int64_t ms) {
  return Timestamp{kBase + ms * kMs};
}

// A connection from kClient:port to kServer:80, first packet at `start_ms`, last at `end_ms`,
// closed cleanly by `closer` with TIME_WAIT starting at `end_ms`.
f::ConnectionSummary conn(std::uint64_t id, std::uint16_t port, std::int64_t start_ms,
                          std::int64_t end_ms, f::Side closer = f::Side::client) {
  f::ConnectionSummary c;
  c.id = id;
  c.client_ip = kClient;
  c.server_ip = kServer;
  c.client_port = port;
  c.server_port = 80;
  c.first_frame = id * 10;
  c.first_ts = at_ms(start_ms);
  c.last_ts = at_ms(end_ms);
  c.handshake_seen = true;
  c.close_kind = closer == f::Side::none ? f::CloseKind::open_at_end : f::CloseKind::fin;
  c.active_closer = closer;
  c.time_wait_holder = closer;
  if (closer != f::Side::none) c.time_wait_start = at_ms(end_ms);
  return c;
}

f::InputReport input(std::int64_t first_ms, std::int64_t last_ms) {
  f::InputReport in;
  in.path = "x.pcap";
  in.first_ts = at_ms(first_ms);
  in.last_ts = at_ms(last_ms);
  return in;
}

f::Settings settings(std::uint16_t lo, std::uint16_t hi, std::int64_t tw_s) {
  f::Settings s;
  s.port_range_lo = lo;
  s.port_range_hi = hi;
  s.time_wait = Duration::from_s(tw_s);
  return s;
}

struct Run {
  f::TimeWaitPressure tw;
  std::vector<f::Finding> findings;
};

Run run(const std::vector<f::ConnectionSummary>& conns, const std::vector<f::InputReport>& inputs,
        const f::Settings& s) {
  Run r;
  r.tw = lastack::detect::compute_time_wait_pressure(conns, inputs, s, r.findings);
  return r;
}

const f::TimeWaitHolder* holder(const Run& r, f::Side role) {
  for (const auto& h : r.tw.holders) {
    if (h.role == role) return &h;
  }
  return nullptr;
}

std::vector<std::string> causes(const Run& r) {
  std::vector<std::string> out;
  for (const auto& fd : r.findings)
    out.push_back(fd.cause + "/" + std::string(f::to_string(fd.severity)));
  std::sort(out.begin(), out.end());
  return out;
}

}  // namespace

TEST_CASE("tw: client TIME_WAIT entries and open connections add up per pair", "[tw]") {
  // Three connections 100 ms apart, each 10 ms long, client closes: ports in use 3 at 200 ms.
  std::vector<f::ConnectionSummary> conns = {conn(1, 40000, 0, 10), conn(2, 40001, 100, 110),
                                             conn(3, 40002, 200, 210)};
  const Run r = run(conns, {input(0, 300)}, settings(40000, 40003, 60));
  REQUIRE(r.tw.pairs.size() == 1);
  const f::TimeWaitPair& p = r.tw.pairs[0];
  CHECK(p.connections == 3);
  CHECK(p.peak.value == 3);
  CHECK(*p.peak.ts == at_ms(200));
  CHECK(p.peak.frame.frame_no == 30);
  CHECK(p.peak.connection_id == 3);
  CHECK(p.time_wait_at_peak == 2);  // the third is still open at its SYN
  CHECK(p.peak_rate.value == 3);
  CHECK(p.lower_bound);  // the peak is within one TIME_WAIT of the capture start
  const f::TimeWaitHolder* h = holder(r, f::Side::client);
  REQUIRE(h != nullptr);
  CHECK(h->entries == 3);
  CHECK(h->peak.value == 3);
  CHECK(*h->peak.ts == at_ms(210));
  CHECK(holder(r, f::Side::server) == nullptr);  // no server-side TIME_WAIT
  // 3 of 4 ports = 75 %: warning; rate 3/s > 4 / 60 s: above the sustainable rate.
  CHECK(causes(r) ==
        std::vector<std::string>{"port_exhaustion_risk/warning", "rate_above_sustainable/warning"});
  const f::Finding& fd = r.findings.front();
  CHECK(fd.kind == "time_wait_pressure");
  CHECK(fd.connection_id == 0);
  CHECK(fd.subject == "10.0.0.1 -> 10.0.0.2:80");
  CHECK(fd.message.find("EADDRNOTAVAIL") != std::string::npos);
  CHECK(fd.message.find("tcp_tw_recycle") != std::string::npos);
  CHECK(fd.message.find("SO_LINGER 0") != std::string::npos);
  CHECK(fd.message.find("tcp_tw_reuse") != std::string::npos);
}

TEST_CASE("tw: 90 % of the range is an error, below 50 % nothing", "[tw]") {
  std::vector<f::ConnectionSummary> conns;
  for (std::uint16_t k = 0; k < 9; ++k)
    conns.push_back(conn(k + 1u, 40000 + k, k * 2000, k * 2000 + 5));
  // 9 connections 2 s apart: rate 1/s; TIME_WAIT 60 s: all 9 in use at the last SYN.
  CHECK(causes(run(conns, {input(0, 20000)}, settings(40000, 40009, 60))) ==
        std::vector<std::string>{"port_exhaustion_risk/error", "rate_above_sustainable/warning"});
  // Same schedule, a range of 100: 9 %, and 1/s is below 100/60 s.
  CHECK(run(conns, {input(0, 20000)}, settings(40000, 40099, 60)).findings.empty());
  // TIME_WAIT 1 s: at most one port at a time.
  const Run short_tw = run(conns, {input(0, 20000)}, settings(40000, 40009, 1));
  CHECK(short_tw.tw.pairs[0].peak.value == 1);
  CHECK(short_tw.findings.empty());
}

TEST_CASE("tw: a reuse of the four-tuple or a RST ends a TIME_WAIT early", "[tw]") {
  // Same port twice: the second incarnation starts 1 s after the first's TIME_WAIT began.
  std::vector<f::ConnectionSummary> conns = {conn(1, 40000, 0, 10), conn(2, 40000, 1010, 1020)};
  conns[1].incarnation = 2;
  Run r = run(conns, {input(0, 2000)}, settings(40000, 40000, 60));
  CHECK(r.tw.pairs[0].peak.value == 1);  // never two at once: the port came back
  const f::TimeWaitHolder* h = holder(r, f::Side::client);
  REQUIRE(h != nullptr);
  CHECK(h->entries == 2);
  CHECK(h->peak.value == 1);
  // A RST after the TIME_WAIT began ends it at the connection's last packet.
  std::vector<f::ConnectionSummary> rst = {conn(1, 40000, 0, 10), conn(2, 40001, 500, 510)};
  rst[0].close_kind = f::CloseKind::rst;
  rst[0].last_ts = at_ms(300);
  r = run(rst, {input(0, 1000)}, settings(40000, 40001, 60));
  CHECK(r.tw.pairs[0].peak.value == 1);
  CHECK(holder(r, f::Side::client)->peak.value == 1);
}

TEST_CASE("tw: open connections count until the capture end; ports outside the range do not",
          "[tw]") {
  std::vector<f::ConnectionSummary> conns = {conn(1, 40000, 0, 50, f::Side::none),
                                             conn(2, 40001, 100, 150, f::Side::none),
                                             conn(3, 50000, 120, 130)};
  const Run r = run(conns, {input(0, 200)}, settings(40000, 40001, 60));
  const f::TimeWaitPair& p = r.tw.pairs[0];
  CHECK(p.outside_range == 1);
  CHECK(p.peak.value == 2);
  CHECK(p.time_wait_at_peak == 0);
  CHECK(p.time_wait_entries == 0);
  CHECK(p.series == f::StepSeries{{0, 2}});
}

TEST_CASE("tw: the series has one point per change of the per-second maximum", "[tw]") {
  // TIME_WAIT 2 s; connections at 0, 0.5 s and 5 s: 2 in use in seconds 0, 1 and 2 (the first
  // ends at 2.01 s, the second at 2.51 s), 0 in seconds 3-4, 1 from second 5 on.
  std::vector<f::ConnectionSummary> conns = {conn(1, 40000, 0, 10), conn(2, 40001, 500, 510),
                                             conn(3, 40002, 5000, 5010)};
  const Run r = run(conns, {input(0, 6500)}, settings(40000, 40999, 2));
  CHECK(r.tw.series_step_s == 1);
  CHECK(r.tw.pairs[0].series == f::StepSeries{{0, 2}, {3, 0}, {5, 1}});
  CHECK(r.findings.empty());
}

TEST_CASE("tw: a connection of one instant never makes the count negative", "[tw]") {
  // A lone RST (zeek's single-rst.pcap): first and last packet at 1 s, no TIME_WAIT. Its end
  // sorts before its start at that instant; the series must not show the dip (it used to show
  // -1 as 18446744073709551615).
  f::ConnectionSummary c = conn(1, 40000, 1000, 1000, f::Side::none);
  c.close_kind = f::CloseKind::rst;
  const Run r = run({c}, {input(0, 1000)}, settings(40000, 40999, 60));
  REQUIRE(r.tw.pairs.size() == 1);
  CHECK(r.tw.pairs[0].series == f::StepSeries{{0, 0}});
  CHECK(r.tw.pairs[0].peak.value == 0);
  // And next to a connection that holds a port, the count stays as it was.
  const Run both = run({conn(2, 40001, 0, 500), c}, {input(0, 1000)}, settings(40000, 40999, 60));
  REQUIRE(both.tw.pairs.size() == 1);
  CHECK(both.tw.pairs[0].series == f::StepSeries{{0, 1}});
}

TEST_CASE("tw: long captures get a coarser step (at most 600 steps)", "[tw]") {
  std::vector<f::ConnectionSummary> conns = {conn(1, 40000, 0, 10)};
  const Run r = run(conns, {input(0, 3'600'000)}, settings(40000, 40999, 60));
  CHECK(r.tw.series_step_s == 6);
  CHECK(r.tw.pairs[0].series == f::StepSeries{{0, 1}, {66, 0}});
}

TEST_CASE("tw: a server that closes first and holds many TIME_WAIT entries", "[tw]") {
  std::vector<f::ConnectionSummary> conns;
  for (std::uint16_t k = 0; k < 12; ++k) {
    conns.push_back(conn(k + 1u, 40000 + k, k * 100, k * 100 + 10, f::Side::server));
  }
  f::Settings s = settings(32768, 60999, 60);
  s.server_tw_peak = 12;
  Run r = run(conns, {input(0, 2000)}, s);
  REQUIRE(causes(r) == std::vector<std::string>{"server_holds_time_wait/warning"});
  CHECK(r.findings[0].subject == "server 10.0.0.2");
  CHECK(r.findings[0].ts == at_ms(1110));
  CHECK(r.findings[0].frames.at(0).frame_no == 120);
  const f::TimeWaitHolder* h = holder(r, f::Side::server);
  REQUIRE(h != nullptr);
  CHECK(h->peak.value == 12);
  CHECK(h->active_closes == 12);
  CHECK(h->under_pressure);
  // The client's ports are free as soon as its side is closed: one at a time.
  CHECK(r.tw.pairs[0].peak.value == 1);
  s.server_tw_peak = 13;
  CHECK(run(conns, {input(0, 2000)}, s).findings.empty());
  s.server_tw_peak = 0;  // off
  CHECK(run(conns, {input(0, 2000)}, s).findings.empty());
  // Not the active closer for most connections: no finding even above the threshold.
  s.server_tw_peak = 5;
  for (std::size_t k = 0; k < 13; ++k) {  // 12 of 25 closes: not most
    conns.push_back(conn(13 + k, static_cast<std::uint16_t>(41000 + k), 1500, 1510));
  }
  r = run(conns, {input(0, 2000)}, s);
  CHECK(r.findings.empty());
}

TEST_CASE("tw: lower_bound is false only for peaks a TIME_WAIT after the capture start", "[tw]") {
  std::vector<f::ConnectionSummary> conns = {conn(1, 40000, 5000, 5010),
                                             conn(2, 40001, 5100, 5110)};
  Run r = run(conns, {input(0, 6000)}, settings(40000, 40999, 2));
  CHECK_FALSE(r.tw.pairs[0].lower_bound);
  CHECK_FALSE(holder(r, f::Side::client)->lower_bound);
  conns[0].mid_stream = true;
  r = run(conns, {input(0, 6000)}, settings(40000, 40999, 2));
  CHECK(r.tw.pairs[0].lower_bound);
}

TEST_CASE("tw: nothing to report for no connections and a zero TIME_WAIT", "[tw]") {
  Run r = run({}, {}, settings(32768, 60999, 60));
  CHECK(r.tw.pairs.empty());
  CHECK(r.tw.holders.empty());
  CHECK_FALSE(r.tw.capture_start.has_value());
  std::vector<f::ConnectionSummary> conns = {conn(1, 40000, 0, 10), conn(2, 40001, 100, 110)};
  r = run(conns, {input(0, 200)}, settings(40000, 40009, 0));
  CHECK_FALSE(r.tw.sustainable_rate().has_value());
  CHECK(r.tw.pairs[0].peak.value == 1);
  CHECK(r.findings.empty());
}
