// The streaming TIME_WAIT pressure accumulator against the batch sweep it replaced
// (support/tw_reference): random connections delivered as the pipeline delivers them (on_start
// at the first packet in id order, on_end some time after the last packet, advance() in between)
// must give the same section and findings; long captures keep short series with exact peaks;
// the pending state stays bounded by the lateness window, not by the number of connections.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include "lastack/detect/time_wait_pressure.h"
#include "support/tw_reference.h"

namespace {

namespace f = lastack::findings;
using lastack::Duration;
using lastack::IpAddress;
using lastack::Timestamp;
using lastack::detect::TimeWaitAccumulator;

constexpr std::int64_t kBase = 1'800'000'000LL * 1'000'000'000LL;
constexpr std::int64_t kMs = 1'000'000;
constexpr std::int64_t kS = 1'000'000'000;

IpAddress ip4(std::uint8_t a, std::uint8_t b, std::uint8_t c, std::uint8_t d) {
  const std::uint8_t bytes[4] = {a, b, c, d};
  return IpAddress::v4(bytes);
}

IpAddress ip6(std::uint8_t last) {
  std::uint8_t bytes[16] = {0x20, 0x01, 0x0d, 0xb8};
  bytes[15] = last;
  return IpAddress::v6(bytes);
}

// Small helpers over the raw generator: the same numbers with any standard library.
struct Rng {
  std::mt19937_64 g;
  explicit Rng(std::uint64_t seed) : g(seed) {}
  std::int64_t below(std::int64_t n) {
    return n <= 0 ? 0 : static_cast<std::int64_t>(g() % static_cast<std::uint64_t>(n));
  }
  bool chance(int percent) { return below(100) < percent; }
  template <class T>
  const T& pick(const std::vector<T>& v) {
    return v[static_cast<std::size_t>(below(static_cast<std::int64_t>(v.size())))];
  }
};

struct Shape {
  std::int64_t span_ms = 120'000;   // first packets spread over this
  std::int64_t tick_ms = 100;       // first packets on this grid: simultaneous timestamps
  std::int64_t max_len_ms = 3'000;  // connection length
  std::int64_t time_wait_s = 5;
  std::int64_t lateness_s = 30;
  int count = 300;
};

struct Delivery {
  Timestamp at;
  int order = 0;  // at one instant: starts (0) before ends (1)
  std::size_t conn = 0;
};

struct Scenario {
  f::Settings settings;
  Duration lateness;
  std::vector<f::ConnectionSummary> conns;  // in id order
  std::vector<f::InputReport> inputs;
  std::vector<Delivery> deliveries;  // the streaming order
  Timestamp end;                     // the last packet of the capture
};

// The summary fields a TIME_WAIT pressure sweep reads, drawn so that every rule matters: reused
// four-tuples, TIME_WAIT held by the client, the server or both, RSTs, connections open at the
// end, mid-stream pickups, ports outside the range, equal timestamps.
f::ConnectionSummary random_conn(Rng& rng, std::uint64_t id, Timestamp first, const Shape& sh) {
  static const std::vector<IpAddress> clients = {ip4(10, 0, 0, 1), ip4(10, 0, 0, 2),
                                                 ip4(10, 0, 0, 3), ip6(1)};
  static const std::vector<IpAddress> servers = {ip4(10, 0, 1, 1), ip4(10, 0, 1, 2), ip6(2)};
  static const std::vector<std::uint16_t> server_ports = {80, 443};
  f::ConnectionSummary c;
  c.id = id;
  c.client_ip = rng.pick(clients);
  c.server_ip = c.client_ip.version == 6 ? ip6(2) : rng.pick(servers);
  c.server_port = rng.pick(server_ports);
  if (rng.chance(35)) {
    c.client_port = static_cast<std::uint16_t>(40000 + rng.below(4));  // reuse the four-tuple
  } else if (rng.chance(8)) {
    c.client_port = static_cast<std::uint16_t>(1000 + rng.below(20));  // outside the range
  } else {
    c.client_port = static_cast<std::uint16_t>(40000 + rng.below(60));
  }
  c.input = static_cast<std::uint32_t>(rng.below(2));
  c.first_frame = id * 7 + static_cast<std::uint64_t>(rng.below(5));
  c.first_ts = first;
  const std::int64_t len_ms = rng.chance(10) ? 0 : rng.below(sh.max_len_ms);
  c.last_ts = first + Duration{len_ms * kMs};
  c.mid_stream = rng.chance(10);
  const int kind = static_cast<int>(rng.below(100));
  if (kind < 55) {
    c.close_kind = f::CloseKind::fin;
  } else if (kind < 67) {
    c.close_kind = f::CloseKind::rst;
  } else if (kind < 74) {
    c.close_kind = f::CloseKind::abortive;
  } else if (kind < 85) {
    c.close_kind = f::CloseKind::half_closed;
  } else {
    c.close_kind = f::CloseKind::open_at_end;
  }
  const bool both_fins = c.close_kind == f::CloseKind::fin || c.close_kind == f::CloseKind::rst;
  if (c.close_kind != f::CloseKind::open_at_end) {
    static const std::vector<f::Side> closers = {f::Side::client, f::Side::client, f::Side::server,
                                                 f::Side::both, f::Side::none};
    c.active_closer = rng.pick(closers);
  }
  if (both_fins && c.active_closer != f::Side::none && rng.chance(85)) {
    c.time_wait_holder = c.active_closer;
    // TIME_WAIT began at the final ACK, at or before the last packet (late FIN copies follow).
    if (rng.chance(85)) c.time_wait_start = first + Duration{rng.below(len_ms + 1) * kMs};
  }
  return c;
}

// 10.0.0.1:port -> 10.0.0.2:80, closed by the client, which holds TIME_WAIT from its last packet
// (times in ms after kBase).
f::ConnectionSummary closed_by_client(std::uint64_t id, std::uint16_t port, std::int64_t first_ms,
                                      std::int64_t last_ms) {
  f::ConnectionSummary c;
  c.id = id;
  c.client_ip = ip4(10, 0, 0, 1);
  c.server_ip = ip4(10, 0, 0, 2);
  c.client_port = port;
  c.server_port = 80;
  c.first_frame = id * 10;
  c.first_ts = Timestamp{kBase + first_ms * kMs};
  c.last_ts = Timestamp{kBase + last_ms * kMs};
  c.close_kind = f::CloseKind::fin;
  c.active_closer = f::Side::client;
  c.time_wait_holder = f::Side::client;
  c.time_wait_start = c.last_ts;
  return c;
}

// Where the streaming contract puts the end: after the last packet, at the latest `lateness`
// after the earliest event only the end reveals (the TIME_WAIT start, else the last packet).
Timestamp end_delivery(Rng& rng, const f::ConnectionSummary& c, Duration lateness) {
  Timestamp earliest = c.last_ts;
  if (c.time_wait_holder != f::Side::none && c.time_wait_start) {
    earliest = std::min(earliest, *c.time_wait_start);
  }
  const std::int64_t room = std::max<std::int64_t>(0, (earliest + lateness - c.last_ts).ns);
  const std::int64_t pick = rng.chance(20) ? room : rng.below(room / kMs + 1) * kMs;
  return c.last_ts + Duration{std::min(pick, room)};
}

Scenario make_scenario(std::uint64_t seed, const Shape& sh) {
  Rng rng(seed);
  Scenario s;
  s.settings.port_range_lo = 40000;
  s.settings.port_range_hi = 40063;
  s.settings.time_wait = Duration::from_s(sh.time_wait_s);
  s.settings.server_tw_peak = 6;
  s.lateness = Duration::from_s(sh.lateness_s);
  std::vector<std::int64_t> firsts;
  for (int k = 0; k < sh.count; ++k)
    firsts.push_back(rng.below(sh.span_ms / sh.tick_ms) * sh.tick_ms);
  std::sort(firsts.begin(), firsts.end());
  const Timestamp t0{kBase};
  for (int k = 0; k < sh.count; ++k) {
    s.conns.push_back(random_conn(rng, static_cast<std::uint64_t>(k + 1),
                                  t0 + Duration{(firsts[k] + 500) * kMs}, sh));
  }
  s.end = t0;
  for (const auto& c : s.conns) s.end = std::max(s.end, c.last_ts);
  s.end = s.end + Duration{rng.below(2000) * kMs};  // packets of no connection after the last
  f::InputReport in;
  in.path = "random.pcap";
  in.first_ts = t0;  // a packet of no connection before the first one
  in.last_ts = s.end;
  s.inputs = {in};
  for (std::size_t k = 0; k < s.conns.size(); ++k) {
    s.deliveries.push_back({s.conns[k].first_ts, 0, k});
    // The pipeline finalises what is left at the end of the capture, all at once.
    s.deliveries.push_back({std::min(end_delivery(rng, s.conns[k], s.lateness), s.end), 1, k});
  }
  std::stable_sort(s.deliveries.begin(), s.deliveries.end(), [](const auto& a, const auto& b) {
    return std::tie(a.at, a.order) < std::tie(b.at, b.order);
  });
  return s;
}

struct Outcome {
  f::TimeWaitPressure tw;
  std::vector<f::Finding> findings;
  std::uint64_t late = 0;
};

Outcome stream(const Scenario& s) {
  Outcome o;
  TimeWaitAccumulator acc(s.settings, s.lateness);
  acc.advance(*s.inputs.front().first_ts);  // the first packet of the capture
  for (const Delivery& d : s.deliveries) {
    acc.advance(d.at);
    if (d.order == 0) {
      acc.on_start(lastack::detect::start_of(s.conns[d.conn]));
    } else {
      acc.on_end(s.conns[d.conn]);
    }
  }
  acc.advance(s.end);
  o.tw = acc.finish(s.inputs, o.findings);
  o.late = acc.late_events();
  return o;
}

Outcome reference(const Scenario& s, std::int64_t step_s = 0) {
  Outcome o;
  o.tw = lastack::test::reference_time_wait(s.conns, s.inputs, s.settings, o.findings, step_s);
  return o;
}

void check_same(const Outcome& got, const Outcome& want) {
  CHECK(got.late == 0);
  CHECK(lastack::test::describe_tw(got.tw) == lastack::test::describe_tw(want.tw));
  CHECK(lastack::test::describe_tw(got.findings) == lastack::test::describe_tw(want.findings));
}

}  // namespace

