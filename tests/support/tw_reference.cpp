// The batch TIME_WAIT pressure sweep of commit d7ce2e9, unchanged but for the step override and
// the findings (the library's, which only read the section): the oracle of the streaming tests.
#include "support/tw_reference.h"

#include <algorithm>
#include <cstdio>
#include <map>
#include <optional>
#include <sstream>
#include <tuple>
#include <type_traits>
#include <variant>

#include "lastack/detect/time_wait_pressure.h"

namespace lastack::test {

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
  // A moment's dip below zero (a zero-length entry ends, then starts, at one instant) is no
  // count anyone saw: the series shows 0 there.
  auto shown = [](std::int64_t n) {
    return static_cast<std::uint64_t>(std::max<std::int64_t>(0, n));
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
      if (cur_b < last_bucket) emit(cur_b + 1, shown(total));
      series_open = false;
    }
    if (series_open) {
      const std::int64_t b = bucket(e.t);
      if (b > cur_b) {
        emit(cur_b, cur_max);
        if (b > cur_b + 1) emit(cur_b + 1, shown(total));
        cur_b = b;
        cur_max = shown(total);
      }
    }
    total += e.d_total;
    tw += e.d_tw;
    if (series_open) cur_max = std::max(cur_max, shown(total));
    if (total > 0 && static_cast<std::uint64_t>(total) > out.peak.value) {
      out.peak = peak_of(static_cast<std::uint64_t>(total), e.t, at(conns, e.conn));
      out.tw_at_peak = static_cast<std::uint64_t>(tw);
    }
  }
  if (series_open) {
    emit(cur_b, cur_max);
    if (cur_b < last_bucket) emit(cur_b + 1, shown(total));
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

bool lower_bound_of(const f::PeakAt& peak, bool mid_stream, const Frame& fr, Duration tw) {
  if (mid_stream || !peak.ts) return true;
  return (*peak.ts - fr.capture_start) < tw;
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

f::TimeWaitPressure reference_time_wait(const std::vector<f::ConnectionSummary>& connections,
                                        const std::vector<f::InputReport>& inputs,
                                        const f::Settings& settings, std::vector<f::Finding>& out,
                                        std::int64_t step_s) {
  f::TimeWaitPressure tw;
  tw.time_wait = settings.time_wait;
  tw.port_lo = settings.port_range_lo;
  tw.port_hi = settings.port_range_hi;
  tw.server_peak_warn = settings.server_tw_peak;

  std::vector<const f::ConnectionSummary*> conns;
  conns.reserve(connections.size());
  for (const f::ConnectionSummary& c : connections) conns.push_back(&c);
  std::sort(conns.begin(), conns.end(), [](const auto* a, const auto* b) { return a->id < b->id; });
  Frame fr = frame_of(conns, inputs);
  if (step_s > 0) fr.step_s = step_s;
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
  detect::append_time_wait_findings(tw, out);  // the text is not what this oracle checks
  return tw;
}

namespace {

void put_peak(std::ostringstream& o, const char* name, const f::PeakAt& p) {
  o << ' ' << name << '=' << p.value << '@' << (p.ts ? std::to_string(p.ts->ns) : "-") << " frame "
    << p.frame.input << ':' << p.frame.frame_no << " conn " << p.connection_id;
}

void put_series(std::ostringstream& o, const f::StepSeries& s) {
  o << " series";
  for (const auto& [at, v] : s) o << " [" << at << ',' << v << ']';
}

std::string text_of(const f::EvidenceValue& v) {
  return std::visit(
      [](const auto& x) -> std::string {
        using T = std::decay_t<decltype(x)>;
        std::ostringstream o;
        if constexpr (std::is_same_v<T, std::vector<double>> ||
                      std::is_same_v<T, std::vector<std::int64_t>>) {
          for (const auto& e : x) o << e << ',';
        } else {
          o.precision(17);
          o << x;
        }
        return o.str();
      },
      v);
}

}  // namespace

std::string describe_tw(const f::TimeWaitPressure& tw) {
  std::ostringstream o;
  o << "time_wait " << tw.time_wait.ns << " range " << tw.port_lo << '-' << tw.port_hi
    << " server_peak_warn " << tw.server_peak_warn << " capture "
    << (tw.capture_start ? std::to_string(tw.capture_start->ns) : "-") << ".."
    << (tw.capture_end ? std::to_string(tw.capture_end->ns) : "-") << " step " << tw.series_step_s
    << '\n';
  for (const f::TimeWaitHolder& h : tw.holders) {
    o << "holder " << to_string(h.ip) << ' ' << f::to_string(h.role) << " conns " << h.connections
      << " closed " << h.closed << " active " << h.active_closes << " entries " << h.entries;
    put_peak(o, "peak", h.peak);
    put_peak(o, "rate", h.peak_rate);
    o << " lb " << h.lower_bound << " up " << h.under_pressure;
    put_series(o, h.series);
    o << '\n';
  }
  for (const f::TimeWaitPair& p : tw.pairs) {
    o << "pair " << to_string(p.client_ip) << " -> " << format_endpoint(p.server_ip, p.server_port)
      << " conns " << p.connections << " outside " << p.outside_range << " tw_entries "
      << p.time_wait_entries << " tw_at_peak " << p.time_wait_at_peak;
    put_peak(o, "peak", p.peak);
    put_peak(o, "rate", p.peak_rate);
    o << " lb " << p.lower_bound << " up " << p.under_pressure;
    put_series(o, p.series);
    o << '\n';
  }
  return o.str();
}

std::string describe_tw(const std::vector<f::Finding>& findings) {
  std::ostringstream o;
  for (const f::Finding& fd : findings) {
    o << fd.kind << '/' << fd.cause << ' ' << f::to_string(fd.severity) << ' '
      << f::to_string(fd.confidence) << " conn " << fd.connection_id << " subject " << fd.subject
      << " ts " << fd.ts.ns << " frames";
    for (const FrameRef& fr : fd.frames) o << ' ' << fr.input << ':' << fr.frame_no;
    o << " | " << fd.message << " |";
    for (const auto& [name, v] : fd.evidence) o << ' ' << name << '=' << text_of(v);
    o << '\n';
  }
  return o.str();
}

}  // namespace lastack::test
