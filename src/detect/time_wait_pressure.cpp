// time_wait_pressure: TIME_WAIT entries per holder and ephemeral ports in use per client→server
// pair over capture time, from the connection summaries (see the header for the rules).
#include "lastack/detect/time_wait_pressure.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <map>
#include <optional>
#include <string>
#include <tuple>

namespace lastack::detect {

namespace {

namespace f = findings;
using f::Side;

constexpr std::int64_t kNsPerSec = 1'000'000'000;
constexpr std::int64_t kMaxSeriesSteps = 600;  // a plot's worth of points at most

// A change in the count of one group at time t: d_total to the total (+1 start, -1 end), d_tw
// to the part held by TIME_WAIT (a port moving from "open" to "TIME_WAIT" is d_total 0, d_tw +1).
struct Event {
  Timestamp t;
  int d_total = 0;
  int d_tw = 0;
  std::size_t conn = 0;  // index into the connection list
};

bool event_less(const Event& a, const Event& b) {
  // At one instant, ends before transfers before starts: intervals are half-open [start, end).
  return std::tie(a.t, a.d_total, a.conn) < std::tie(b.t, b.d_total, b.conn);
}

struct Sweep {
  f::PeakAt peak;
  std::uint64_t tw_at_peak = 0;
  f::StepSeries series;
};

struct Frame {
  Timestamp capture_start;
  Timestamp capture_end;
  std::int64_t step_s = 1;
};

const f::ConnectionSummary& at(const std::vector<const f::ConnectionSummary*>& conns,
                               std::size_t i) {
  return *conns[i];
}

f::PeakAt peak_of(std::uint64_t value, Timestamp ts, const f::ConnectionSummary& c) {
  f::PeakAt p;
  p.value = value;
  p.ts = ts;
  p.frame = FrameRef{c.input, c.first_frame};
  p.connection_id = c.id;
  return p;
}

// Counts over time: the peak (first time it is reached) and the step series up to the capture end.
Sweep sweep(std::vector<Event> events, const Frame& fr,
            const std::vector<const f::ConnectionSummary*>& conns) {
  std::sort(events.begin(), events.end(), event_less);
  Sweep out;
  const std::int64_t step_ns = fr.step_s * kNsPerSec;
  auto bucket = [&](Timestamp t) {
    return std::max<std::int64_t>(0, (t - fr.capture_start).ns) / step_ns;
  };
  const std::int64_t last_bucket = bucket(fr.capture_end);
  std::optional<std::uint64_t> emitted;
  auto emit = [&](std::int64_t b, std::uint64_t v) {
    if (emitted && *emitted == v) return;
    out.series.emplace_back(b * fr.step_s, v);
    emitted = v;
  };
  std::int64_t total = 0;
  std::int64_t tw = 0;
  std::int64_t cur_b = 0;
  std::uint64_t cur_max = 0;
  bool series_open = true;
  for (const Event& e : events) {
    if (series_open && e.t > fr.capture_end) {
      // Only ends lie beyond the capture: the series stops where the capture does.
      emit(cur_b, cur_max);
      if (cur_b < last_bucket) emit(cur_b + 1, static_cast<std::uint64_t>(total));
      series_open = false;
    }
    if (series_open) {
      const std::int64_t b = bucket(e.t);
      if (b > cur_b) {
        emit(cur_b, cur_max);
        if (b > cur_b + 1) emit(cur_b + 1, static_cast<std::uint64_t>(total));
        cur_b = b;
        cur_max = static_cast<std::uint64_t>(total);
      }
    }
    total += e.d_total;
    tw += e.d_tw;
    if (series_open) cur_max = std::max(cur_max, static_cast<std::uint64_t>(total));
    if (total > 0 && static_cast<std::uint64_t>(total) > out.peak.value) {
      out.peak = peak_of(static_cast<std::uint64_t>(total), e.t, at(conns, e.conn));
      out.tw_at_peak = static_cast<std::uint64_t>(tw);
    }
  }
  if (series_open) {
    emit(cur_b, cur_max);
    if (cur_b < last_bucket) emit(cur_b + 1, static_cast<std::uint64_t>(total));
  }
  return out;
}

// Most starts within one second: for each start t_j, the starts in (t_j - 1 s, t_j].
f::PeakAt peak_rate(std::vector<std::pair<Timestamp, std::size_t>> starts,
                    const std::vector<const f::ConnectionSummary*>& conns) {
  std::sort(starts.begin(), starts.end());
  f::PeakAt best;
  std::size_t i = 0;
  for (std::size_t j = 0; j < starts.size(); ++j) {
    while (starts[i].first.ns <= starts[j].first.ns - kNsPerSec) ++i;
    const std::uint64_t n = j - i + 1;
    if (n > best.value) best = peak_of(n, starts[j].first, at(conns, starts[j].second));
  }
  return best;
}

struct TupleKey {
  IpAddress a_ip;
  std::uint16_t a_port;
  IpAddress b_ip;
  std::uint16_t b_port;
  auto operator<=>(const TupleKey&) const = default;
};

TupleKey tuple_of(const f::ConnectionSummary& c) {
  TupleKey k{c.client_ip, c.client_port, c.server_ip, c.server_port};
  if (std::tie(k.b_ip, k.b_port) < std::tie(k.a_ip, k.a_port)) {
    std::swap(k.a_ip, k.b_ip);
    std::swap(k.a_port, k.b_port);
  }
  return k;
}

bool holds_tw(Side holder, Side role) {
  return holder == role || holder == Side::both;
}

struct Interval {
  Timestamp start;
  Timestamp end;  // exclusive
};

// A TIME_WAIT entry: from its start for TIME_WAIT, ended early by the four-tuple's next
// incarnation or by a RST on the connection (taken at its last packet).
std::optional<Interval> time_wait_interval(const f::ConnectionSummary& c,
                                           std::optional<Timestamp> next_start, Duration tw) {
  if (c.time_wait_holder == Side::none) return std::nullopt;
  Interval iv;
  iv.start = c.time_wait_start.value_or(c.last_ts);
  iv.end = iv.start + tw;
  if (next_start && *next_start >= iv.start) iv.end = std::min(iv.end, *next_start);
  if (c.close_kind == f::CloseKind::rst && c.last_ts >= iv.start)
    iv.end = std::min(iv.end, c.last_ts);
  iv.end = std::max(iv.end, iv.start);
  return iv;
}

struct HolderAcc {
  f::TimeWaitHolder h;
  std::vector<Event> events;
  std::vector<std::pair<Timestamp, std::size_t>> starts;
  bool mid_stream = false;
};

struct PairAcc {
  f::TimeWaitPair p;
  std::vector<Event> events;
  std::vector<std::pair<Timestamp, std::size_t>> starts;
  bool mid_stream = false;
};

std::string fixed(double v, int decimals) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*f", decimals, v);
  return buf;
}

std::string rate_text(double v) {
  return fixed(v, v < 10 ? 2 : (v < 100 ? 1 : 0));
}

std::string offset_text(const f::PeakAt& p, const Frame& fr) {
  if (!p.ts) return "";
  return format_rfc3339(*p.ts) + " (+" + fixed((*p.ts - fr.capture_start).seconds(), 3) +
         " s into the capture)";
}

double offset_s(const f::PeakAt& p, const Frame& fr) {
  return p.ts ? (*p.ts - fr.capture_start).seconds() : 0.0;
}

std::string seconds_str(Duration d) {
  const double s = d.seconds();
  return s == std::floor(s) ? fixed(s, 0) + " s" : fixed(s, 3) + " s";
}

bool lower_bound_of(const f::PeakAt& peak, bool mid_stream, const Frame& fr, Duration tw) {
  if (mid_stream || !peak.ts) return true;
  return (*peak.ts - fr.capture_start) < tw;
}

constexpr const char* kAvoid =
    "Avoid net.ipv4.tcp_tw_recycle (removed in Linux 4.12; it broke clients behind NAT) and "
    "SO_LINGER 0 (RST instead of FIN: unsent and unread data are lost).";

constexpr const char* kClientRemedies =
    "Remedies: reuse connections (HTTP keep-alive, a connection pool); net.ipv4.tcp_tw_reuse=1 "
    "lets new outgoing connections take over TIME_WAIT ports after 1 s when TCP timestamps are on; "
    "widen net.ipv4.ip_local_port_range or spread over more source addresses; or have the server "
    "close first. ";

f::Finding pressure_finding(std::string cause, f::Severity sev, std::string subject,
                            const f::PeakAt& at_peak) {
  f::Finding fd;
  fd.kind = "time_wait_pressure";
  fd.cause = std::move(cause);
  fd.severity = sev;
  fd.confidence = f::Confidence::confirmed;  // observed counts: the real ones can only be higher
  fd.connection_id = 0;
  fd.subject = std::move(subject);
  if (at_peak.ts) fd.ts = *at_peak.ts;
  if (at_peak.frame.frame_no != 0) fd.frames = {at_peak.frame};
  return fd;
}

std::string range_text(const f::TimeWaitPressure& tw) {
  return std::to_string(tw.port_lo) + "-" + std::to_string(tw.port_hi);
}

void pair_findings(f::TimeWaitPair& p, const f::TimeWaitPressure& tw, const Frame& fr,
                   std::vector<f::Finding>& out) {
  const std::uint64_t range = tw.range_size();
  const std::string subject =
      to_string(p.client_ip) + " -> " + format_endpoint(p.server_ip, p.server_port);
  const double share = range ? static_cast<double>(p.peak.value) / static_cast<double>(range) : 0;
  const std::string lb = p.lower_bound ? " (a lower bound: what began before the capture is not "
                                         "seen)"
                                       : "";
  auto add_common = [&](f::Finding& fd) {
    fd.evidence.emplace_back("client_ip", to_string(p.client_ip));
    fd.evidence.emplace_back("server", format_endpoint(p.server_ip, p.server_port));
    fd.evidence.emplace_back("connections", static_cast<std::int64_t>(p.connections));
    fd.evidence.emplace_back("peak_ports_in_use", static_cast<std::int64_t>(p.peak.value));
    fd.evidence.emplace_back("time_wait_at_peak", static_cast<std::int64_t>(p.time_wait_at_peak));
    fd.evidence.emplace_back("port_range", range_text(tw));
    fd.evidence.emplace_back("range_size", static_cast<std::int64_t>(range));
    fd.evidence.emplace_back("range_share", share);
    fd.evidence.emplace_back("peak_offset_s", offset_s(p.peak, fr));
    fd.evidence.emplace_back("peak_rate_per_s", static_cast<std::int64_t>(p.peak_rate.value));
    if (auto s = tw.sustainable_rate()) fd.evidence.emplace_back("sustainable_rate_per_s", *s);
    fd.evidence.emplace_back("time_wait_s", tw.time_wait.seconds());
    fd.evidence.emplace_back("lower_bound", p.lower_bound);
  };
  if (range != 0 && share >= 0.5) {
    const f::Severity sev = share >= 0.9 ? f::Severity::error : f::Severity::warning;
    f::Finding fd = pressure_finding("port_exhaustion_risk", sev, subject, p.peak);
    fd.message = to_string(p.client_ip) + " had " + std::to_string(p.peak.value) + " of the " +
                 std::to_string(range) + " ports of its range " + range_text(tw) + " (" +
                 fixed(share * 100, 0) + "%) tied up towards " +
                 format_endpoint(p.server_ip, p.server_port) + " at once" + lb + ", at " +
                 offset_text(p.peak, fr) + ": " +
                 std::to_string(p.peak.value - p.time_wait_at_peak) + " open, " +
                 std::to_string(p.time_wait_at_peak) + " in its own TIME_WAIT (" +
                 seconds_str(tw.time_wait) +
                 "). When all are taken, connect() fails with EADDRNOTAVAIL (\"Cannot assign "
                 "requested address\"). " +
                 kClientRemedies + kAvoid;
    add_common(fd);
    out.push_back(std::move(fd));
    p.under_pressure = true;
  }
  const std::optional<double> sustainable = tw.sustainable_rate();
  if (sustainable && static_cast<double>(p.peak_rate.value) > *sustainable) {
    const f::Severity sev = share >= 0.5 ? f::Severity::warning : f::Severity::info;
    f::Finding fd = pressure_finding("rate_above_sustainable", sev, subject, p.peak_rate);
    fd.message = to_string(p.client_ip) + " opened " + std::to_string(p.peak_rate.value) +
                 " new connections to " + format_endpoint(p.server_ip, p.server_port) +
                 " within one second, reached at " + offset_text(p.peak_rate, fr) + ", above the " +
                 rate_text(*sustainable) + "/s that the " + std::to_string(range) + "-port range " +
                 range_text(tw) + " sustains with a " + seconds_str(tw.time_wait) +
                 " TIME_WAIT (range / TIME_WAIT); at most " + std::to_string(p.peak.value) +
                 " ports (" + fixed(share * 100, 0) + "%) were in use at once" + lb +
                 ". Kept up for one TIME_WAIT, it uses up the range and connect() fails with "
                 "EADDRNOTAVAIL. " +
                 kClientRemedies + kAvoid;
    add_common(fd);
    out.push_back(std::move(fd));
    p.under_pressure = true;
  }
}

void holder_findings(f::TimeWaitHolder& h, const f::TimeWaitPressure& tw, const Frame& fr,
                     std::vector<f::Finding>& out) {
  if (h.role != Side::server || tw.server_peak_warn == 0) return;
  if (h.closed == 0 || h.active_closes * 2 <= h.closed) return;  // not "most"
  if (h.peak.value < tw.server_peak_warn) return;
  f::Finding fd = pressure_finding("server_holds_time_wait", f::Severity::warning,
                                   "server " + to_string(h.ip), h.peak);
  fd.message =
      "server " + to_string(h.ip) + " closed first " + std::to_string(h.active_closes) +
      " of its " + std::to_string(h.closed) + " closed connections and held " +
      std::to_string(h.peak.value) + " TIME_WAIT entries at once" +
      (h.lower_bound ? " (a lower bound: what began before the capture is not seen)" : "") +
      ", at " + offset_text(h.peak, fr) + "; each lasts " + seconds_str(tw.time_wait) +
      " (threshold " + std::to_string(tw.server_peak_warn) +
      ", --server-tw-peak). Remedies: let the clients close first (HTTP/1.1 keep-alive, "
      "clients that close when done) or reuse connections; past net.ipv4.tcp_max_tw_buckets "
      "the kernel silently skips TIME_WAIT (\"time wait bucket table overflow\"). "
      "net.ipv4.tcp_tw_reuse does not help here (outgoing connections only). " +
      kAvoid;
  fd.evidence.emplace_back("ip", to_string(h.ip));
  fd.evidence.emplace_back("role", "server");
  fd.evidence.emplace_back("connections", static_cast<std::int64_t>(h.connections));
  fd.evidence.emplace_back("closed", static_cast<std::int64_t>(h.closed));
  fd.evidence.emplace_back("active_closes", static_cast<std::int64_t>(h.active_closes));
  fd.evidence.emplace_back("time_wait_entries", static_cast<std::int64_t>(h.entries));
  fd.evidence.emplace_back("peak_time_wait", static_cast<std::int64_t>(h.peak.value));
  fd.evidence.emplace_back("peak_offset_s", offset_s(h.peak, fr));
  fd.evidence.emplace_back("threshold", static_cast<std::int64_t>(tw.server_peak_warn));
  fd.evidence.emplace_back("time_wait_s", tw.time_wait.seconds());
  fd.evidence.emplace_back("lower_bound", h.lower_bound);
  out.push_back(std::move(fd));
  h.under_pressure = true;
}

Frame frame_of(const std::vector<const f::ConnectionSummary*>& conns,
               const std::vector<f::InputReport>& inputs) {
  std::optional<Timestamp> lo;
  std::optional<Timestamp> hi;
  auto widen = [&](Timestamp a, Timestamp b) {
    if (!lo || a < *lo) lo = a;
    if (!hi || b > *hi) hi = b;
  };
  for (const f::InputReport& in : inputs) {
    if (in.first_ts && in.last_ts) widen(*in.first_ts, *in.last_ts);
  }
  for (const f::ConnectionSummary* c : conns) widen(c->first_ts, c->last_ts);
  Frame fr;
  fr.capture_start = lo.value_or(Timestamp{});
  fr.capture_end = hi.value_or(fr.capture_start);
  // Rounded up without adding first: the span of a hostile capture can fill the int64 range.
  const std::int64_t span_ns = (fr.capture_end - fr.capture_start).ns;
  const std::int64_t span_s = span_ns / kNsPerSec + (span_ns % kNsPerSec > 0 ? 1 : 0);
  fr.step_s = std::max<std::int64_t>(1, (span_s + kMaxSeriesSteps - 1) / kMaxSeriesSteps);
  return fr;
}

}  // namespace

