// Benchmark traffic (see bench_traffic.h). Every connection group is scripted with
// Conversation (so sequence numbers, acks, timestamps and IP ids come out right), then its packets
// wait in a small priority queue until capture time reaches them and are written at once.
#include "lastack/synth/bench_traffic.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdio>
#include <deque>
#include <map>
#include <memory>
#include <queue>
#include <utility>

#include "lastack/decode/decoded_packet.h"
#include "lastack/synth/conversation.h"
#include "synth/capture_stream.h"

namespace lastack::synth {
namespace {

using detail::Rng;
using detail::StreamWriter;

namespace flag = decode::tcp_flag;

constexpr std::int64_t kMs = 1'000'000;
constexpr std::int64_t kUs = 1'000;
// A four-tuple is reused by clean traffic only this long after its last packet: beyond 2MSL
// (60 s) plus lastack's 1 s expiry scan, so the old incarnation is gone.
constexpr Duration kPortCooldown = Duration::from_s(75);
// A group that ends open (unanswered FIN) keeps its flow until lastack's idle timeout.
constexpr Duration kOpenCooldown = Duration::from_s(320);
constexpr std::uint32_t kMss = 1448;  // 1460 minus the timestamps option

Emit lost_if(bool lost) {
  Emit e;
  e.lost = lost;
  return e;
}
Emit with_seq(std::uint32_t seq) {
  Emit e;
  e.seq = seq;
  return e;
}
Emit with_ack(std::uint32_t ack) {
  Emit e;
  e.ack = ack;
  return e;
}

Duration us(std::int64_t v) {
  return Duration{v * kUs};
}
Duration ms(std::int64_t v) {
  return Duration{v * kMs};
}

IpAddress ip(const std::string& text) {
  IpAddress a;
  parse_ip(text, a);
  return a;
}

struct Client {
  IpAddress addr;
  Duration rtt;
  bool timestamps = true;
  std::uint16_t port_lo = 32768;  // Linux ip_local_port_range
  std::uint32_t port_count = 28232;
  int only_server = -1;  // heavy clients (proxies) talk to one backend
};

struct Server {
  IpAddress addr;
  std::uint16_t port = 443;
};

// The ephemeral ports one client uses toward one server: a counter through the range, as Linux
// walks it; ports still in use or cooling down are skipped. `busy` holds the ports handed out
// recently in order, so the next counter port is free exactly when busy has room.
struct PortPool {
  std::uint32_t next = 0;
  std::deque<std::pair<std::uint16_t, std::int64_t>> busy;  // port, free again at (ns)
  std::uint64_t handed_out = 0;
};

// Which kind of script a group runs.
enum class Script : std::uint8_t {
  clean_short,
  clean_long,
  lost_final_ack,      // final ACK lost, passive closer re-sends FIN, re-ACKed from TIME_WAIT
  lost_final_ack_rst,  // ... and answered with RST (no TIME_WAIT)
  fin_not_acked,       // server's FIN lost after the capture point, re-sent
  fin_unanswered,      // FIN re-sent to a dead peer
  data_after_close,    // server sends data after the client closed: RST
  orphan_rst,          // client keeps no FIN_WAIT_2/TIME_WAIT: RST answers the server's FIN
  linger_zero,         // RST instead of FIN, nothing outstanding
  unread_data,         // RST instead of FIN with unread data
  reuse_safe,          // reopened within 2MSL, new ISN and TSval beyond the old
  reuse_unsafe,        // reopened within 2MSL, no timestamps, ISN below the old
  reuse_after_reset,   // old one ended by RST, reopened within 2MSL
  syn_in_last_ack,     // SYN meets the peer in LAST_ACK
  stale_segment,       // an old data segment lands in the new incarnation
  count_
};

struct ScriptInfo {
  const char* name;
  const char* kind;
  const char* cause;
  std::vector<std::string> also;
  std::uint32_t incarnation;
  double weight;  // relative frequency among anomalies
};

const ScriptInfo& info_of(Script s) {
  // One script per row.
  // clang-format off
  static const std::array<ScriptInfo, static_cast<std::size_t>(Script::count_)> table{{
      {"clean_short", "", "", {}, 1, 0},
      {"clean_long", "", "", {}, 1, 0},
      {"lost_final_ack", "lost_final_ack", "reacked", {"fin_retransmit"}, 1, 3},
      {"lost_final_ack_rst", "lost_final_ack", "reset", {"rst_after_close", "fin_retransmit"}, 1, 1},
      {"fin_not_acked", "fin_retransmit", "fin_not_acknowledged", {}, 1, 1.5},
      {"fin_unanswered", "fin_retransmit", "unanswered", {}, 1, 0.5},
      {"data_after_close", "rst_after_close", "data_after_close", {}, 1, 1},
      {"orphan_rst", "rst_after_close", "no_time_wait", {}, 1, 1},
      {"linger_zero", "abortive_close", "linger_zero", {}, 1, 1.5},
      {"unread_data", "abortive_close", "unread_data", {}, 1, 1},
      {"reuse_safe", "tuple_reuse", "rfc6191_safe", {}, 2, 2},
      {"reuse_unsafe", "tuple_reuse", "unsafe", {}, 2, 0.7},
      {"reuse_after_reset", "tuple_reuse", "after_reset", {"abortive_close"}, 2, 0.5},
      {"syn_in_last_ack", "tuple_reuse", "while_last_ack", {"lost_final_ack", "rst_after_close"}, 2, 0.5},
      {"stale_segment", "stale_segment", "stale_data", {"tuple_reuse"}, 2, 0.8},
  }};
  // clang-format on
  return table[static_cast<std::size_t>(s)];
}

// One connection group waiting to be written: its packets in time order and a cursor.
struct Group {
  std::vector<SynthPacket> packets;
  std::size_t next = 0;
};

class Generator {
 public:
  Generator(const BenchConfig& cfg, BenchTruth& truth) : cfg_(cfg), truth_(truth), rng_(cfg.seed) {
    build_hosts();
    double total = 0;
    for (std::size_t i = 2; i < static_cast<std::size_t>(Script::count_); ++i) {
      total += info_of(static_cast<Script>(i)).weight;
    }
    anomaly_weight_total_ = total;
  }

