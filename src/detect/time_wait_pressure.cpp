// time_wait_pressure: TIME_WAIT entries per holder and ephemeral ports in use per client→server
// pair over capture time, computed while the connections stream by (see the header for the rules).
//
// How it streams. Each connection becomes a few timed events: its port taken at its first packet,
// its TIME_WAIT beginning (the port moving from "open" to "TIME_WAIT"), its port or TIME_WAIT
// given back. A batch sweep would sort all of them and walk them per holder and per pair. Here
// they wait in a queue (EventQueue) until capture time is `max_lateness` past them — by then no
// earlier event can still arrive — and are then swept in the batch order: by time; at one instant
// ends before transfers before starts (intervals are half-open); then by connection id. What stays
// is a sweep state per holder and per pair, and a record per connection until its events are swept.
#include "lastack/detect/time_wait_pressure.h"

#include <algorithm>
#include <compare>
#include <cstring>
#include <map>
#include <optional>
#include <tuple>

#include "lastack/core/flat_index.h"
#include "lastack/core/huge_pages.h"
#include "lastack/tcp/four_tuple.h"
#include "time_wait_series.h"

namespace lastack::detect {

namespace {

namespace f = findings;
using f::Side;

constexpr std::int64_t kMaxSeriesSteps = 600;  // a plot's worth of points at most
constexpr std::uint32_t kNone = UINT32_MAX;

// What an event does. One event may do several things of the same rank for one connection.
enum : std::uint8_t {
  kPairStart = 1,    // rank +1: the pair's port is taken; a new connection for the pair's rate
  kHolderStart = 2,  // rank 0: a TIME_WAIT entry begins (count and rate of its holders)
  kPairTw = 4,       // rank 0: the pair's port moves from open to the client's TIME_WAIT
  kHolderEnd = 8,    // rank -1: the TIME_WAIT entry ends
  kPairEnd = 16,     // rank -1: the pair's port is free again
  kTwEnd = 32,       // these ends are the TIME_WAIT's: void once a later reuse moved them earlier
  kOpenEnd = 64,     // rank -1, finish() only: the pair's connections still open at the end
};

// The rank is the batch's change of the count: ends (-1) before transfers (0) before starts (+1)
// at one instant. A holder's starts rank 0 here, not +1: a holder has no transfers, so its
// events keep the batch order among themselves.
int rank_of(std::uint8_t mask) {
  if ((mask & kPairStart) != 0) return 1;
  if ((mask & (kHolderStart | kPairTw)) != 0) return 0;
  return -1;
}

struct Event {
  Timestamp t;
  std::uint64_t id = 0;   // the connection (0 for kOpenEnd)
  std::uint32_t rec = 0;  // its ConnRec (the pair for kOpenEnd)
  std::uint8_t mask = 0;
  std::int8_t rank = 0;  // rank_of(mask)
  std::uint8_t gen = 0;  // kTwEnd: the connection's generation when pushed
};

// The sweep order.
struct Key {
  Timestamp t;
  int rank = 0;
  std::uint64_t id = 0;
  auto operator<=>(const Key&) const = default;
};

Key key_of(const Event& e) {
  return {e.t, e.rank, e.id};
}

// The sweep order, spelt out because it runs a few dozen times per connection.
struct Earlier {
  bool operator()(const Event& a, const Event& b) const {
    if (a.t.ns != b.t.ns) return a.t.ns < b.t.ns;
    if (a.rank != b.rank) return a.rank < b.rank;
    return a.id < b.id;
  }
};

// The pending events, earliest first. They wait in buckets of one second of capture time, and a
// bucket is sorted when the sweep reaches it. The lateness window holds the events of minutes of
// capture (hundreds of thousands): as a binary heap, every pop walked ~18 levels of it, a cache
// miss each, and that was the judging thread's largest cost on long captures. Here an event is
// appended once and sorted once with its bucket, in cache.
class EventQueue {
 public:
  [[nodiscard]] bool empty() const { return size_ == 0; }
  [[nodiscard]] std::size_t size() const { return size_; }

  // The earliest event (not empty()).
  const Event& top() {
    Bucket& b = front();
    return b.v[b.head];
  }

  void push(const Event& e) {
    const auto [it, fresh] = buckets_.try_emplace(second_of(e.t));
    Bucket& b = it->second;
    if (fresh && !spare_.empty()) {
      b.v = std::move(spare_.back());
      spare_.pop_back();
    }
    ++size_;
    if (!b.sorted) {
      b.v.push_back(e);
      return;
    }
    // Into the bucket being swept (an event at or just after the frontier): in its place.
    b.v.insert(std::upper_bound(b.v.begin() + static_cast<std::ptrdiff_t>(b.head), b.v.end(), e,
                                Earlier{}),
               e);
  }