f::TimeWaitPressure compute_time_wait_pressure(const std::vector<f::ConnectionSummary>& connections,
                                               const std::vector<f::InputReport>& inputs,
                                               const f::Settings& settings,
                                               std::vector<f::Finding>& out) {
  f::TimeWaitPressure tw;
  tw.time_wait = settings.time_wait;
  tw.port_lo = settings.port_range_lo;
  tw.port_hi = settings.port_range_hi;
  tw.server_peak_warn = settings.server_tw_peak;

  std::vector<const f::ConnectionSummary*> conns;
  conns.reserve(connections.size());
  for (const f::ConnectionSummary& c : connections) conns.push_back(&c);
  std::sort(conns.begin(), conns.end(), [](const auto* a, const auto* b) { return a->id < b->id; });
  const Frame fr = frame_of(conns, inputs);
  if (!conns.empty() || !inputs.empty()) {
    tw.capture_start = fr.capture_start;
    tw.capture_end = fr.capture_end;
  }
  tw.series_step_s = fr.step_s;

  // The next incarnation of each connection's four-tuple (ids follow first packets).
  std::vector<std::optional<Timestamp>> next_start(conns.size());
  {
    std::map<TupleKey, std::size_t> last_of;
    for (std::size_t i = 0; i < conns.size(); ++i) {
      const auto [it, fresh] = last_of.try_emplace(tuple_of(*conns[i]), i);
      if (!fresh) {
        next_start[it->second] = conns[i]->first_ts;
        it->second = i;
      }
    }
  }

  std::map<std::pair<IpAddress, Side>, HolderAcc> holders;
  std::map<std::tuple<IpAddress, IpAddress, std::uint16_t>, PairAcc> pairs;
  const Timestamp still_open = fr.capture_end + Duration{1};
  for (std::size_t i = 0; i < conns.size(); ++i) {
    const f::ConnectionSummary& c = *conns[i];
    const std::optional<Interval> tw_iv = time_wait_interval(c, next_start[i], tw.time_wait);
    for (Side role : {Side::client, Side::server}) {
      HolderAcc& h = holders[{role == Side::client ? c.client_ip : c.server_ip, role}];
      h.h.ip = role == Side::client ? c.client_ip : c.server_ip;
      h.h.role = role;
      ++h.h.connections;
      if (c.active_closer != Side::none) ++h.h.closed;
      if (holds_tw(c.active_closer, role)) ++h.h.active_closes;
      h.mid_stream = h.mid_stream || c.mid_stream;
      if (tw_iv && holds_tw(c.time_wait_holder, role)) {
        ++h.h.entries;
        h.starts.emplace_back(tw_iv->start, i);
        if (tw_iv->end > tw_iv->start) {
          h.events.push_back({tw_iv->start, +1, 0, i});
          h.events.push_back({tw_iv->end, -1, 0, i});
        }
      }
    }
    PairAcc& p = pairs[{c.client_ip, c.server_ip, c.server_port}];
    p.p.client_ip = c.client_ip;
    p.p.server_ip = c.server_ip;
    p.p.server_port = c.server_port;
    ++p.p.connections;
    p.mid_stream = p.mid_stream || c.mid_stream;
    if (!c.mid_stream) p.starts.emplace_back(c.first_ts, i);
    if (c.client_port < tw.port_lo || c.client_port > tw.port_hi) {
      ++p.p.outside_range;
      continue;
    }
    const bool client_tw = tw_iv && holds_tw(c.time_wait_holder, Side::client);
    if (client_tw) {
      ++p.p.time_wait_entries;
      const Timestamp tw_start = std::max(tw_iv->start, c.first_ts);
      p.events.push_back({c.first_ts, +1, 0, i});
      p.events.push_back({tw_start, 0, +1, i});
      p.events.push_back({std::max(tw_iv->end, tw_start), -1, -1, i});
      continue;
    }
    const bool open =
        c.close_kind == f::CloseKind::open_at_end || c.close_kind == f::CloseKind::half_closed;
    p.events.push_back({c.first_ts, +1, 0, i});
    p.events.push_back({open ? still_open : std::max(c.last_ts, c.first_ts), -1, 0, i});
  }

  for (auto& [key, acc] : holders) {
    if (acc.h.entries == 0) continue;
    Sweep s = sweep(std::move(acc.events), fr, conns);
    acc.h.peak = s.peak;
    acc.h.series = std::move(s.series);
    acc.h.peak_rate = peak_rate(std::move(acc.starts), conns);
    acc.h.lower_bound = lower_bound_of(acc.h.peak, acc.mid_stream, fr, tw.time_wait);
    tw.holders.push_back(std::move(acc.h));
  }
  for (auto& [key, acc] : pairs) {
    Sweep s = sweep(std::move(acc.events), fr, conns);
    acc.p.peak = s.peak;
    acc.p.time_wait_at_peak = s.tw_at_peak;
    acc.p.series = std::move(s.series);
    acc.p.peak_rate = peak_rate(std::move(acc.starts), conns);
    acc.p.lower_bound = lower_bound_of(acc.p.peak, acc.mid_stream, fr, tw.time_wait);
    tw.pairs.push_back(std::move(acc.p));
  }
  std::sort(tw.holders.begin(), tw.holders.end(), [](const auto& a, const auto& b) {
    return std::make_tuple(b.peak.value, b.entries, a.ip, a.role) <
           std::make_tuple(a.peak.value, a.entries, b.ip, b.role);
  });
  std::sort(tw.pairs.begin(), tw.pairs.end(), [](const auto& a, const auto& b) {
    return std::make_tuple(b.peak.value, b.peak_rate.value, a.client_ip, a.server_ip,
                           a.server_port) < std::make_tuple(a.peak.value, a.peak_rate.value,
                                                            b.client_ip, b.server_ip,
                                                            b.server_port);
  });
  for (f::TimeWaitPair& p : tw.pairs) pair_findings(p, tw, fr, out);
  for (f::TimeWaitHolder& h : tw.holders) holder_findings(h, tw, fr, out);
  return tw;
}

void analyze_time_wait_pressure(f::Report& report) {
  report.time_wait = compute_time_wait_pressure(report.connections, report.inputs, report.settings,
                                                report.findings);
}

}  // namespace lastack::detect