  Status run(const std::string& path) {
    if (!out_.open(path, cfg_.pcapng)) {
      return make_error(ErrorCode::io, "cannot open " + path + " for writing");
    }
    truth_ = BenchTruth{};
    truth_.seed = cfg_.seed;
    Timestamp next_arrival = cfg_.start;
    std::uint64_t scheduled = 0;
    bool arrivals = true;
    while (arrivals || !active_.empty()) {
      if (arrivals && (active_.empty() || next_arrival <= active_.top().ts)) {
        scheduled += start_group(next_arrival);
        next_arrival =
            next_arrival +
            Duration{static_cast<std::int64_t>(rng_.exponential(1e9 / cfg_.connections_per_s))};
        if (scheduled >= cfg_.packets) arrivals = false;
        continue;
      }
      const Pending top = active_.top();
      active_.pop();
      Group& g = *groups_[top.slot];
      const SynthPacket& p = g.packets[g.next++];
      if (truth_.packets == 0) truth_.first_ts = Timestamp{p.ts.ns / kUs * kUs};
      truth_.last_ts = Timestamp{p.ts.ns / kUs * kUs};
      out_.write(p);
      ++truth_.packets;
      if (g.next < g.packets.size()) {
        active_.push(Pending{g.packets[g.next].ts, top.order, top.slot});
      } else {
        groups_[top.slot].reset();
        free_slots_.push_back(top.slot);
      }
    }
    if (!out_.close(truth_.bytes)) return make_error(ErrorCode::io, "cannot write " + path);
    return {};
  }

 private:
  struct Pending {
    Timestamp ts;
    std::uint64_t order;  // ties: the group started first goes first
    std::size_t slot;
    bool operator>(const Pending& o) const { return ts != o.ts ? ts > o.ts : order > o.order; }
  };