  void pop() {
    const auto it = buckets_.begin();
    Bucket& b = it->second;
    --size_;
    if (++b.head < b.v.size()) return;
    b.v.clear();
    spare_.push_back(std::move(b.v));
    buckets_.erase(it);
  }

  // Calls fn on every event, earliest first, in place (no copy of what may be every event of the
  // run), and leaves the queue empty; ahead(e) first sees each event kDrainAhead calls before
  // fn does (within its bucket), to prefetch what fn will touch. fn must not push.
  template <class Fn, class Ahead>
  void drain(Fn&& fn, Ahead&& ahead) {
    for (auto& [second, b] : buckets_) {
      sort(b);
      const std::size_t end = b.v.size();
      for (std::size_t i = b.head; i < end && i < b.head + kDrainAhead; ++i) ahead(b.v[i]);
      for (std::size_t i = b.head; i < end; ++i) {
        if (i + kDrainAhead < end) ahead(b.v[i + kDrainAhead]);
        fn(b.v[i]);
      }
    }
    buckets_.clear();
    spare_.clear();
    size_ = 0;
  }

 private:
  struct Bucket {
    std::vector<Event> v;  // v[head, end) are pending
    std::size_t head = 0;
    bool sorted = false;
  };

  static constexpr std::size_t kDrainAhead = 8;

  static std::int64_t second_of(Timestamp t) {
    return t.ns / kNsPerSec - (t.ns % kNsPerSec < 0 ? 1 : 0);  // floor: buckets keep time order
  }

  static void sort(Bucket& b) {
    if (b.sorted) return;
    std::sort(b.v.begin() + static_cast<std::ptrdiff_t>(b.head), b.v.end(), Earlier{});
    b.sorted = true;
  }

  Bucket& front() {
    Bucket& b = buckets_.begin()->second;
    sort(b);
    return b;
  }