TEST_CASE("tw stream: random connections streamed give the batch sweep's section and findings",
          "[tw][time_wait_pressure]") {
  Shape sh;
  SECTION("short TIME_WAIT, dense reuse") {
    for (std::uint64_t seed : {1u, 2u, 3u, 4u, 5u}) {
      CAPTURE(seed);
      const Scenario s = make_scenario(seed, sh);
      check_same(stream(s), reference(s));
    }
  }
  SECTION("TIME_WAIT longer than the lateness, coarse ticks") {
    sh.time_wait_s = 60;
    sh.lateness_s = 20;
    sh.tick_ms = 1000;
    for (std::uint64_t seed : {11u, 12u, 13u, 14u}) {
      CAPTURE(seed);
      const Scenario s = make_scenario(seed, sh);
      check_same(stream(s), reference(s));
    }
  }
  SECTION("a capture of ~1100 s, the tightest lateness (the longest connection)") {
    sh.span_ms = 1'100'000;
    sh.count = 600;
    sh.lateness_s = 3;
    for (std::uint64_t seed : {21u, 22u}) {
      CAPTURE(seed);
      const Scenario s = make_scenario(seed, sh);
      const Outcome want = reference(s);
      CHECK(want.tw.series_step_s == 2);
      check_same(stream(s), want);
    }
  }
  SECTION("the batch entry point is the accumulator too") {
    for (std::uint64_t seed : {31u, 32u}) {
      const Scenario s = make_scenario(seed, sh);
      Outcome batch;
      batch.tw = lastack::detect::compute_time_wait_pressure(s.conns, s.inputs, s.settings,
                                                             batch.findings);
      check_same(batch, reference(s));
    }
  }
}