  void build_hosts() {
    // Servers: six IPv4 services, two IPv6.
    const std::uint16_t ports[] = {443, 80, 8080, 443, 5432, 6379};
    for (int i = 0; i < 6; ++i)
      servers_.push_back({ip("10.20.0." + std::to_string(i + 1)), ports[i]});
    for (int i = 0; i < 2; ++i) servers_.push_back({ip("fd00:20::" + std::to_string(i + 1)), 443});
    // Clients: four heavy IPv4 proxies with a narrow port range (ports cycle within minutes),
    // one heavy IPv6 one, and many ordinary hosts with the Linux default range.
    for (int i = 0; i < 4; ++i) {
      Client c{ip("10.9.0." + std::to_string(i + 1)),
               us(rng_.range(200, 2000)),
               i != 3,
               static_cast<std::uint16_t>(40000 + 3000 * i),
               2500,
               i};
      clients4_.push_back(c);
    }
    for (int i = 0; i < 120; ++i) {
      Client c{ip("10.1." + std::to_string(i / 200) + "." + std::to_string(i % 200 + 10)),
               us(rng_.range(1000, 80000)), rng_.chance(0.85)};
      clients4_.push_back(c);
    }
    clients6_.push_back(Client{ip("fd00:9::1"), us(500), true, 45000, 2500, 6});
    for (int i = 0; i < 30; ++i) {
      Client c{ip("fd00:1::" + std::to_string(i + 16)), us(rng_.range(2000, 90000)),
               rng_.chance(0.9)};
      clients6_.push_back(c);
    }
  }

  // Picks a client and server and an ephemeral port free until `until` at time t.
  struct Endpoints {
    const Client* client;
    const Server* server;
    std::uint16_t port;
    PortPool* pool;
  };

  Endpoints pick(Timestamp t) {
    for (;;) {
      const bool v6 = rng_.chance(cfg_.ipv6_share);
      const std::vector<Client>& cs = v6 ? clients6_ : clients4_;
      // Heavy proxies get ~40% of the IPv4 connections and ~40% of IPv6 ones.
      const std::size_t heavy = v6 ? 1 : 4;
      const std::size_t ci =
          rng_.chance(0.4) ? rng_.below(heavy) : heavy + rng_.below(cs.size() - heavy);
      const Client& c = cs[ci];
      std::size_t si = 0;
      if (c.only_server >= 0)
        si = static_cast<std::size_t>(c.only_server);
      else if (v6)
        si = 6 + rng_.below(2);
      else
        si = rng_.below(6);
      const Server& s = servers_[si];
      PortPool& pool = pools_[{&c, si}];
      if (pool.handed_out == 0) pool.next = static_cast<std::uint32_t>(rng_.below(c.port_count));
      while (!pool.busy.empty() && pool.busy.front().second <= t.ns) pool.busy.pop_front();
      if (pool.busy.size() >= c.port_count) continue;  // exhausted: another client
      const auto port = static_cast<std::uint16_t>(c.port_lo + pool.next);
      pool.next = (pool.next + 1) % c.port_count;
      if (pool.handed_out++ >= c.port_count) ++truth_.port_reuses;
      return {&c, &s, port, &pool};
    }
  }

  // RFC 7323 timestamps run on a per-address-pair clock (Linux hashes the addresses), so
  // incarnations of one four-tuple continue the same clock.
  std::uint32_t ts_base(const IpAddress& a, const IpAddress& b, Timestamp at) const {
    std::uint64_t h = 1469598103934665603ULL;
    for (std::size_t i = 0; i < 16; ++i) h = (h ^ a.bytes[i]) * 1099511628211ULL;
    for (std::size_t i = 0; i < 16; ++i) h = (h ^ b.bytes[i]) * 1099511628211ULL;
    return static_cast<std::uint32_t>(h) + static_cast<std::uint32_t>((at - cfg_.start).ns / kMs);
  }

  std::pair<HostSpec, HostSpec> specs(const Endpoints& e, Timestamp at, bool ts) {
    HostSpec c;
    c.ip = e.client->addr;
    c.port = e.port;
    c.isn = rng_.u32();
    c.timestamps = ts;
    c.ts_start = ts_base(c.ip, e.server->addr, at);
    c.window = 64240;
    HostSpec s;
    s.ip = e.server->addr;
    s.port = e.server->port;
    s.isn = rng_.u32();
    s.timestamps = ts;
    s.ts_start = ts_base(s.ip, c.ip, at);
    s.window = 65160;
    return {c, s};
  }