  std::map<std::int64_t, Bucket> buckets_;
  std::vector<std::vector<Event>> spare_;  // emptied buckets' storage, for new ones
  std::size_t size_ = 0;
};

Event event_of(Timestamp t, std::uint64_t id, std::uint32_t rec, std::uint8_t mask,
               std::uint8_t gen) {
  return Event{t, id, rec, mask, static_cast<std::int8_t>(rank_of(mask)), gen};
}

// A four-tuple either way round (the next incarnation may have its client on the other end).
tcp::FourTuple tuple_of(const ConnectionStart& s) {
  tcp::Dir dir;
  return tcp::FourTuple::from_packet(s.client_ip, s.client_port, s.server_ip, s.server_port, dir);
}

// Word-wise hashing as tcp::FourTupleHash: lookups run a few times per connection.
std::uint64_t mix(std::uint64_t h, std::uint64_t v) {
  h ^= v;
  h *= 0x9E3779B97F4A7C15ULL;
  return h ^ (h >> 32);
}

std::uint64_t mix_ip(std::uint64_t h, const IpAddress& ip) {
  std::uint64_t w[2];
  std::memcpy(w, ip.bytes.data(), 16);
  return mix(mix(h, w[0]), w[1]);
}

using HolderKey = std::pair<IpAddress, Side>;
using PairKey = std::tuple<IpAddress, IpAddress, std::uint16_t>;

PairKey pair_key(const ConnectionStart& s) {
  return {s.client_ip, s.server_ip, s.server_port};
}

struct KeyHash {
  std::size_t operator()(const HolderKey& k) const noexcept {
    return static_cast<std::size_t>(mix_ip(static_cast<std::uint64_t>(k.second), k.first));
  }
  std::size_t operator()(const PairKey& k) const noexcept {
    const std::uint64_t h = mix_ip(std::get<2>(k), std::get<0>(k));
    return static_cast<std::size_t>(mix_ip(h, std::get<1>(k)));
  }
};

struct IdHash {
  std::size_t operator()(std::uint64_t id) const noexcept { return mix(0x243F6A8885A308D3ULL, id); }
};

// Flat indexes, here and for the holders and pairs: each is looked up once or more per
// connection, and node maps cost a cache miss per node on the judging thread.
using LiveIndex = FlatIndex<std::uint64_t, IdHash>;  // connection id -> rec

// What a connection keeps as the last of its four-tuple, while the next incarnation could still
// matter: while it is live (the next one's start is its next_start), then while its TIME_WAIT
// could be cut.
struct TupleEntry {
  tcp::FourTuple key;
  bool live = true;
  Timestamp tw_start;  // once ended with a TIME_WAIT: the entry and the pair's transfer
  Timestamp tw_end;
  Timestamp pair_tw_start;
};

// What one connection's pending events need; freed once it ended and they are all swept.
struct ConnRec {
  std::uint64_t id = 0;
  FrameRef frame;                       // its first frame, for the peaks it reaches
  Timestamp first_ts;                   // as swept (later than the real one only if late)
  std::optional<Timestamp> next_start;  // the next incarnation began while this one was live
  std::uint32_t pair = kNone;
  std::uint32_t holder[2] = {kNone, kNone};  // as client, as server
  std::uint16_t refs = 0;                    // pending events, plus one until on_end
  std::uint8_t gen = 0;                      // bumped when a reuse voids its TIME_WAIT ends
  bool in_range = false;                     // its client port is in the range: counted in the pair
  bool rate = false;                         // SYN seen: counted in the pair's rate
  bool tw_holder[2] = {false, false};        // the roles holding its TIME_WAIT
  bool holder_count = false;                 // a non-empty entry: +1/-1 on those holders
  bool pair_tw = false;                      // the client's TIME_WAIT holds the pair's port
  bool start_swept = false;
  bool end_swept = false;
  bool owns_tuple = false;  // the four-tuple's index entry is this connection
  TupleEntry tuple;         // valid while owns_tuple
};

// The four-tuple index (four-tuple -> the rec that owns it) reads its keys from the owners'
// records: its slots stay 8 bytes, and it is probed once or twice per connection.
struct OwnerTuple {
  const HugeVector<ConnRec>* recs = nullptr;
  const tcp::FourTuple& operator()(std::uint32_t i) const { return (*recs)[i].tuple.key; }
};
using TupleIndex = FlatIndex<tcp::FourTuple, tcp::FourTupleHash, OwnerTuple>;

// The running count of one holder or pair.
struct Sweep {
  std::int64_t total = 0;
  std::int64_t tw = 0;
  tw::SeriesBuilder series;
};

// Starts within the last second, for the sliding rate.
struct Rate {
  std::vector<std::int64_t> window;
  std::size_t head = 0;
};

struct HolderState {
  f::TimeWaitHolder h;
  Sweep sweep;
  Rate rate;
  bool mid_stream = false;
};

struct PairState {
  f::TimeWaitPair p;
  Sweep sweep;
  Rate rate;
  bool mid_stream = false;
  std::uint64_t open_at_end = 0;  // in range, still open: count until the capture end
};

bool holds_tw(Side holder, Side role) {
  return holder == role || holder == Side::both;
}

f::PeakAt peak_of(std::uint64_t value, Timestamp ts, const ConnRec& c) {
  f::PeakAt p;
  p.value = value;
  p.ts = ts;
  p.frame = c.frame;
  p.connection_id = c.id;
  return p;
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

bool lower_bound_of(const f::PeakAt& peak, bool mid_stream, Timestamp capture_start, Duration tw) {
  if (mid_stream || !peak.ts) return true;
  return (*peak.ts - capture_start) < tw;
}

// Most starts within one second, sliding: the starts in (t - 1 s, t] at each start t.
void add_start(Rate& r, f::PeakAt& best, Timestamp t, const ConnRec& c) {
  const std::int64_t gone = (t + Duration{-kNsPerSec}).ns;
  while (r.head < r.window.size() && r.window[r.head] <= gone) ++r.head;
  if (r.head == r.window.size()) {
    r.window.clear();
    r.head = 0;
  } else if (r.head > 64 && r.head * 2 > r.window.size()) {  // amortised: drop the gone half
    r.window.erase(r.window.begin(), r.window.begin() + static_cast<std::ptrdiff_t>(r.head));
    r.head = 0;
  }
  r.window.push_back(t.ns);
  const std::uint64_t n = r.window.size() - r.head;
  if (n > best.value) best = peak_of(n, t, c);
}

}  // namespace

ConnectionStart start_of(const f::ConnectionSummary& c) {
  ConnectionStart s;
  s.id = c.id;
  s.client_ip = c.client_ip;
  s.server_ip = c.server_ip;
  s.client_port = c.client_port;
  s.server_port = c.server_port;
  s.first_ts = c.first_ts;
  s.mid_stream = c.mid_stream;
  s.input = c.input;
  s.first_frame = c.first_frame;
  s.incarnation = c.incarnation;
  return s;
}

struct TimeWaitAccumulator::Impl {
  f::Settings settings;
  Duration lateness;
  std::optional<Timestamp> origin;  // the series grid: the first time given
  std::optional<Timestamp> now;
  std::optional<Timestamp> min_first;  // of all connections: with the inputs, the capture
  std::optional<Timestamp> max_last;
  std::uint64_t connections = 0;
  std::optional<Timestamp> capture_end;  // set by finish(): series close there
  std::optional<Key> frontier;           // the last event swept
  std::uint64_t late = 0;