TEST_CASE(
    "tw stream: a reuse after the previous incarnation was finalised still cuts its "
    "TIME_WAIT",
    "[tw][time_wait_pressure]") {
  f::Settings settings;
  settings.port_range_lo = 40000;
  settings.port_range_hi = 40000;
  settings.time_wait = Duration::from_s(60);
  auto conn = [](std::uint64_t id, std::int64_t first_ms, std::int64_t last_ms) {
    return closed_by_client(id, 40000, first_ms, last_ms);
  };
  // #1's TIME_WAIT runs from 1 s; it is finalised at 2 s, everything up to 7 s is swept; #2 on
  // the same four-tuple starts at 10 s (cutting #1's TIME_WAIT there) and #3 at 20.1 s, exactly
  // when #2's TIME_WAIT began (an empty entry: it counts, but holds nothing).
  std::vector<f::ConnectionSummary> conns = {conn(1, 0, 1000), conn(2, 10'000, 20'100),
                                             conn(3, 20'100, 20'200)};
  conns[1].incarnation = 2;
  conns[2].incarnation = 3;
  conns[2].client_port = 40000;
  f::InputReport in;
  in.first_ts = conns[0].first_ts;
  in.last_ts = Timestamp{kBase + 30'000 * kMs};
  TimeWaitAccumulator acc(settings, Duration::from_s(3));
  acc.advance(conns[0].first_ts);
  acc.on_start(lastack::detect::start_of(conns[0]));
  acc.advance(Timestamp{kBase + 2000 * kMs});
  acc.on_end(conns[0]);
  acc.advance(Timestamp{kBase + 10'000 * kMs});
  CHECK(acc.tracked_tuples() == 1);  // #1's TIME_WAIT could still be cut
  acc.on_start(lastack::detect::start_of(conns[1]));
  acc.advance(Timestamp{kBase + 20'100 * kMs});
  acc.on_end(conns[1]);
  acc.on_start(lastack::detect::start_of(conns[2]));
  acc.advance(Timestamp{kBase + 20'200 * kMs});
  acc.on_end(conns[2]);
  acc.advance(*in.last_ts);
  std::vector<f::Finding> got_findings;
  const f::TimeWaitPressure got = acc.finish({in}, got_findings);
  std::vector<f::Finding> want_findings;
  const f::TimeWaitPressure want =
      lastack::test::reference_time_wait(conns, {in}, settings, want_findings);
  CHECK(acc.late_events() == 0);
  CHECK(lastack::test::describe_tw(got) == lastack::test::describe_tw(want));
  CHECK(lastack::test::describe_tw(got_findings) == lastack::test::describe_tw(want_findings));
  REQUIRE(got.pairs.size() == 1);
  CHECK(got.pairs[0].peak.value == 1);  // the port was never taken twice
  REQUIRE(got.holders.size() == 1);
  CHECK(got.holders[0].entries == 3);
  // Each step holds its maximum: second 10 still had #1's entry at its start.
  CHECK(got.holders[0].series == f::StepSeries{{0, 0}, {1, 1}, {11, 0}, {20, 1}});
}

TEST_CASE("tw stream: a 20,000 s capture keeps at most ~600 points, with exact peaks",
          "[tw][time_wait_pressure]") {
  // Bursts and lulls so that the per-second maximum changes thousands of times: the series is
  // coarsened while streaming, then re-bucketed to the final step.
  Shape sh;
  sh.span_ms = 20'000'000;
  sh.tick_ms = 250;
  sh.count = 30000;
  sh.time_wait_s = 4;
  sh.lateness_s = 480;
  for (std::uint64_t seed : {41u, 42u}) {
    CAPTURE(seed);
    const Scenario s = make_scenario(seed, sh);
    const Outcome got = stream(s);
    const std::int64_t batch_step = reference(s).tw.series_step_s;
    CHECK(batch_step == 34);
    CHECK(got.tw.series_step_s >= batch_step);
    CHECK(got.tw.series_step_s < 2 * batch_step);  // the smallest multiple of a power of two
    const std::int64_t span_s = (s.end - Timestamp{kBase}).ns / kS + 1;
    for (const auto& p : got.tw.pairs)
      CHECK(p.series.size() <= static_cast<std::size_t>(span_s / got.tw.series_step_s + 1));
    for (const auto& h : got.tw.holders)
      CHECK(h.series.size() <= static_cast<std::size_t>(span_s / got.tw.series_step_s + 1));
    // Everything, series included, is the batch sweep's at that step.
    check_same(got, reference(s, got.tw.series_step_s));
  }
}

TEST_CASE("tw stream: a start told of late is swept in order while the caller holds the sweep",
          "[tw][time_wait_pressure]") {
  // A half-open attempt (#1, a SYN at 0 s) is told of only at its end, 40 s later, far beyond
  // the 3 s lateness; meanwhile #2..#20 start, close and hold TIME_WAIT on the same pair.
  f::Settings settings;
  settings.port_range_lo = 40000;
  settings.port_range_hi = 40063;
  settings.time_wait = Duration::from_s(5);
  auto conn = [](std::uint64_t id, std::int64_t first_ms, std::int64_t last_ms) {
    return closed_by_client(id, static_cast<std::uint16_t>(40000 + id), first_ms, last_ms);
  };
  std::vector<f::ConnectionSummary> conns = {conn(1, 0, 0)};
  conns[0].close_kind = f::CloseKind::open_at_end;
  conns[0].active_closer = f::Side::none;
  conns[0].time_wait_holder = f::Side::none;
  conns[0].time_wait_start.reset();
  for (std::uint64_t id = 2; id <= 20; ++id) {
    const auto t = static_cast<std::int64_t>(id) * 1000;
    conns.push_back(conn(id, t, t + 500));
  }
  f::InputReport in;
  in.first_ts = conns[0].first_ts;
  in.last_ts = Timestamp{kBase + 40'000 * kMs};

  auto run = [&](Timestamp hold, std::vector<f::Finding>& findings, std::uint64_t& late) {
    TimeWaitAccumulator acc(settings, Duration::from_s(3));
    acc.advance(conns[0].first_ts, hold);
    for (std::size_t k = 1; k < conns.size(); ++k) {
      acc.advance(conns[k].first_ts, hold);
      acc.on_start(lastack::detect::start_of(conns[k]));
      acc.advance(conns[k].last_ts, hold);
      acc.on_end(conns[k]);
    }
    acc.advance(*in.last_ts, hold);
    acc.on_end(conns[0]);  // never started: its start is taken from the summary
    acc.advance(*in.last_ts);
    f::TimeWaitPressure tw = acc.finish({in}, findings);
    late = acc.late_events();
    return tw;
  };
  std::vector<f::Finding> want_findings;
  const f::TimeWaitPressure want =
      lastack::test::reference_time_wait(conns, {in}, settings, want_findings);
  std::vector<f::Finding> held_findings;
  std::uint64_t held_late = 0;
  const f::TimeWaitPressure held = run(conns[0].first_ts, held_findings, held_late);
  CHECK(held_late == 0);
  CHECK(lastack::test::describe_tw(held) == lastack::test::describe_tw(want));
  CHECK(lastack::test::describe_tw(held_findings) == lastack::test::describe_tw(want_findings));
  // Without the hold the attempt's port is taken after everything already swept.
  std::vector<f::Finding> loose_findings;
  std::uint64_t loose_late = 0;
  const f::TimeWaitPressure loose = run(Timestamp{INT64_MAX}, loose_findings, loose_late);
  CHECK(loose_late > 0);
  CHECK(lastack::test::describe_tw(loose) != lastack::test::describe_tw(want));
}

TEST_CASE("tw stream: an end delivered later than the lateness bound is applied late and counted",
          "[tw][time_wait_pressure]") {
  // The contract: on_end by (TIME_WAIT start, else last packet) + lateness. Here a client kept
  // getting FIN copies for 100 s after its TIME_WAIT began, and the end comes at the last
  // packet + lateness: what was swept in between cannot be redone.
  Shape sh;
  sh.lateness_s = 10;
  const Scenario base = make_scenario(7, sh);
  Scenario s = base;
  f::ConnectionSummary& c = s.conns[10];
  c.client_port = 40050;
  c.close_kind = f::CloseKind::fin;
  c.active_closer = f::Side::client;
  c.time_wait_holder = f::Side::client;
  c.time_wait_start = c.last_ts;
  c.last_ts = c.last_ts + Duration::from_s(100);
  s.end = std::max(s.end, c.last_ts);
  s.inputs.front().last_ts = s.end;
  for (Delivery& d : s.deliveries) {
    if (d.conn == 10 && d.order == 1) d.at = c.last_ts + s.lateness;
  }
  std::stable_sort(s.deliveries.begin(), s.deliveries.end(), [](const auto& a, const auto& b) {
    return std::tie(a.at, a.order) < std::tie(b.at, b.order);
  });
  const Outcome got = stream(s);
  const Outcome want = reference(s);
  CHECK(got.late > 0);
  CHECK(got.tw.late_events == got.late);  // reported in the section
  // Applied after the swept frontier: never more than the batch figures (lower bounds stay so).
  REQUIRE(got.tw.holders.size() == want.tw.holders.size());
  for (const auto& h : got.tw.holders) {
    for (const auto& w : want.tw.holders) {
      if (w.ip != h.ip || w.role != h.role) continue;
      CHECK(h.entries == w.entries);
      CHECK(h.peak.value <= w.peak.value);
      for (const auto& [at, v] : h.series) CHECK(v <= h.entries);
    }
  }
}

TEST_CASE("tw stream: 2 million connections in pending state bounded by the lateness window",
          "[tw][time_wait_pressure]") {
  // 100 clients, one connection per client per second (a new one every 10 ms), 5 ms long, closed
  // by the client (TIME_WAIT 60 s), finalised 1 s after their last packet; 20,000 s of capture.
  constexpr std::int64_t kClients = 100;
  constexpr std::int64_t kCount = 2'000'000;
  constexpr std::int64_t kLateness_s = 60;
  constexpr std::int64_t kTimeWait_s = 60;
  f::Settings settings;
  settings.time_wait = Duration::from_s(kTimeWait_s);
  TimeWaitAccumulator acc(settings, Duration::from_s(kLateness_s));
  const IpAddress server = ip4(10, 9, 0, 1);
  auto conn = [&](std::int64_t k) {
    f::ConnectionSummary c;
    c.id = static_cast<std::uint64_t>(k + 1);
    c.client_ip = ip4(10, 1, static_cast<std::uint8_t>(k % kClients), 1);
    c.server_ip = server;
    c.client_port = static_cast<std::uint16_t>(32768 + (k / kClients) % 28000);
    c.server_port = 443;
    c.first_frame = c.id * 6;
    c.first_ts = Timestamp{kBase + k * 10 * kMs};
    c.last_ts = c.first_ts + Duration::from_ms(5);
    c.handshake_seen = true;
    c.close_kind = f::CloseKind::fin;
    c.active_closer = f::Side::client;
    c.time_wait_holder = f::Side::client;
    c.time_wait_start = c.last_ts;
    return c;
  };
  // Per second: 100 starts. Pending: the events of the last lateness + TIME_WAIT + 1 s (at most
  // three per connection), the records and four-tuples of as many connections.
  constexpr std::size_t kWindowConns = 100 * (kLateness_s + kTimeWait_s + 2);
  std::size_t max_events = 0;
  std::size_t max_conns = 0;
  std::size_t max_tuples = 0;
  std::vector<f::ConnectionSummary> ending;  // finalised 1 s after the last packet: 100 at a time
  std::size_t next_end = 0;
  for (std::int64_t k = 0; k < kCount; ++k) {
    const f::ConnectionSummary c = conn(k);
    acc.advance(c.first_ts);
    while (next_end < ending.size() &&
           ending[next_end].last_ts + Duration::from_s(1) <= c.first_ts) {
      acc.on_end(ending[next_end++]);
    }
    if (next_end > 4096) {
      ending.erase(ending.begin(), ending.begin() + static_cast<std::ptrdiff_t>(next_end));
      next_end = 0;
    }
    acc.on_start(lastack::detect::start_of(c));
    ending.push_back(c);
    max_events = std::max(max_events, acc.pending_events());
    max_conns = std::max(max_conns, acc.tracked_connections());
    max_tuples = std::max(max_tuples, acc.tracked_tuples());
  }
  for (; next_end < ending.size(); ++next_end) acc.on_end(ending[next_end]);
  f::InputReport in;
  in.first_ts = Timestamp{kBase};
  in.last_ts = conn(kCount - 1).last_ts;
  std::vector<f::Finding> findings;
  const f::TimeWaitPressure tw = acc.finish({in}, findings);
  CHECK(max_events <= 3 * kWindowConns);
  CHECK(max_conns <= kWindowConns);
  CHECK(max_tuples <= kWindowConns);
  CHECK(acc.late_events() == 0);
  CHECK(acc.pending_events() == 0);
  CHECK(acc.tracked_connections() == 0);
  // And the figures: each client has the 60 connections of the last TIME_WAIT plus the new one.
  REQUIRE(tw.pairs.size() == kClients);
  for (const auto& p : tw.pairs) {
    CHECK(p.connections == kCount / kClients);
    CHECK(p.peak.value == 61);
    CHECK(p.peak_rate.value == 1);
  }
  for (const auto& h : tw.holders) CHECK(h.peak.value == 60);
  CHECK(tw.series_step_s == 34);
}