  Script choose_script() {
    if (!rng_.chance(cfg_.anomaly_share)) {
      return rng_.chance(cfg_.long_flow_share) ? Script::clean_long : Script::clean_short;
    }
    double x = rng_.uniform() * anomaly_weight_total_;
    for (std::size_t i = 2; i < static_cast<std::size_t>(Script::count_); ++i) {
      x -= info_of(static_cast<Script>(i)).weight;
      if (x < 0) return static_cast<Script>(i);
    }
    return Script::lost_final_ack;
  }

  // ---- script pieces ------------------------------------------------------------------------

  static void handshake(Conversation& c, Duration rtt) {
    c.syn(Side::client);
    c.after(us(40)).syn_ack();
    c.after(rtt).ack(Side::client);
  }

  // A server response of `bytes`, in MSS segments; the client ACKs every second segment and the
  // last one (delayed ACK). Optionally the last segment carries the FIN.
  void response(Conversation& c, std::uint32_t bytes, Duration rtt, bool fin_on_last = false) {
    std::uint32_t left = bytes;
    int unacked = 0;
    c.after(us(rng_.range(50, 2000)));
    bool first = true;
    while (left > 0) {
      const std::uint32_t seg = std::min(left, kMss);
      left -= seg;
      if (!first) c.after(us(rng_.range(10, 120)));
      first = false;
      if (left == 0 && fin_on_last)
        c.fin_data(Side::server, seg);
      else
        c.data(Side::server, seg);
      if (++unacked == 2 && left > 0) {
        c.after(us(rng_.range(20, 200))).ack(Side::client);
        unacked = 0;
      }
    }
    if (!fin_on_last) c.after(rtt).ack(Side::client);
  }

  void exchange(Conversation& c, Duration rtt) {
    c.after(us(rng_.range(30, 3000)))
        .data(Side::client, static_cast<std::uint32_t>(rng_.range(60, 500)));
    response(c, rng_.log_uniform(80, 4000), rtt);
  }

  void body(Conversation& c, Duration rtt) {
    handshake(c, rtt);
    const int n = rng_.chance(0.7) ? 1 : rng_.chance(0.6) ? 2 : 3;
    for (int i = 0; i < n; ++i) exchange(c, rtt);
  }

  // Clean closes, either side first, in the interleavings Linux produces.
  void close_client_first(Conversation& c, Duration rtt) {
    c.after(us(rng_.range(100, 20000))).fin(Side::client);
    if (rng_.chance(0.5)) {
      c.after(us(rng_.range(30, 200))).fin(Side::server);  // FIN|ACK acks the client's FIN too
    } else {
      c.after(us(rng_.range(30, 200))).ack(Side::server);
      c.after(us(rng_.range(50, 5000))).fin(Side::server);
    }
    c.after(rtt).ack(Side::client);
  }

  void close_server_first(Conversation& c, Duration rtt) {
    c.after(us(rng_.range(30, 500))).fin(Side::server);
    c.after(rtt);
    if (rng_.chance(0.5)) {
      c.ack(Side::client);
      c.after(us(rng_.range(20, 2000)));
    }
    c.fin(Side::client);
    c.after(us(rng_.range(20, 100))).ack(Side::server);
  }