  FlatIndex<HolderKey, KeyHash> holder_index;  // -> holders
  std::vector<HolderState> holders;
  FlatIndex<PairKey, KeyHash> pair_index;  // -> pairs
  std::vector<PairState> pairs;
  HugeVector<ConnRec> recs;
  std::vector<std::uint32_t> free_recs;
  std::size_t recs_in_use = 0;
  LiveIndex live;  // until on_end
  TupleIndex tuples{OwnerTuple{&recs}};
  EventQueue events;  // not swept yet

  Impl(const f::Settings& s, Duration l) : settings(s), lateness(l.ns > 0 ? l : Duration{}) {}

  void note_time(Timestamp t) {
    if (!origin) origin = t;
  }

  // An event older than what was swept cannot take its place in the order any more: it is
  // moved just after the last swept event (counted: the caller broke the lateness bound).
  Timestamp not_before_frontier(Timestamp t, int rank, std::uint64_t id) {
    if (!frontier || Key{t, rank, id} > *frontier) return t;
    ++late;
    return frontier->t + Duration{1};
  }

  std::uint32_t holder_of(const IpAddress& ip, Side role, bool mid_stream) {
    const auto [k, fresh] =
        holder_index.try_emplace({ip, role}, static_cast<std::uint32_t>(holders.size()));
    if (fresh) {
      holders.emplace_back();
      holders.back().h.ip = ip;
      holders.back().h.role = role;
    }
    HolderState& h = holders[k];
    ++h.h.connections;
    h.mid_stream = h.mid_stream || mid_stream;
    return k;
  }

  std::uint32_t pair_of(const ConnectionStart& s) {
    const auto [k, fresh] =
        pair_index.try_emplace(pair_key(s), static_cast<std::uint32_t>(pairs.size()));
    if (fresh) {
      pairs.emplace_back();
      pairs.back().p.client_ip = s.client_ip;
      pairs.back().p.server_ip = s.server_ip;
      pairs.back().p.server_port = s.server_port;
    }
    PairState& p = pairs[k];
    ++p.p.connections;
    p.mid_stream = p.mid_stream || s.mid_stream;
    return k;
  }

  std::uint32_t alloc_rec() {
    ++recs_in_use;
    if (!free_recs.empty()) {
      const std::uint32_t i = free_recs.back();
      free_recs.pop_back();
      return i;
    }
    recs.emplace_back();
    return static_cast<std::uint32_t>(recs.size() - 1);
  }

  void drop_tuple(ConnRec& r) {
    tuples.erase(r.tuple.key);
    r.owns_tuple = false;
  }

  // One reference fewer; the last frees the record (and the four-tuple entry it owns: with no
  // event of it left to move, a later reuse has nothing to cut).
  void release(std::uint32_t i) {
    ConnRec& r = recs[i];
    if (--r.refs > 0) return;
    if (r.owns_tuple) drop_tuple(r);
    r = ConnRec{};
    free_recs.push_back(i);
    --recs_in_use;
  }

  void push(std::uint32_t i, Timestamp t, std::uint8_t mask) {
    ConnRec& r = recs[i];
    ++r.refs;
    events.push(event_of(t, r.id, i, mask, r.gen));
  }

  // Two things of one rank: one event when they fall at the same instant.
  void push_two(std::uint32_t i, Timestamp t1, std::uint8_t m1, Timestamp t2, std::uint8_t m2) {
    if (m1 != 0 && m2 != 0 && t1 == t2) return push(i, t1, m1 | m2);
    if (m1 != 0) push(i, t1, m1);
    if (m2 != 0) push(i, t2, m2);
  }

  void push_tw_ends(std::uint32_t i, Timestamp holder_end, Timestamp pair_end) {
    const ConnRec& r = recs[i];
    push_two(i, holder_end, r.holder_count ? kHolderEnd | kTwEnd : 0, pair_end,
             r.pair_tw ? kPairEnd | kTwEnd : 0);
  }

  // The four-tuple's next incarnation started: the previous one learns its next start (live)
  // or has its TIME_WAIT cut short (ended), as the batch rule in time_wait_interval().
  void link_tuple(const ConnectionStart& s, std::uint32_t i) {
    recs[i].tuple = TupleEntry{tuple_of(s), true, {}, {}, {}};  // the index's key from here on
    recs[i].owns_tuple = true;
    const std::uint32_t owner = tuples.exchange(recs[i].tuple.key, i);
    if (owner != TupleIndex::kEmpty) {
      ConnRec& prev = recs[owner];
      prev.owns_tuple = false;
      if (prev.tuple.live) {
        prev.next_start = s.first_ts;
      } else {
        cut(owner, s.first_ts);
      }
    }
  }