  void long_flow(Conversation& c, Duration rtt) {
    handshake(c, rtt);
    c.after(us(rng_.range(100, 2000)))
        .data(Side::client, static_cast<std::uint32_t>(rng_.range(200, 500)));
    const int segs = static_cast<int>(rng_.log_uniform(300, 4000));
    const Duration gap = us(rng_.range(40, 400));  // 30-300 Mbit/s
    c.after(us(300));
    int unacked = 0;
    for (int i = 0; i < segs; ++i) {
      if (i > 0) c.after(gap);
      if (rng_.chance(0.002) && i + 4 < segs) {
        // Lost before the capture point: three dup ACKs, fast retransmit, go-back-N of the rest.
        const std::uint32_t hole = c.next_seq(Side::server);
        c.data(Side::server, kMss, lost_if(true));
        for (int k = 0; k < 3; ++k) {
          c.after(gap).data(Side::server, kMss);
          c.after(us(30)).ack(Side::client);
        }
        for (int k = 0; k < 4; ++k) {
          c.after(gap).data(Side::server, kMss,
                            with_seq(hole + kMss * static_cast<std::uint32_t>(k)));
          c.after(us(30)).ack(Side::client);
        }
        i += 3;
        unacked = 0;
        continue;
      }
      if (rng_.chance(0.001)) {
        // Captured, then lost: re-sent after an RTO.
        const std::uint32_t at = c.next_seq(Side::server);
        c.data(Side::server, kMss);
        c.after(ms(rng_.range(200, 260))).data(Side::server, kMss, with_seq(at));
        c.after(us(30)).ack(Side::client);
        unacked = 0;
        continue;
      }
      c.data(Side::server, kMss);
      if (++unacked == 2) {
        c.after(us(rng_.range(10, 60))).ack(Side::client);
        unacked = 0;
      }
    }
    c.after(rtt).ack(Side::client);
    if (rng_.chance(0.5))
      close_server_first(c, rtt);
    else
      close_client_first(c, rtt);
  }

  // ---- groups -----------------------------------------------------------------------------