  void cut(std::uint32_t i, Timestamp next) {
    ConnRec& r = recs[i];
    TupleEntry& e = r.tuple;
    if (next < e.tw_start || next >= e.tw_end) return;  // the rule's min() changes nothing
    if (r.end_swept) {  // only for a start older than the swept frontier
      ++late;
      return;
    }
    ++r.gen;  // the ends pushed at the old end are void
    const Timestamp end = std::max(not_before_frontier(next, -1, r.id), e.tw_start);
    if (end == e.tw_start && !r.start_swept) r.holder_count = false;  // empty now, as in batch
    e.tw_end = end;
    push_tw_ends(i, end, std::max(end, e.pair_tw_start));
  }

  void on_start(const ConnectionStart& s) {
    note_time(s.first_ts);
    ++connections;
    if (!min_first || s.first_ts < *min_first) min_first = s.first_ts;
    const std::uint32_t i = alloc_rec();
    const std::uint32_t client = holder_of(s.client_ip, Side::client, s.mid_stream);
    const std::uint32_t server = holder_of(s.server_ip, Side::server, s.mid_stream);
    const std::uint32_t pair = pair_of(s);
    ConnRec& r = recs[i];
    r.refs = 1;
    r.id = s.id;
    r.frame = FrameRef{s.input, s.first_frame};
    r.holder[0] = client;
    r.holder[1] = server;
    r.pair = pair;
    r.in_range = s.client_port >= settings.port_range_lo && s.client_port <= settings.port_range_hi;
    if (!r.in_range) ++pairs[pair].p.outside_range;  // counted, not swept
    r.rate = !s.mid_stream;
    r.first_ts = not_before_frontier(s.first_ts, 1, s.id);
    live.exchange(s.id, i);
    link_tuple(s, i);
    if (r.in_range || r.rate) push(i, recs[i].first_ts, kPairStart);
  }

  void count_closes(const f::ConnectionSummary& c, const ConnRec& r) {
    for (int k = 0; k < 2; ++k) {
      f::TimeWaitHolder& h = holders[r.holder[k]].h;
      if (c.active_closer != Side::none) ++h.closed;
      if (holds_tw(c.active_closer, k == 0 ? Side::client : Side::server)) ++h.active_closes;
    }
  }

  // The TIME_WAIT entry of an ended connection: its holders' +1/-1 and rate, and the pair's
  // transfer and end when the client holds it for a port in range.
  void schedule_time_wait(const f::ConnectionSummary& c, std::uint32_t i, const Interval& iv) {
    ConnRec& r = recs[i];
    for (int k = 0; k < 2; ++k) {
      r.tw_holder[k] = holds_tw(c.time_wait_holder, k == 0 ? Side::client : Side::server);
      if (r.tw_holder[k]) ++holders[r.holder[k]].h.entries;
    }
    const Timestamp start = not_before_frontier(iv.start, 0, r.id);
    const Timestamp end = not_before_frontier(iv.end, -1, r.id);
    r.holder_count = end > start;  // an empty entry counts for the rate, not in the sweep
    r.pair_tw = r.tw_holder[0] && r.in_range;
    Timestamp pair_start = start;
    Timestamp pair_end = end;
    if (r.pair_tw) {
      ++pairs[r.pair].p.time_wait_entries;
      const Timestamp real_start = std::max(iv.start, r.first_ts);
      pair_start = not_before_frontier(real_start, 0, r.id);
      pair_end = std::max(not_before_frontier(std::max(iv.end, real_start), -1, r.id), pair_start);
    }
    push_two(i, start, kHolderStart, pair_start, r.pair_tw ? kPairTw : 0);
    push_tw_ends(i, end, pair_end);
    if (r.owns_tuple && end > start) {  // a later reuse could still cut it
      TupleEntry& e = r.tuple;
      e.live = false;
      e.tw_start = start;
      e.tw_end = end;
      e.pair_tw_start = pair_start;
    }
  }

  void on_end(const f::ConnectionSummary& c) {
    if (!max_last || c.last_ts > *max_last) max_last = c.last_ts;
    const std::uint32_t* found = live.find(c.id);
    if (found == nullptr) {  // never started: take its start from the summary
      on_start(start_of(c));
      found = live.find(c.id);
    }
    const std::uint32_t i = *found;
    live.erase(c.id);
    count_closes(c, recs[i]);
    const std::optional<Interval> iv =
        time_wait_interval(c, recs[i].next_start, settings.time_wait);
    if (iv) schedule_time_wait(c, i, *iv);
    ConnRec& r = recs[i];
    if (r.in_range && !r.pair_tw) {
      const bool open =
          c.close_kind == f::CloseKind::open_at_end || c.close_kind == f::CloseKind::half_closed;
      if (open) {
        ++pairs[r.pair].open_at_end;  // one event for all of them at finish()
      } else {
        push(i, not_before_frontier(std::max(c.last_ts, r.first_ts), -1, r.id), kPairEnd);
      }
    }
    if (r.owns_tuple && r.tuple.live) drop_tuple(r);  // no TIME_WAIT to cut
    release(i);
  }