  // Builds the group that starts at t, queues its packets; returns how many.
  std::uint64_t start_group(Timestamp t) {
    const Script script = choose_script();
    Endpoints e = pick(t);
    const Duration rtt = e.client->rtt;
    const bool ts = e.client->timestamps;
    auto [cs, ss] = specs(e, t, ts);
    std::vector<SynthPacket> packets;
    std::uint64_t incarnations = 1;
    bool ends_open = false;

    // The second incarnation of a reuse script: same four-tuple, new ISNs, later start.
    auto second = [&](Timestamp at, bool timestamps) {
      HostSpec c2 = cs;
      HostSpec s2 = ss;
      c2.isn = rng_.u32();
      s2.isn = rng_.u32();
      c2.timestamps = s2.timestamps = timestamps;
      c2.ts_start = ts_base(c2.ip, s2.ip, at);
      s2.ts_start = ts_base(s2.ip, c2.ip, at);
      return std::pair<HostSpec, HostSpec>{c2, s2};
    };
    auto append = [&packets](const Conversation& c) {
      packets.insert(packets.end(), c.packets().begin(), c.packets().end());
    };

    switch (script) {
      case Script::clean_short: {
        Conversation c(cs, ss, t);
        body(c, rtt);
        if (rng_.chance(0.55))
          close_client_first(c, rtt);
        else
          close_server_first(c, rtt);
        append(c);
        break;
      }
      case Script::clean_long: {
        Conversation c(cs, ss, t);
        long_flow(c, rtt);
        append(c);
        ++truth_.long_flows;
        break;
      }
      case Script::lost_final_ack:
      case Script::lost_final_ack_rst: {
        Conversation c(cs, ss, t);
        body(c, rtt);
        c.after(us(rng_.range(100, 5000))).fin(Side::client);
        c.after(us(40)).ack(Side::server);
        c.after(us(rng_.range(50, 3000))).fin(Side::server);
        const bool captured =
            rng_.chance(0.5);  // lost after (confirmed) or before the capture point
        c.after(rtt).ack(Side::client, lost_if(!captured));
        const int resends = script == Script::lost_final_ack && rng_.chance(0.3) ? 2 : 1;
        Duration rto = ms(rng_.range(203, 215));
        for (int i = 0; i < resends; ++i) {
          c.after(rto).retransmit_fin(Side::server);
          if (i + 1 < resends) c.after(rtt).ack(Side::client, lost_if(true));
          rto = rto * 2;
        }
        c.after(rtt);
        if (script == Script::lost_final_ack)
          c.ack(Side::client);
        else
          c.rst_no_ack(Side::client);
        append(c);
        break;
      }
      case Script::fin_not_acked: {
        Conversation c(cs, ss, t);
        body(c, rtt);
        c.after(us(rng_.range(30, 500))).fin(Side::server);  // lost after the capture point
        c.after(ms(rng_.range(203, 215))).retransmit_fin(Side::server);
        c.after(rtt).ack(Side::client);
        c.after(us(rng_.range(20, 2000))).fin(Side::client);
        c.after(us(40)).ack(Side::server);
        append(c);
        break;
      }
      case Script::fin_unanswered: {
        Conversation c(cs, ss, t);
        body(c, rtt);
        c.after(us(rng_.range(100, 5000))).fin(Side::client);
        Duration rto = ms(rng_.range(203, 215));
        for (int i = 0; i < 3; ++i) {
          c.after(rto).retransmit_fin(Side::client);
          rto = rto * 2;
        }
        append(c);
        ends_open = true;
        break;
      }
      case Script::data_after_close: {
        Conversation c(cs, ss, t);
        body(c, rtt);
        c.after(us(rng_.range(100, 5000))).fin(Side::client);
        c.after(us(40)).ack(Side::server);
        c.after(ms(rng_.range(20, 150)))
            .data(Side::server, static_cast<std::uint32_t>(rng_.range(100, 1448)));
        c.after(rtt).rst_no_ack(Side::client);
        append(c);
        break;
      }
      case Script::orphan_rst: {
        Conversation c(cs, ss, t);
        body(c, rtt);
        c.after(us(rng_.range(100, 5000))).fin(Side::client);
        c.after(us(40)).ack(Side::server);
        c.after(us(rng_.range(50, 3000))).fin(Side::server);
        c.after(rtt).rst_no_ack(Side::client);
        append(c);
        break;
      }
      case Script::linger_zero: {
        Conversation c(cs, ss, t);
        body(c, rtt);
        c.after(us(rng_.range(100, 20000))).rst(Side::client);
        append(c);
        break;
      }
      case Script::unread_data: {
        Conversation c(cs, ss, t);
        body(c, rtt);
        // The server pushes more; the client application closes without reading it.
        c.after(us(rng_.range(100, 3000))).data(Side::server, kMss);
        c.after(us(rng_.range(10, 100))).data(Side::server, kMss);
        c.after(us(rng_.range(100, 3000)))
            .rst(Side::client, with_ack(c.rcv_next(Side::client) - 2 * kMss));
        append(c);
        break;
      }
      case Script::reuse_safe:
      case Script::reuse_unsafe:
      case Script::reuse_after_reset: {
        const bool with_ts = script == Script::reuse_safe     ? true
                             : script == Script::reuse_unsafe ? false
                                                              : ts;
        cs.timestamps = ss.timestamps = with_ts;
        Conversation a(cs, ss, t);
        body(a, rtt);
        if (script == Script::reuse_after_reset)
          a.after(us(rng_.range(100, 5000))).rst(Side::client);
        else
          close_server_first(a, rtt);  // the client keeps no TIME_WAIT and may reconnect
        append(a);
        const Timestamp t2 = a.now() + ms(rng_.range(300, 8000));
        auto [c2, s2] = second(t2, with_ts);
        const std::uint32_t old_max = a.next_seq(Side::client);
        if (script == Script::reuse_safe) c2.isn = old_max + 64000 + rng_.u32() % 1'000'000;
        if (script == Script::reuse_unsafe) c2.isn = cs.isn - 100'000 - rng_.u32() % 1'000'000;
        Conversation b(c2, s2, t2);
        body(b, rtt);
        close_server_first(b, rtt);
        append(b);
        incarnations = 2;
        break;
      }
      case Script::syn_in_last_ack: {
        Conversation a(cs, ss, t);
        body(a, rtt);
        a.after(us(rng_.range(100, 5000))).fin(Side::client);
        a.after(us(40)).ack(Side::server);
        a.after(us(rng_.range(50, 3000))).fin(Side::server);
        a.after(rtt).ack(Side::client, lost_if(true));
        // The client (no TIME_WAIT) reconnects at once; the server, in LAST_ACK, answers its SYN
        // with a challenge ACK of the old connection; the client RSTs it and retries 10 ms later.
        const Timestamp t2 = a.now() + us(rng_.range(300, 3000));
        auto [c2, s2] = second(t2, ts);
        Conversation b(c2, s2, t2);
        b.syn(Side::client);
        a.at(t2 + us(40)).ack(Side::server);
        a.at(t2 + rtt + us(40)).rst_no_ack(Side::client);
        b.at(t2 + ms(10) + rtt).syn(Side::client, with_seq(c2.isn));
        b.after(us(40)).syn_ack();
        b.after(rtt).ack(Side::client);
        exchange(b, rtt);
        close_client_first(b, rtt);
        append(a);
        append(b);
        incarnations = 2;
        break;
      }
      case Script::stale_segment: {
        Conversation a(cs, ss, t);
        handshake(a, rtt);
        // The client uploads; one of its data segments will come back later as a stale copy.
        const int n = static_cast<int>(rng_.range(4, 10));
        std::vector<std::uint64_t> frames;
        for (int i = 0; i < n; ++i) {
          frames.push_back(a.after(us(rng_.range(20, 100))).data(Side::client, kMss));
          if (i % 2 == 1) a.after(us(40)).ack(Side::server);
        }
        a.after(us(40)).ack(Side::server);
        const SynthPacket old = a.packets()[frames[rng_.below(frames.size())] - 1];
        a.after(us(rng_.range(100, 3000))).data(Side::server, 200);
        a.after(rtt).ack(Side::client);
        close_server_first(a, rtt);
        append(a);
        const Timestamp t2 = a.now() + ms(rng_.range(5, 200));
        auto [c2, s2] = second(t2, ts);
        Conversation b(c2, s2, t2);
        handshake(b, rtt);
        const Timestamp stale_at = b.now() + ms(rng_.range(2, 20));
        exchange(b, rtt);
        close_server_first(b, rtt);
        append(b);
        SynthPacket copy = old;
        copy.ts = stale_at;
        packets.push_back(std::move(copy));
        incarnations = 2;
        break;
      }
      case Script::count_: break;
    }

    std::stable_sort(packets.begin(), packets.end(),
                     [](const SynthPacket& x, const SynthPacket& y) { return x.ts < y.ts; });
    const Timestamp end = packets.back().ts;
    e.pool->busy.emplace_back(e.port, (end + (ends_open ? kOpenCooldown : kPortCooldown)).ns);

    ++truth_.groups;
    truth_.connections += incarnations;
    if (e.client->addr.version == 6) truth_.ipv6_connections += incarnations;
    const ScriptInfo& si = info_of(script);
    if (*si.kind == '\0') {
      truth_.clean_connections += incarnations;
    } else {
      InjectedAnomaly a;
      a.id = truth_.anomalies.size() + 1;
      a.scenario = si.name;
      a.kind = si.kind;
      a.cause = si.cause;
      a.also = si.also;
      a.client_ip = cs.ip;
      a.client_port = cs.port;
      a.server_ip = ss.ip;
      a.server_port = ss.port;
      a.incarnation = si.incarnation;
      // Both output formats keep microseconds: the truth says what the capture says.
      a.start = Timestamp{packets.front().ts.ns / kUs * kUs};
      a.end = Timestamp{end.ns / kUs * kUs};
      truth_.anomalies.push_back(std::move(a));
    }

    const std::uint64_t n = packets.size();
    std::size_t slot;
    if (!free_slots_.empty()) {
      slot = free_slots_.back();
      free_slots_.pop_back();
    } else {
      slot = groups_.size();
      groups_.emplace_back();
    }
    groups_[slot] = std::make_unique<Group>();
    groups_[slot]->packets = std::move(packets);
    active_.push(Pending{groups_[slot]->packets.front().ts, order_++, slot});
    return n;
  }