  void step(Sweep& s, f::PeakAt& peak, std::uint64_t* tw_at_peak, Timestamp t, std::int64_t d_total,
            std::int64_t d_tw, const ConnRec* c) {
    if (s.series.open()) {
      // Only ends lie beyond the capture: the series stops where the capture does.
      if (capture_end && t > *capture_end) {
        s.series.close(*capture_end, *origin, s.total);
      } else {
        s.series.before(t, *origin, s.total);
      }
    }
    s.total += d_total;
    s.tw += d_tw;
    if (s.series.open()) s.series.after(s.total);
    if (c != nullptr && s.total > 0 && static_cast<std::uint64_t>(s.total) > peak.value) {
      peak = peak_of(static_cast<std::uint64_t>(s.total), t, *c);
      if (tw_at_peak != nullptr) *tw_at_peak = static_cast<std::uint64_t>(s.tw);
    }
  }

  void step_pair(ConnRec& r, Timestamp t, std::int64_t d_total, std::int64_t d_tw) {
    PairState& p = pairs[r.pair];
    step(p.sweep, p.p.peak, &p.p.time_wait_at_peak, t, d_total, d_tw, &r);
  }

  void step_holders(ConnRec& r, Timestamp t, std::int64_t d_total) {
    for (int k = 0; k < 2; ++k) {
      if (!r.tw_holder[k]) continue;
      HolderState& h = holders[r.holder[k]];
      step(h.sweep, h.h.peak, nullptr, t, d_total, 0, &r);
    }
  }

  void apply(const Event& e, ConnRec& r) {
    if ((e.mask & kPairStart) != 0) {
      PairState& p = pairs[r.pair];
      if (r.in_range) step_pair(r, e.t, +1, 0);
      if (r.rate) add_start(p.rate, p.p.peak_rate, e.t, r);
    }
    if ((e.mask & kHolderStart) != 0) {
      for (int k = 0; k < 2; ++k) {
        if (!r.tw_holder[k]) continue;
        HolderState& h = holders[r.holder[k]];
        add_start(h.rate, h.h.peak_rate, e.t, r);
      }
      if (r.holder_count) step_holders(r, e.t, +1);
      r.start_swept = true;
    }
    if ((e.mask & kPairTw) != 0) step_pair(r, e.t, 0, +1);
    if ((e.mask & kHolderEnd) != 0) step_holders(r, e.t, -1);
    if ((e.mask & kPairEnd) != 0) step_pair(r, e.t, -1, r.pair_tw ? -1 : 0);
    if ((e.mask & kTwEnd) != 0) r.end_swept = true;
  }

  void sweep_one() {
    const Event e = events.top();
    events.pop();
    sweep(e);
  }

  void sweep(const Event& e) {
    if (apply_event(e)) release(e.rec);
  }

  // Applies one event; false for a pair's kOpenEnd, which has no record.
  bool apply_event(const Event& e) {
    frontier = key_of(e);
    if ((e.mask & kOpenEnd) != 0) {
      PairState& p = pairs[e.rec];
      step(p.sweep, p.p.peak, &p.p.time_wait_at_peak, e.t,
           -static_cast<std::int64_t>(p.open_at_end), 0, nullptr);
      return false;
    }
    ConnRec& r = recs[e.rec];
    if ((e.mask & kTwEnd) == 0 || e.gen == r.gen) apply(e, r);
    return true;
  }

  void advance(Timestamp t, Timestamp hold) {
    note_time(t);
    if (!now || t > *now) now = t;
    if (!max_last) return;  // nothing ended: every event could still have one before it
    // No event can come before now - lateness or the caller's hold any more; nor beyond the last
    // packet of an ended connection, which the capture end is at least (the series must not
    // pass the capture end).
    const Timestamp w = std::min({*now + Duration{-lateness.ns}, hold, *max_last + Duration{1}});
    while (!events.empty() && events.top().t < w) sweep_one();
  }

  // At the end no start can come to cut a TIME_WAIT short, so the four-tuple index goes at once
  // (not entry by entry as records are freed), and the events left are swept in one sorted pass:
  // for a capture shorter than the lateness window that is every event of the run (at 1M
  // packets of the benchmark capture, ~200k events, in the run's serial end). Their records are
  // not released one by one (release_connections() drops them all next), and each event's
  // record, written minutes of capture earlier and out of the cache, is prefetched a few events
  // ahead.
  void sweep_rest() {
    tuples.for_each(
        [&](const tcp::FourTuple&, std::uint32_t owner) { recs[owner].owns_tuple = false; });
    tuples.clear();
    events.drain([&](const Event& e) { apply_event(e); },  // pushes nothing
                 [&](const Event& e) {
                   if ((e.mask & kOpenEnd) == 0) lastack::prefetch(&recs[e.rec]);
                 });
  }

  // Everything swept: what was kept per connection goes before the report's sections are made
  // (the end of a run is when its memory peaks).
  void release_connections() {
    recs = {};
    free_recs = {};
    recs_in_use = 0;
    live = LiveIndex{};
    tuples = TupleIndex{OwnerTuple{&recs}};
  }

  f::TimeWaitPressure finish(const std::vector<f::InputReport>& inputs,
                             std::vector<f::Finding>& out);
};

namespace {

struct Frame {
  Timestamp capture_start;
  Timestamp capture_end;
  std::int64_t step_s = 1;
};

Frame frame_of(std::optional<Timestamp> lo, std::optional<Timestamp> hi,
               const std::vector<f::InputReport>& inputs) {
  auto widen = [&](Timestamp a, Timestamp b) {
    if (!lo || a < *lo) lo = a;
    if (!hi || b > *hi) hi = b;
  };
  for (const f::InputReport& in : inputs) {
    if (in.first_ts && in.last_ts) widen(*in.first_ts, *in.last_ts);
  }
  Frame fr;
  fr.capture_start = lo.value_or(Timestamp{});
  fr.capture_end = hi.value_or(fr.capture_start);
  // Rounded up without adding first: the span of a hostile capture can fill the int64 range.
  const std::int64_t span_ns = (fr.capture_end - fr.capture_start).ns;
  const std::int64_t span_s = span_ns / kNsPerSec + (span_ns % kNsPerSec > 0 ? 1 : 0);
  fr.step_s = std::max<std::int64_t>(1, (span_s + kMaxSeriesSteps - 1) / kMaxSeriesSteps);
  return fr;
}

void sort_sections(f::TimeWaitPressure& tw) {
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
}

}  // namespace

f::TimeWaitPressure TimeWaitAccumulator::Impl::finish(const std::vector<f::InputReport>& inputs,
                                                      std::vector<f::Finding>& out) {
  f::TimeWaitPressure tw;
  tw.time_wait = settings.time_wait;
  tw.port_lo = settings.port_range_lo;
  tw.port_hi = settings.port_range_hi;
  tw.server_peak_warn = settings.server_tw_peak;
  const Frame fr = frame_of(min_first, max_last, inputs);
  if (connections != 0 || !inputs.empty()) {
    tw.capture_start = fr.capture_start;
    tw.capture_end = fr.capture_end;
  }
  if (!origin) origin = fr.capture_start;
  capture_end = fr.capture_end;
  // Still open at the end: counted until just after it, so in every step of the series.
  const Timestamp still_open = fr.capture_end + Duration{1};
  for (std::uint32_t k = 0; k < pairs.size(); ++k) {
    if (pairs[k].open_at_end != 0) events.push(event_of(still_open, 0, k, kOpenEnd, 0));
  }
  sweep_rest();
  release_connections();

  // One step for every series: the batch step, rounded up to a multiple of every series' own.
  std::int64_t finest = 1;
  for (HolderState& h : holders) {
    h.sweep.series.close(fr.capture_end, *origin, h.sweep.total);
    finest = std::max(finest, h.sweep.series.step_s());
  }
  for (PairState& p : pairs) {
    p.sweep.series.close(fr.capture_end, *origin, p.sweep.total);
    finest = std::max(finest, p.sweep.series.step_s());
  }
  tw.series_step_s = (fr.step_s + finest - 1) / finest * finest;
  const std::int64_t lead_ns = (*origin - fr.capture_start).ns;

  for (HolderState& h : holders) {
    if (h.h.entries == 0) continue;
    h.h.series = h.sweep.series.result(tw.series_step_s, lead_ns);
    h.sweep.series = tw::SeriesBuilder{};  // its points are the report's now
    h.h.lower_bound = lower_bound_of(h.h.peak, h.mid_stream, fr.capture_start, tw.time_wait);
    tw.holders.push_back(std::move(h.h));
  }
  for (PairState& p : pairs) {
    p.p.series = p.sweep.series.result(tw.series_step_s, lead_ns);
    p.sweep.series = tw::SeriesBuilder{};
    p.p.lower_bound = lower_bound_of(p.p.peak, p.mid_stream, fr.capture_start, tw.time_wait);
    tw.pairs.push_back(std::move(p.p));
  }
  sort_sections(tw);
  append_time_wait_findings(tw, out);
  tw.late_events = late;
  return tw;
}

TimeWaitAccumulator::TimeWaitAccumulator(const f::Settings& settings, Duration max_lateness)
    : impl_(std::make_unique<Impl>(settings, max_lateness)) {}
TimeWaitAccumulator::~TimeWaitAccumulator() = default;
TimeWaitAccumulator::TimeWaitAccumulator(TimeWaitAccumulator&&) noexcept = default;
TimeWaitAccumulator& TimeWaitAccumulator::operator=(TimeWaitAccumulator&&) noexcept = default;

// The four-tuple index outgrows the cache when many connections are within the lateness window:
// its lookup in on_start was the judging thread's main cache miss.
void TimeWaitAccumulator::prefetch_start(const ConnectionStart& s) const {
  impl_->tuples.prefetch(tuple_of(s));
  impl_->live.prefetch(s.id);
  impl_->pair_index.prefetch(pair_key(s));
  impl_->holder_index.prefetch({s.client_ip, Side::client});
  impl_->holder_index.prefetch({s.server_ip, Side::server});
}

// The pair's and the holders' records: between two starts the judging thread walks connections
// and facts enough to push them out of the cache, and counting a start in them was a quarter of
// on_start's time (perf annotate, 1M-packet benchmark capture).
void TimeWaitAccumulator::prefetch_start_records(const ConnectionStart& s) const {
  if (const std::uint32_t* k = impl_->pair_index.find(pair_key(s)))
    lastack::prefetch(&impl_->pairs[*k].p.connections);
  if (const std::uint32_t* k = impl_->holder_index.find({s.client_ip, Side::client}))
    lastack::prefetch(&impl_->holders[*k].h.connections);
  if (const std::uint32_t* k = impl_->holder_index.find({s.server_ip, Side::server}))
    lastack::prefetch(&impl_->holders[*k].h.connections);
}

void TimeWaitAccumulator::prefetch_end(std::uint64_t id) const {
  impl_->live.prefetch(id);
}

// A record is written at a connection's start and read again at its end, seconds of capture
// (thousands of connections) later: by then it has left the cache.
void TimeWaitAccumulator::prefetch_record(std::uint64_t id) const {
  if (const std::uint32_t* i = impl_->live.find(id)) {
    lastack::prefetch(&impl_->recs[*i]);
    lastack::prefetch(&impl_->recs[*i].tuple);
  }
}

void TimeWaitAccumulator::on_start(const ConnectionStart& s) {
  impl_->on_start(s);
}
void TimeWaitAccumulator::on_end(const f::ConnectionSummary& c) {
  impl_->on_end(c);
}
void TimeWaitAccumulator::advance(Timestamp now, Timestamp hold) {
  impl_->advance(now, hold);
}
f::TimeWaitPressure TimeWaitAccumulator::finish(const std::vector<f::InputReport>& inputs,
                                                std::vector<f::Finding>& out) {
  return impl_->finish(inputs, out);
}
std::size_t TimeWaitAccumulator::pending_events() const {
  return impl_->events.size();
}
std::size_t TimeWaitAccumulator::tracked_connections() const {
  return impl_->recs_in_use;
}
std::size_t TimeWaitAccumulator::tracked_tuples() const {
  return impl_->tuples.size();
}
std::uint64_t TimeWaitAccumulator::late_events() const {
  return impl_->late;
}

// Batch: the connections in id order, each started then ended, swept at finish().
f::TimeWaitPressure compute_time_wait_pressure(const std::vector<f::ConnectionSummary>& connections,
                                               const std::vector<f::InputReport>& inputs,
                                               const f::Settings& settings,
                                               std::vector<f::Finding>& out) {
  std::vector<const f::ConnectionSummary*> conns;
  conns.reserve(connections.size());
  for (const f::ConnectionSummary& c : connections) conns.push_back(&c);
  std::sort(conns.begin(), conns.end(), [](const auto* a, const auto* b) { return a->id < b->id; });
  std::optional<Timestamp> first;
  for (const f::ConnectionSummary* c : conns) {
    if (!first || c->first_ts < *first) first = c->first_ts;
  }
  TimeWaitAccumulator acc(settings, Duration{});
  acc.advance(frame_of(first, std::nullopt, inputs).capture_start);  // anchors the series grid
  for (const f::ConnectionSummary* c : conns) acc.on_start(start_of(*c));
  for (const f::ConnectionSummary* c : conns) acc.on_end(*c);
  return acc.finish(inputs, out);
}

void analyze_time_wait_pressure(f::Report& report) {
  report.time_wait = compute_time_wait_pressure(report.connections, report.inputs, report.settings,
                                                report.findings);
}

}  // namespace lastack::detect