  const BenchConfig& cfg_;
  BenchTruth& truth_;
  Rng rng_;
  StreamWriter out_;
  std::vector<Server> servers_;
  std::vector<Client> clients4_;
  std::vector<Client> clients6_;
  std::map<std::pair<const Client*, std::size_t>, PortPool> pools_;
  double anomaly_weight_total_ = 1;
  std::vector<std::unique_ptr<Group>> groups_;
  std::vector<std::size_t> free_slots_;
  std::priority_queue<Pending, std::vector<Pending>, std::greater<>> active_;
  std::uint64_t order_ = 0;
};

std::string json_escape(const std::string& s) {
  std::string out;
  for (char ch : s) {
    if (ch == '"' || ch == '\\') out += '\\';
    out += ch;
  }
  return out;
}

bool same_endpoint(const IpAddress& a, std::uint16_t ap, const IpAddress& b, std::uint16_t bp) {
  return ap == bp && a == b;
}

}  // namespace

std::string BenchTruth::to_json() const {
  std::string o = "{\n";
  auto num = [&o](const char* k, std::uint64_t v, bool comma = true) {
    o += "  \"" + std::string(k) + "\": " + std::to_string(v) + (comma ? ",\n" : "\n");
  };
  num("seed", seed);
  num("packets", packets);
  num("bytes", bytes);
  num("groups", groups);
  num("connections", connections);
  num("clean_connections", clean_connections);
  num("long_flows", long_flows);
  num("ipv6_connections", ipv6_connections);
  num("port_reuses", port_reuses);
  o += "  \"first_ts\": \"" + format_rfc3339(first_ts) + "\",\n";
  o += "  \"last_ts\": \"" + format_rfc3339(last_ts) + "\",\n";
  std::map<std::string, std::uint64_t> by_kind;
  for (const InjectedAnomaly& a : anomalies) ++by_kind[a.kind];
  o += "  \"anomalies_by_kind\": {";
  bool first = true;
  for (const auto& [k, n] : by_kind) {
    o += std::string(first ? "" : ", ") + "\"" + k + "\": " + std::to_string(n);
    first = false;
  }
  o += "},\n  \"anomalies\": [";
  first = true;
  for (const InjectedAnomaly& a : anomalies) {
    o += first ? "\n" : ",\n";
    first = false;
    o += "    {\"id\": " + std::to_string(a.id) + ", \"scenario\": \"" + json_escape(a.scenario) +
         "\", \"kind\": \"" + json_escape(a.kind) + "\", \"cause\": \"" + json_escape(a.cause) +
         "\", \"also\": [";
    for (std::size_t i = 0; i < a.also.size(); ++i) {
      o += (i ? ", \"" : "\"") + json_escape(a.also[i]) + "\"";
    }
    o += "], \"client\": \"" + format_endpoint(a.client_ip, a.client_port) + "\", \"server\": \"" +
         format_endpoint(a.server_ip, a.server_port) +
         "\", \"incarnation\": " + std::to_string(a.incarnation) + ", \"start\": \"" +
         format_rfc3339(a.start) + "\", \"end\": \"" + format_rfc3339(a.end) +
         "\", \"start_ns\": " + std::to_string(a.start.ns) +
         ", \"end_ns\": " + std::to_string(a.end.ns) + "}";
  }
  o += "\n  ]\n}\n";
  return o;
}

const InjectedAnomaly* BenchTruth::anomaly_of(const IpAddress& client_ip, std::uint16_t client_port,
                                              const IpAddress& server_ip, std::uint16_t server_port,
                                              Timestamp first_seen) const {
  for (const InjectedAnomaly& a : anomalies) {
    if (first_seen < a.start || first_seen > a.end) continue;
    const bool fwd = same_endpoint(client_ip, client_port, a.client_ip, a.client_port) &&
                     same_endpoint(server_ip, server_port, a.server_ip, a.server_port);
    const bool rev = same_endpoint(client_ip, client_port, a.server_ip, a.server_port) &&
                     same_endpoint(server_ip, server_port, a.client_ip, a.client_port);
    if (fwd || rev) return &a;
  }
  return nullptr;
}

Status generate_bench_capture(const BenchConfig& config, const std::string& path,
                              BenchTruth& truth) {
  Generator g(config, truth);
  return g.run(path);
}

}  // namespace lastack::synth
