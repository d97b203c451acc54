// The synthetic teardown scenarios (see scenarios.h). Each is a short script over
// Conversation; the expected findings follow detections.md and name the frames the script
// produced, so a change to a script moves its expectations with it.
#include "lastack/synth/scenarios.h"

#include <algorithm>
#include <array>
#include <cstdio>
#include <functional>
#include <memory>
#include <optional>
#include <sstream>
#include <stdexcept>
#include <utility>

#include "lastack/core/ip_address.h"
#include "lastack/decode/decoded_packet.h"
#include "lastack/synth/conversation.h"

namespace lastack::synth {

std::string Scenario::file_name() const {
  return name + (format == FileFormat::pcapng_ns ? ".pcapng" : ".pcap");
}

std::vector<std::uint8_t> Scenario::file_bytes() const {
  if (format == FileFormat::pcapng_ns) {
    PcapngOptions o;
    o.interfaces = {PcapngInterface{link_type_of(link), 9, 0, 0, "synth0"}};
    return write_pcapng(packets, o);
  }
  PcapOptions o;
  o.link_type = link_type_of(link);
  return write_pcap(packets, o);
}

namespace {

namespace flag = decode::tcp_flag;
constexpr Side C = Side::client;
constexpr Side S = Side::server;

// 2026-01-01T00:00:00Z.
constexpr Timestamp kBase{1'767'225'600LL * 1'000'000'000LL};
constexpr std::uint16_t kServerPort = 8080;

constexpr Duration ns(std::int64_t v) {
  return Duration{v};
}
constexpr Duration us(std::int64_t v) {
  return Duration{v * 1'000};
}
constexpr Duration ms(std::int64_t v) {
  return Duration::from_ms(v);
}
constexpr Duration sec(std::int64_t v) {
  return Duration::from_s(v);
}

IpAddress ip(const char* text) {
  IpAddress a;
  if (!parse_ip(text, a)) throw std::logic_error(std::string("bad address ") + text);
  return a;
}

// --- Emit shorthands (field by field: GCC warns on partial designated initialisers) ---
Emit lost() {
  Emit e;
  e.lost = true;
  return e;
}
Emit at_seq(std::uint32_t seq) {
  Emit e;
  e.seq = seq;
  return e;
}
Emit with_ack(std::uint32_t ack) {
  Emit e;
  e.ack = ack;
  return e;
}

// Where the capture was taken. Packets of the near side carry the initial TTL 64; the far
// side's crossed 7 routers. The far side's answers show up one RTT after what they answer,
// the near side's after its turnaround.
enum class Vantage : std::uint8_t { near_client, near_server, in_path };

struct Net {
  Vantage vantage = Vantage::near_client;
  Duration rtt = ms(20);
  Duration turnaround = us(100);
  Duration back_to_back = us(30);  // consecutive segments of one sender

  [[nodiscard]] Duration reply(Side from) const {
    if (vantage == Vantage::in_path) return Duration{rtt.ns / 2};
    const bool near = (vantage == Vantage::near_client) == (from == C);
    return near ? turnaround : rtt;
  }
  [[nodiscard]] std::uint8_t ttl(Side of) const {
    if (vantage == Vantage::in_path) return of == C ? 61 : 59;
    const bool near = (vantage == Vantage::near_client) == (of == C);
    return near ? 64 : 57;
  }
};

struct Addr {
  const char* client = "192.0.2.10";
  const char* server = "198.51.100.20";
};
constexpr Addr kV4{};
constexpr Addr kV6{"2001:db8:c::10", "2001:db8:5::20"};

struct Ends {
  HostSpec client;
  HostSpec server;
};

// Client port, both ISNs, timestamps on/off, TSval clock start of the client (the server's is
// offset so the two clocks differ, as on two hosts).
Ends ends(const Net& net, const Addr& addr, std::uint16_t cport, std::uint32_t cisn,
          std::uint32_t sisn, bool ts, std::uint32_t cts = 100'000) {
  Ends e;
  e.client.ip = ip(addr.client);
  e.client.port = cport;
  e.client.isn = cisn;
  e.client.ttl = net.ttl(C);
  e.client.timestamps = ts;
  e.client.ts_start = cts;
  e.server.ip = ip(addr.server);
  e.server.port = kServerPort;
  e.server.isn = sisn;
  e.server.ttl = net.ttl(S);
  e.server.timestamps = ts;
  e.server.ts_start = cts + 7'000'000;
  return e;
}

// The capture being written: what the scripted conversations put on the wire, in script order,
// plus frames injected verbatim. Frame numbers are positions on the tape.
class Tape {
 public:
  std::uint64_t add(const SynthPacket& p) {
    out_.push_back(p);
    return out_.size();
  }
  // A byte copy of frame `n` (an old duplicate the network delivered late) at time `ts`.
  std::uint64_t copy_of(std::uint64_t n, Timestamp ts) {
    SynthPacket p = out_.at(n - 1);
    p.ts = ts;
    return add(p);
  }
  [[nodiscard]] Timestamp ts(std::uint64_t n) const { return out_.at(n - 1).ts; }
  [[nodiscard]] Timestamp last_ts() const { return out_.back().ts; }

  // Rewrites the TCP window of frame `n`, fixing the checksum (RFC 1624 incremental update).
  void set_window(std::uint64_t n, std::uint16_t window, Link link) {
    std::vector<std::uint8_t>& b = out_.at(n - 1).bytes;
    std::size_t l3 = 0;
    switch (link) {
      case Link::ethernet: l3 = 14; break;
      case Link::linux_sll: l3 = 16; break;
      case Link::linux_sll2: l3 = 20; break;
      case Link::raw_ip: l3 = 0; break;
      case Link::null_loopback: l3 = 4; break;
    }
    const std::size_t l4 = (b.at(l3) >> 4) == 6 ? l3 + 40 : l3 + std::size_t{b.at(l3) & 0x0Fu} * 4u;
    const auto get = [&](std::size_t at) {
      return static_cast<std::uint32_t>((b.at(at) << 8) | b.at(at + 1));
    };
    const auto put = [&](std::size_t at, std::uint32_t v) {
      b.at(at) = static_cast<std::uint8_t>(v >> 8);
      b.at(at + 1) = static_cast<std::uint8_t>(v);
    };
    const std::uint32_t old_window = get(l4 + 14);
    std::uint32_t sum = (~get(l4 + 16) & 0xFFFFu) + (~old_window & 0xFFFFu) + window;
    while ((sum >> 16) != 0) sum = (sum & 0xFFFFu) + (sum >> 16);
    put(l4 + 14, window);
    put(l4 + 16, ~sum & 0xFFFFu);
  }

  [[nodiscard]] std::vector<SynthPacket> take() {
    for (std::size_t i = 1; i < out_.size(); ++i) {
      if (out_[i].ts < out_[i - 1].ts) throw std::logic_error("scenario tape goes back in time");
    }
    return std::move(out_);
  }

 private:
  std::vector<SynthPacket> out_;
};

// One incarnation on the tape: a Conversation whose packets go to the tape as they are sent.
// By default a packet is an answer to the other side's last one (Net::reply) or, after a
// packet of the same side, sent back to back; in()/at() set the time of the next packet.
class Talk {
 public:
  Talk(Tape& tape, const Net& net, const Ends& e, Timestamp start, Link link)
      : tape_(tape), net_(net), conv_(e.client, e.server, start, link) {}

  Talk& in(Duration d) {
    gap_ = d;
    return *this;
  }
  Talk& at(Timestamp t) {
    at_ = t;
    return *this;
  }
  // The next packet is sent and received, but the capture misses it (a capture drop).
  Talk& missed() {
    missed_ = true;
    return *this;
  }
  // Number the IP ids of `side` from `first` (a new socket's random start).
  Talk& ip_ids(Side side, std::uint16_t first) {
    next_id_[side == C ? 0 : 1] = first;
    return *this;
  }

  std::uint64_t syn(Emit e = {}) {
    return put(C, e, [&](Emit x) { return conv_.syn(C, x); });
  }
  std::uint64_t syn_ack(Emit e = {}) {
    return put(S, e, [&](Emit x) { return conv_.syn_ack(x); });
  }
  std::uint64_t ack(Side f, Emit e = {}) {
    return put(f, e, [&](Emit x) { return conv_.ack(f, x); });
  }
  std::uint64_t data(Side f, std::uint32_t n, Emit e = {}) {
    return put(f, e, [&](Emit x) { return conv_.data(f, n, x); });
  }
  std::uint64_t fin(Side f, Emit e = {}) {
    return put(f, e, [&](Emit x) { return conv_.fin(f, x); });
  }
  std::uint64_t fin_data(Side f, std::uint32_t n, Emit e = {}) {
    return put(f, e, [&](Emit x) { return conv_.fin_data(f, n, x); });
  }
  std::uint64_t rst(Side f, Emit e = {}) {
    return put(f, e, [&](Emit x) { return conv_.rst(f, x); });
  }
  std::uint64_t rst_no_ack(Side f, Emit e = {}) {
    return put(f, e, [&](Emit x) { return conv_.rst_no_ack(f, x); });
  }
  std::uint64_t retransmit_fin(Side f, Emit e = {}) {
    return put(f, e, [&](Emit x) { return conv_.retransmit_fin(f, x); });
  }
  // The same frame captured again (same bytes, IP id included): keeps the IP id counter.
  std::uint64_t duplicate(Side f) {
    return put(
        f, Emit{}, [&](Emit x) { return conv_.retransmit_last(f, x); }, /*verbatim=*/true);
  }
  std::uint64_t segment(Side f, std::uint8_t flags, std::uint32_t n, Emit e = {}) {
    return put(f, e, [&](Emit x) { return conv_.segment(f, flags, n, x); });
  }

  [[nodiscard]] Conversation& conv() { return conv_; }
  [[nodiscard]] Timestamp now() const { return conv_.now(); }

 private:
  std::uint64_t put(Side from, Emit e, const std::function<std::uint64_t(Emit)>& send,
                    bool verbatim = false) {
    if (at_) {
      conv_.at(*at_);
    } else if (started_) {
      conv_.after(gap_ ? *gap_ : from == last_from_ ? net_.back_to_back : net_.reply(from));
    }
    started_ = true;
    at_.reset();
    gap_.reset();
    last_from_ = from;
    std::optional<std::uint16_t>& id = next_id_[from == C ? 0 : 1];
    if (id && !verbatim && !e.ip_id) e.ip_id = (*id)++;
    const std::uint64_t local = send(e);
    const bool skip = missed_;
    missed_ = false;
    if (local == 0 || skip) return 0;
    return tape_.add(conv_.packets()[local - 1]);
  }

  Tape& tape_;
  Net net_;
  Conversation conv_;
  bool started_ = false;
  bool missed_ = false;
  Side last_from_ = S;
  std::optional<Duration> gap_;
  std::optional<Timestamp> at_;
  std::array<std::optional<std::uint16_t>, 2> next_id_{};
};

// TSval clock of a host that started `ts_start` at `t0`, read at `t` (1 ms ticks).
std::uint32_t ts_clock(std::uint32_t ts_start, Timestamp t0, Timestamp t) {
  return ts_start + static_cast<std::uint32_t>((t - t0).ns / 1'000'000);
}

struct Frames {
  std::uint64_t syn = 0, syn_ack = 0, ack = 0;
};

Frames handshake(Talk& t) {
  Frames f;
  f.syn = t.syn();
  f.syn_ack = t.syn_ack();
  f.ack = t.ack(C);
  return f;
}

// A request, its response in full-sized segments, and the client's ACK.
void exchange(Talk& t, std::uint32_t request, std::uint32_t response) {
  t.data(C, request);
  while (response > 0) {
    const std::uint32_t n = std::min<std::uint32_t>(response, 1448);
    t.data(S, n);
    response -= n;
  }
  t.ack(C);
}

ExpectedFinding finding(std::string kind, std::string cause, std::string severity,
                        std::string confidence, std::vector<std::uint64_t> frames) {
  std::sort(frames.begin(), frames.end());
  return ExpectedFinding{std::move(kind), std::move(cause), std::move(severity),
                         std::move(confidence), std::move(frames)};
}

// A final ACK captured, then lost: the passive closer re-sends its FIN and the TIME_WAIT side
// ACKs it again (frames: the FIN, the final ACK, the re-sent FIN, the second ACK).
std::vector<ExpectedFinding> reacked_findings(std::uint64_t fin, std::uint64_t final_ack,
                                              std::uint64_t refin, std::uint64_t reack) {
  return {
      finding("lost_final_ack", "reacked", "warning", "confirmed", {fin, final_ack, refin, reack}),
      finding("fin_retransmit", "final_ack_lost", "info", "confirmed", {fin, refin, reack})};
}

ExpectedConnection conn(std::string close_kind, std::string active, std::string tw,
                        std::uint32_t incarnation = 1) {
  ExpectedConnection c;
  c.incarnation = incarnation;
  c.close_kind = std::move(close_kind);
  c.active_closer = std::move(active);
  c.time_wait_holder = std::move(tw);
  return c;
}

Scenario base(std::string name, std::string summary) {
  Scenario s;
  s.name = std::move(name);
  s.summary = std::move(summary);
  return s;
}

std::string fmt(const char* pattern, std::uint64_t a = 0, std::uint64_t b = 0, std::uint64_t c = 0,
                std::uint64_t d = 0, std::uint64_t e = 0, std::uint64_t f = 0) {
  // Patterns use %1$llu..%6$llu-free positional-less "%llu" in order; unused args are ignored.
  char buf[1024];
  std::snprintf(buf, sizeof buf, pattern, static_cast<unsigned long long>(a),
                static_cast<unsigned long long>(b), static_cast<unsigned long long>(c),
                static_cast<unsigned long long>(d), static_cast<unsigned long long>(e),
                static_cast<unsigned long long>(f));
  return buf;
}

// ---------------------------------------------------------------------------------------------
// Positive scenarios: lost final ACK, RSTs after close, abortive closes.

// Client closes first; the client's final ACK is captured (vantage near the client) and then
// lost; the server re-sends its FIN and the client, in TIME_WAIT, ACKs again.
Scenario lost_final_ack_reacked() {
  Scenario s = base("lost_final_ack_reacked",
                    "final ACK captured near the client, then lost; FIN re-sent and re-ACKed");
  Tape tape;
  const Net net{Vantage::near_client};
  Talk t(tape, net, ends(net, kV4, 40001, 1'000'000, 2'000'000, true), kBase, Link::ethernet);
  handshake(t);
  exchange(t, 120, 1000);
  t.in(ms(5)).fin(C);
  t.ack(S);
  const auto fin = t.in(ms(1)).fin(S);
  const auto final_ack = t.ack(C);  // reaches the capture point, lost on the way to the server
  const auto refin = t.at(tape.ts(fin) + ms(206)).retransmit_fin(S);
  const auto reack = t.ack(C);
  s.packets = tape.take();
  s.description = fmt(
      "Client closes first (FIN 7, ACK 8); server FIN %llu; the client's final ACK %llu is "
      "captured (vantage near the client: TTL 64 vs 57) and lost after the capture point. The "
      "server, still in LAST_ACK, re-sends its FIN %llu 206 ms later and the client re-ACKs from "
      "TIME_WAIT (%llu). Final ACK captured before the re-send: confirmed.",
      fin, final_ack, refin, reack);
  s.findings = reacked_findings(fin, final_ack, refin, reack);
  s.connections = {conn("fin", "client", "client")};
  return s;
}

// The same seen from the server side: the final ACK never reaches the capture point.
Scenario lost_final_ack_probable() {
  Scenario s =
      base("lost_final_ack_probable",
           "IPv6, vantage near the server: final ACK never captured, FIN re-sent, re-ACKed");
  Tape tape;
  const Net net{Vantage::near_server};
  Talk t(tape, net, ends(net, kV6, 40002, 3'141'592, 2'718'281, true), kBase, Link::ethernet);
  handshake(t);
  exchange(t, 120, 1000);
  t.in(ms(5)).fin(C);
  t.ack(S);
  const auto fin = t.in(ms(1)).fin(S);
  t.ack(C, lost());  // lost before the capture point
  const auto refin = t.at(tape.ts(fin) + ms(206)).retransmit_fin(S);
  const auto reack = t.ack(C);
  s.packets = tape.take();
  s.description = fmt(
      "IPv6. Client closes first; server FIN %llu; the client's final ACK is lost before the "
      "capture point (vantage near the server), so the capture shows FIN %llu re-sent 206 ms later "
      "and only then the client's ACK %llu (from TIME_WAIT). No capture gap in client->server: "
      "probable.",
      fin, refin, reack);
  s.findings = {
      finding("lost_final_ack", "reacked", "warning", "probable", {fin, refin, reack}),
      finding("fin_retransmit", "final_ack_lost", "info", "confirmed", {fin, refin, reack})};
  s.connections = {conn("fin", "client", "client")};
  return s;
}

// The active closer kept no TIME_WAIT (tcp_max_tw_buckets): it answers the re-sent FIN with
// the stateless RST Linux sends: no ACK flag, seq = the FIN's ack.
Scenario no_time_wait_rst() {
  Scenario s = base(
      "no_time_wait_rst",
      "final ACK lost; the client kept no TIME_WAIT and answers the re-sent FIN with a bare RST");
  Tape tape;
  const Net net{Vantage::near_client};
  Talk t(tape, net, ends(net, kV4, 40003, 11'000'000, 22'000'000, true), kBase, Link::ethernet);
  handshake(t);
  exchange(t, 120, 1000);
  t.in(ms(5)).fin(C);
  t.ack(S);
  const auto fin = t.in(ms(1)).fin(S);
  const auto final_ack = t.ack(C);
  const auto refin = t.at(tape.ts(fin) + ms(206)).retransmit_fin(S);
  const auto rst = t.rst_no_ack(C);
  s.packets = tape.take();
  s.description = fmt(
      "Client closes first and keeps no TIME_WAIT. Server FIN %llu, final ACK %llu captured and "
      "lost after the capture point, FIN re-sent (%llu); the client has no state and answers with "
      "RST %llu (no ACK flag, seq = the FIN's ack), as Linux's stateless reply. The server sees an "
      "error.",
      fin, final_ack, refin, rst);
  s.findings = {
      finding("lost_final_ack", "reset", "error", "confirmed", {fin, final_ack, refin, rst}),
      finding("rst_after_close", "no_time_wait", "error", "confirmed", {refin, rst}),
      // A RST is no acknowledgement: the FIN was never ACKed again, hence warning, not info.
      finding("fin_retransmit", "final_ack_lost", "warning", "confirmed", {fin, refin})};
  s.connections = {conn("rst", "client", "client")};
  return s;
}

// SO_LINGER {1,0} with nothing outstanding.
Scenario linger_zero_rst() {
  Scenario s = base(
      "linger_zero_rst",
      "client reads the whole response, then SO_LINGER 0 close(): RST+ACK, nothing outstanding");
  Tape tape;
  const Net net{Vantage::near_client};
  Talk t(tape, net, ends(net, kV4, 40004, 31'000'000, 41'000'000, true), kBase, Link::ethernet);
  handshake(t);
  exchange(t, 120, 2000);
  const auto rst = t.in(ms(3)).rst(C);
  s.packets = tape.take();
  s.description = fmt(
      "Request, 2000-byte response fully ACKed, then the client closes with SO_LINGER {1,0}: "
      "RST+ACK %llu (seq = next, ack = everything received) and no FIN. Nothing is unacknowledged "
      "either way: linger_zero.",
      rst);
  s.findings = {finding("abortive_close", "linger_zero", "warning", "confirmed", {rst})};
  s.connections = {conn("abortive", "none", "none")};
  return s;
}

// The server resets while the client's next request is in flight: that data is lost.
Scenario unread_data_rst() {
  Scenario s = base("unread_data_rst",
                    "server RSTs (no FIN) while 2048 bytes the client sent are unacknowledged");
  Tape tape;
  const Net net{Vantage::near_client};
  Talk t(tape, net, ends(net, kV4, 40005, 51'000'000, 61'000'000, true), kBase, Link::ethernet);
  handshake(t);
  exchange(t, 120, 1000);
  const std::uint32_t server_rcv = t.conv().rcv_next(S);
  const auto d1 = t.in(ms(2)).data(C, 1448);
  const auto d2 = t.data(C, 600);
  const auto rst = t.in(ms(9)).rst(S, with_ack(server_rcv));
  s.packets = tape.take();
  s.description = fmt(
      "After the first response the client pipelines a second request (%llu, %llu: 2048 bytes); "
      "the server application closes without reading and its RST+ACK %llu acknowledges none of it. "
      "The client's data is lost: unread_data.",
      d1, d2, rst);
  s.findings = {finding("abortive_close", "unread_data", "error", "confirmed", {rst})};
  s.connections = {conn("abortive", "none", "none")};
  return s;
}

// RFC 1337: an old duplicate makes the TIME_WAIT side ACK; the closed peer answers with RST,
// which ends TIME_WAIT early.
Scenario time_wait_assassination() {
  Scenario s = base(
      "time_wait_assassination",
      "old duplicate -> TIME_WAIT ACK -> RST from the closed server ends the client's TIME_WAIT");
  Tape tape;
  const Net net{Vantage::near_client};
  Talk t(tape, net, ends(net, kV4, 40006, 71'000'000, 81'000'000, false), kBase, Link::ethernet);
  handshake(t);
  t.data(C, 120);
  const auto response = t.data(S, 1000);
  t.ack(C);
  t.in(ms(5)).fin(C);
  t.ack(S);
  t.in(ms(1)).fin(S);
  const auto final_ack = t.ack(C);
  const auto old = tape.copy_of(response, tape.ts(final_ack) + ms(1500));
  const auto tw_ack = t.at(tape.ts(old) + us(100)).ack(C);
  const auto rst = t.rst_no_ack(S);
  s.packets = tape.take();
  s.description = fmt(
      "Clean close, client active (final ACK %llu, client in TIME_WAIT, server CLOSED). 1.5 s "
      "later an old duplicate of the server's data segment %llu arrives (%llu, byte copy); the "
      "TIME_WAIT client answers with its current ACK %llu and the server, which has no connection "
      "any more, answers with RST %llu (seq = that ack): the RST ends the client's TIME_WAIT early "
      "(RFC 1337 hazard).",
      final_ack, response, old, tw_ack, rst);
  s.findings = {
      finding("rst_after_close", "time_wait_assassination", "warning", "confirmed", {rst})};
  return s;
}

// ---------------------------------------------------------------------------------------------
// Reuse and stale segments.

Scenario reuse_unsafe() {
  Scenario s = base(
      "reuse_unsafe",
      "client reuses its four-tuple 2 s after a clean close, no timestamps, ISN below the old one");
  Tape tape;
  const Net net{Vantage::near_client};
  Talk n1(tape, net, ends(net, kV4, 40007, 1'000'000, 3'000'000, false), kBase, Link::ethernet);
  handshake(n1);
  exchange(n1, 120, 1000);
  n1.in(ms(5)).fin(C);
  n1.ack(S);
  n1.in(ms(1)).fin(S);
  const auto final_ack = n1.ack(C);
  Talk n2(tape, net, ends(net, kV4, 40007, 900'000, 7'000'000, false), tape.last_ts() + sec(2),
          Link::ethernet);
  n2.ip_ids(C, 20'000).ip_ids(S, 30'000);
  const auto syn = handshake(n2).syn;
  exchange(n2, 120, 1000);
  n2.in(ms(5)).fin(C);
  n2.ack(S);
  n2.in(ms(1)).fin(S);
  n2.ack(C);
  s.packets = tape.take();
  s.description = fmt(
      "Incarnation 1 closes cleanly, client first (final ACK %llu: the client holds TIME_WAIT). 2 "
      "s later the client reconnects from the same port with ISN 900000, below the old "
      "connection's highest sequence number 1000122, and timestamps are off: neither RFC 6191 test "
      "holds, an old duplicate could be taken for new data. SYN %llu.",
      final_ack, syn);
  s.findings = {finding("tuple_reuse", "unsafe", "warning", "confirmed", {final_ack, syn})};
  s.connections = {conn("fin", "client", "client", 1), conn("fin", "client", "client", 2)};
  return s;
}

Scenario reuse_after_reset() {
  Scenario s =
      base("reuse_after_reset", "SO_LINGER 0 RST, then the same four-tuple reconnects 1 s later");
  Tape tape;
  const Net net{Vantage::near_client};
  Talk n1(tape, net, ends(net, kV4, 40008, 5'000'000, 6'000'000, true), kBase, Link::ethernet);
  handshake(n1);
  exchange(n1, 120, 1000);
  const auto rst = n1.in(ms(3)).rst(C);
  const Timestamp start2 = tape.last_ts() + sec(1);
  Talk n2(tape, net,
          ends(net, kV4, 40008, 9'000'000, 16'000'000, true, ts_clock(100'000, kBase, start2)),
          start2, Link::ethernet);
  n2.ip_ids(C, 40'000).ip_ids(S, 50'000);
  const auto syn = handshake(n2).syn;
  exchange(n2, 120, 1000);
  n2.in(ms(5)).fin(C);
  n2.ack(S);
  n2.in(ms(1)).fin(S);
  n2.ack(C);
  s.packets = tape.take();
  s.description = fmt(
      "Incarnation 1 ends with the client's RST+ACK %llu (SO_LINGER 0, nothing outstanding: "
      "abortive_close linger_zero). 1 s later the client reconnects from the same port (SYN %llu): "
      "no TIME_WAIT protected the four-tuple.",
      rst, syn);
  s.findings = {finding("abortive_close", "linger_zero", "warning", "confirmed", {rst}),
                finding("tuple_reuse", "after_reset", "warning", "confirmed", {rst, syn})};
  s.connections = {conn("abortive", "none", "none", 1), conn("fin", "client", "client", 2)};
  return s;
}

// RFC 1337 hazard H1: an old data segment (byte copy, its IP id included) lands in the new
// incarnation at exactly the receiver's RCV.NXT with an acceptable ack, and is taken as data.
Scenario stale_data_in_window() {
  Scenario s =
      base("stale_data_in_window",
           "timestamps off: a byte copy of an old data segment is accepted by the new connection");
  Tape tape;
  const Net net{Vantage::near_server};
  constexpr std::uint32_t ci = 1'000'000;
  constexpr std::uint32_t si = 5'000'000;
  Talk n1(tape, net, ends(net, kV4, 40009, ci, si, false), kBase, Link::ethernet);
  handshake(n1);
  n1.data(C, 1000);
  n1.data(S, 1000);
  n1.ack(C);
  const auto old = n1.in(ms(2)).data(C, 1000);  // seq ci+1001, ack si+1001
  n1.ack(S);
  n1.in(ms(5)).fin(C);
  n1.ack(S);
  n1.in(ms(1)).fin(S);
  const auto final_ack = n1.ack(C);
  // The client kept no TIME_WAIT and reconnects 5 ms later; both ISNs are only a few hundred
  // above the old ones, so the sequence spaces overlap.
  Talk n2(tape, net, ends(net, kV4, 40009, ci + 400, si + 700, false), tape.last_ts() + ms(5),
          Link::ethernet);
  n2.ip_ids(C, 5001).ip_ids(S, 9001);
  const auto syn = handshake(n2).syn;
  n2.in(ms(1)).data(C, 600);  // the server's RCV.NXT becomes ci+1001
  n2.data(S, 300);            // its SND.NXT becomes si+1001
  n2.ack(C);
  const auto copy = tape.copy_of(old, tape.last_ts() + ms(3));
  const auto taken = n2.at(tape.ts(copy) + us(100)).ack(S, with_ack(ci + 2001));
  n2.in(ms(1)).data(C, 1000);  // the client's real bytes for that range: a duplicate now
  n2.ack(S);
  n2.in(ms(5)).fin(C);
  n2.ack(S);
  n2.in(ms(1)).fin(S);
  n2.ack(C);
  s.packets = tape.take();
  s.description =
      fmt("Timestamps off. Incarnation 1: client data %llu (seq 1001001, ack 5001001, 1000 bytes), "
          "clean close, final ACK %llu. The client reconnects 5 ms later (SYN %llu) with ISNs "
          "1000400/5000700, so after 600 and 300 bytes of filler the server's RCV.NXT is 1001001 "
          "and its SND.NXT 5001001. Frame %llu is a byte copy of %llu (IP id from the old run): in "
          "window, acceptable ack, and the server takes it (ACK %llu advances by 1000). Old data "
          "was delivered as new: critical.",
          old, final_ack, syn, copy, old, taken);
  s.findings = {finding("tuple_reuse", "unsafe", "warning", "confirmed", {final_ack, syn}),
                finding("stale_segment", "stale_data", "critical", "confirmed", {copy})};
  s.connections = {conn("fin", "client", "client", 1), conn("fin", "client", "client", 2)};
  return s;
}

// A late duplicate of the old incarnation's FIN arrives outside the new one's window.
Scenario stale_fin_outside_window() {
  Scenario s = base("stale_fin_outside_window",
                    "safe reuse 1 s after close; a late copy of the old server FIN arrives outside "
                    "the new window");
  Tape tape;
  const Net net{Vantage::near_client};
  Talk n1(tape, net, ends(net, kV4, 40010, 1'000'000, 5'000'000, false), kBase, Link::ethernet);
  handshake(n1);
  exchange(n1, 120, 1000);
  n1.in(ms(5)).fin(C);
  n1.ack(S);
  const auto old_fin = n1.in(ms(1)).fin(S);
  const auto final_ack = n1.ack(C);
  Talk n2(tape, net, ends(net, kV4, 40010, 1'200'000, 9'000'000, false), tape.last_ts() + sec(1),
          Link::ethernet);
  n2.ip_ids(C, 20'000).ip_ids(S, 30'000);
  const auto syn = handshake(n2).syn;
  exchange(n2, 120, 1000);
  const auto copy = tape.copy_of(old_fin, tape.last_ts() + ms(10));
  const auto dup_ack = n2.at(tape.ts(copy) + us(100)).ack(C);
  n2.in(ms(5)).fin(C);
  n2.ack(S);
  n2.in(ms(1)).fin(S);
  n2.ack(C);
  s.packets = tape.take();
  s.description = fmt(
      "Incarnation 1 closes cleanly, client first (server FIN %llu, final ACK %llu). The client "
      "reconnects 1 s later (SYN %llu) with an ISN beyond the old sequence space (RFC 6191 safe). "
      "Frame %llu is a byte copy of the old FIN %llu (same IP id: the network delivered it late, "
      "the server did not re-send it): its seq is far outside the new receive window; the client "
      "answers with a plain ACK (%llu). Not a FIN retransmission of incarnation 1.",
      old_fin, final_ack, syn, copy, old_fin, dup_ack);
  s.findings = {finding("tuple_reuse", "rfc6191_safe", "info", "confirmed", {final_ack, syn}),
                finding("stale_segment", "stale_fin", "warning", "confirmed", {copy})};
  s.connections = {conn("fin", "client", "client", 1), conn("fin", "client", "client", 2)};
  return s;
}

// Older stacks (RFC 793, BSD, Linux < 3.6) answer an in-window SYN in LAST_ACK with RST, not
// with a challenge ACK (RFC 5961 §4).
Scenario old_stack_syn_rst_in_last_ack() {
  Scenario s = base("old_stack_syn_rst_in_last_ack",
                    "final ACK lost, client reconnects at once; an old stack in LAST_ACK answers "
                    "the SYN with RST");
  Tape tape;
  const Net net{Vantage::near_server};
  constexpr std::uint32_t ci = 1'000'000;
  Talk n1(tape, net, ends(net, kV4, 40011, ci, 5'000'000, false), kBase, Link::ethernet);
  handshake(n1);
  exchange(n1, 120, 1000);
  n1.in(ms(5)).fin(C);
  n1.ack(S);
  const auto fin = n1.in(ms(1)).fin(S);
  n1.ack(C, lost());  // lost before the capture point: the server stays in LAST_ACK
  // The client kept no TIME_WAIT and reconnects from the same port 100 ms later; its ISN lies
  // inside the server's receive window (10000 above the old RCV.NXT).
  const std::uint32_t isn2 = ci + 122 + 10'000;
  const Timestamp start2 = tape.ts(fin) + ms(100);
  Talk n2(tape, net, ends(net, kV4, 40011, isn2, 0, false), start2, Link::ethernet);
  n2.ip_ids(C, 20'000);
  const auto syn = n2.syn();
  // RFC 793 / BSD dropwithreset: the SYN has no ACK, so RST+ACK with seq 0, ack = SYN + 1. The
  // old connection is dropped; the client's connect() fails (the RST acknowledges its SYN).
  Emit r;
  r.seq = 0;
  r.ack = isn2 + 1;
  const auto rst = n1.at(tape.ts(syn) + us(100)).segment(S, flag::rst | flag::ack, 0, r);
  // The application retries 1 s later: a new socket, a new ISN.
  Talk n3(tape, net, ends(net, kV4, 40011, isn2 + 250'000, 9'000'000, false), tape.ts(syn) + sec(1),
          Link::ethernet);
  n3.ip_ids(C, 30'000).ip_ids(S, 40'000);
  const auto retry = handshake(n3).syn;
  exchange(n3, 120, 1000);
  n3.in(ms(5)).fin(C);
  n3.ack(S);
  n3.in(ms(1)).fin(S);
  n3.ack(C);
  s.packets = tape.take();
  s.description =
      fmt("Timestamps off, vantage near the server. Client closes first; server FIN %llu; the "
          "final ACK is lost before the capture point, so the server stays in LAST_ACK. The client "
          "(no TIME_WAIT) reconnects from the same port 100 ms later: SYN %llu, ISN inside the "
          "server's window. An old stack answers an in-window SYN in LAST_ACK with RST (RFC 793; "
          "BSD dropwithreset; Linux < 3.6): RST+ACK %llu, seq 0, ack = ISN+1, which ends the "
          "server's LAST_ACK and refuses the connect(). The application retries 1 s later with a "
          "new ISN (SYN %llu): an application retry of an incarnation that never got past SYN_SENT "
          "(syn_seq_jump), not another reuse.",
          fin, syn, rst, retry);
  s.findings = {finding("tuple_reuse", "while_last_ack", "error", "confirmed", {fin, syn}),
                finding("lost_final_ack", "ended_by_reuse", "error", "probable", {fin, rst}),
                finding("rst_after_close", "reuse_rejected", "error", "confirmed", {syn, rst})};
  s.connection_count = 2;
  return s;
}

// ---------------------------------------------------------------------------------------------
// Edge cases of the close itself.

Scenario seq_wraparound_close() {
  Scenario s =
      base("seq_wraparound_close",
           "pcapng/ns: data and both FINs straddle 2^32; final ACK (ack 0) lost, FIN re-sent");
  Tape tape;
  Net net{Vantage::near_client};
  net.rtt = ns(20'000'123);
  net.turnaround = ns(100'007);
  net.back_to_back = ns(30'011);
  // Server: 4096 bytes from 0xFFFFEFFF, so its FIN occupies 0xFFFFFFFF and the final ACK is 0.
  Talk t(tape, net, ends(net, kV4, 40012, 0xFFFFFF00u, 0xFFFFEFFEu, true, 0xFFFFFF00u),
         kBase + ns(123'456'789), Link::ethernet);
  handshake(t);
  t.data(C, 512);  // 0xFFFFFF01 .. 0x100
  t.data(S, 1448);
  t.data(S, 1448);
  t.data(S, 1200);
  t.ack(C);
  t.in(ms(5)).fin(C);  // seq 0x101
  t.ack(S);
  const auto fin = t.in(ms(1)).fin(S);  // seq 0xFFFFFFFF
  const auto final_ack = t.ack(C);      // ack 0
  const auto refin = t.at(tape.ts(fin) + ms(206) + ns(777)).retransmit_fin(S);
  const auto reack = t.ack(C);
  s.packets = tape.take();
  s.link = Link::ethernet;
  s.format = FileFormat::pcapng_ns;
  s.description =
      fmt("pcapng with nanosecond timestamps. Client ISN 0xFFFFFF00: its 512 bytes wrap and its "
          "FIN is at 0x101. Server ISN 0xFFFFEFFE: 4096 bytes, FIN %llu at 0xFFFFFFFF, so the "
          "final ACK %llu carries ack 0 (TSvals wrap too). The final ACK is captured and lost; FIN "
          "re-sent %llu, re-ACKed %llu. Exactly the lost_final_ack_reacked findings.",
          fin, final_ack, refin, reack);
  s.findings = reacked_findings(fin, final_ack, refin, reack);
  s.connections = {conn("fin", "client", "client")};
  return s;
}

// HTTP/1.0 style: the server's FIN rides on its last data segment; that segment is lost after
// the capture point (vantage near the server) and re-sent whole.
Scenario fin_with_data_resent() {
  Scenario s = base(
      "fin_with_data_resent",
      "server FIN piggybacked on its last data; the FIN+data segment is lost once and re-sent");
  Tape tape;
  const Net net{Vantage::near_server};
  Talk t(tape, net, ends(net, kV4, 40013, 2'000'000, 4'000'000, true), kBase, Link::ethernet);
  handshake(t);
  t.data(C, 120);
  t.data(S, 1448);
  const std::uint32_t fin_segment_seq = t.conv().next_seq(S);
  const auto fin = t.fin_data(S, 500);
  const auto partial = t.ack(C, with_ack(fin_segment_seq));  // ACKs the first segment only
  const auto refin = t.at(tape.ts(fin) + ms(210)).retransmit_fin(S);
  const auto ack = t.ack(C);
  t.in(us(500)).fin(C);
  t.ack(S);
  s.packets = tape.take();
  s.description = fmt(
      "Server closes first: FIN+PSH+ACK %llu carries the last 500 bytes. It is lost after the "
      "capture point; the client's ACK %llu covers only the segment before it. The server re-sends "
      "the whole segment (%llu, same seq, same fin_seq) and the client ACKs it (%llu), then "
      "closes. The FIN was re-sent because it never reached the client (the server is the active "
      "closer, not in LAST_ACK): fin_not_acknowledged, one retransmission then answered: info. No "
      "lost_final_ack.",
      fin, partial, refin, ack);
  s.findings = {
      finding("fin_retransmit", "fin_not_acknowledged", "info", "confirmed", {fin, refin, ack})};
  s.connections = {conn("fin", "server", "server")};
  return s;
}

// A capture drop in client->server just before the client's FIN, then the server's FIN re-sent
// with no final ACK captured (vantage near the server).
Scenario gap_before_fin() {
  Scenario s =
      base("gap_before_fin",
           "capture missed client data before its FIN; server FIN re-sent, no final ACK captured");
  Tape tape;
  const Net net{Vantage::near_server};
  Talk t(tape, net, ends(net, kV4, 40014, 6'000'000, 8'000'000, true), kBase, Link::ethernet);
  handshake(t);
  exchange(t, 120, 1000);
  t.in(ms(2)).missed().data(C, 300);  // received by the server, not captured
  const auto covers = t.ack(S);       // acknowledges the 300 bytes nobody saw
  const auto cfin = t.in(ms(5)).fin(C);
  t.ack(S);
  const auto fin = t.in(ms(1)).fin(S);
  t.ack(C, lost());
  const auto refin = t.at(tape.ts(fin) + ms(206)).retransmit_fin(S);
  const auto reack = t.ack(C);
  s.packets = tape.take();
  s.description = fmt(
      "Vantage near the server. The capture misses 300 bytes of client data (the server received "
      "them: its ACK %llu covers them, and the client FIN %llu starts beyond anything captured). "
      "Server FIN %llu, no final ACK captured, FIN re-sent %llu, client ACK %llu. detections.md "
      "3.1: a probable lost_final_ack needs no capture gap in client->server, and there is one, so "
      "the missing ACK proves nothing: only fin_retransmit, with the fallback cause "
      "fin_not_acknowledged (no captured ACK covered the FIN before its re-send), one "
      "retransmission then answered: info.",
      covers, cfin, fin, refin, reack);
  s.findings = {
      finding("fin_retransmit", "fin_not_acknowledged", "info", "confirmed", {fin, refin, reack})};
  s.connections = {conn("fin", "client", "client")};
  return s;
}

// ---------------------------------------------------------------------------------------------
// Decoys (detections.md §4): each must yield no finding.

Scenario mid_stream_start() {
  Scenario s = base("mid_stream_start",
                    "Linux SLL: capture starts mid-connection (no SYN), then a clean close");
  s.decoy = true;
  Tape tape;
  const Net net{Vantage::near_client};
  constexpr std::uint32_t server_next = 7'000'000;
  Talk t(tape, net, ends(net, kV4, 40015, 3'000'000, server_next, false), kBase, Link::linux_sll);
  t.data(C, 200, with_ack(server_next));
  t.data(S, 1448);
  t.data(S, 1448);
  t.ack(C);
  t.in(ms(5)).fin(C);
  t.ack(S);
  t.in(ms(1)).fin(S);
  t.ack(C);
  s.packets = tape.take();
  s.link = Link::linux_sll;
  s.description =
      "Linux cooked capture (tcpdump -i any). The capture starts in the middle of a connection: "
      "client data 1, server data 2-3, then a clean close, client first (FIN 5, ACK 6, FIN 7, "
      "final ACK 8). The client is the sender of the first packet; the connection is marked "
      "mid_stream.";
  ExpectedConnection c = conn("fin", "client", "client");
  c.mid_stream = true;
  c.handshake_seen = false;
  s.connections = {c};
  return s;
}

Scenario ends_in_time_wait() {
  Scenario s = base("ends_in_time_wait",
                    "server closes first; the capture ends 5 s into the server's TIME_WAIT");
  s.decoy = true;
  Tape tape;
  const Net net{Vantage::near_server};
  Talk t(tape, net, ends(net, kV4, 40016, 12'000'000, 13'000'000, true), kBase, Link::ethernet);
  handshake(t);
  t.data(C, 120);
  t.data(S, 1000);
  t.fin(S);
  t.ack(C);
  t.in(us(200)).fin(C);
  const auto final_ack = t.ack(S);
  // Another client's connection, still open, is what the capture sees last, 5 s later.
  Addr other = kV4;
  other.client = "192.0.2.11";
  Talk o(tape, net, ends(net, other, 40100, 14'000'000, 15'000'000, true, 555'000),
         tape.ts(final_ack) + ms(4980), Link::ethernet);
  handshake(o);
  s.packets = tape.take();
  s.description = fmt(
      "HTTP/1.0 style: the server closes first (FIN 6 right after its response), the client ACKs "
      "and closes, the server's final ACK %llu puts it in TIME_WAIT. The capture goes on for 5 s "
      "(another client's handshake, frames %llu-%llu, left open) and ends long before 2MSL: "
      "TIME_WAIT still running at the end is not a finding.",
      final_ack, final_ack + 1, final_ack + 3);
  ExpectedConnection c = conn("fin", "server", "server");
  c.client_state = "CLOSED";
  c.server_state = "TIME_WAIT";
  s.connections = {c, conn("open_at_end", "none", "none")};
  return s;
}

Scenario duplicate_frames() {
  Scenario s = base("duplicate_frames",
                    "pcapng/ns: a clean close where every frame is captured twice, 50 us apart");
  s.decoy = true;
  Tape tape;
  const Net net{Vantage::near_client};
  Talk t(tape, net, ends(net, kV4, 40017, 17'000'000, 18'000'000, true), kBase, Link::ethernet);
  const auto twice = [&](Side from, const std::function<void()>& send) {
    send();
    t.in(us(50)).duplicate(from);
  };
  twice(C, [&] { t.syn(); });
  twice(S, [&] { t.syn_ack(); });
  twice(C, [&] { t.ack(C); });
  twice(C, [&] { t.data(C, 120); });
  twice(S, [&] { t.data(S, 1000); });
  twice(C, [&] { t.ack(C); });
  twice(C, [&] { t.in(ms(5)).fin(C); });
  twice(S, [&] { t.ack(S); });
  twice(S, [&] { t.in(ms(1)).fin(S); });
  twice(C, [&] { t.ack(C); });
  s.packets = tape.take();
  s.format = FileFormat::pcapng_ns;
  s.description =
      "pcapng with nanosecond timestamps. A clean close (client first) where a mirror port "
      "delivers every frame twice: each even frame is a byte-identical copy (same IP id, TSval, "
      "checksum) of the frame before it, 50 us later. Duplicates are not retransmissions: no "
      "fin_retransmit, no lost_final_ack. The report counts 10 duplicates.";
  s.connections = {conn("fin", "client", "client")};
  s.duplicates = 10;
  return s;
}

Scenario tcp_fast_open() {
  Scenario s =
      base("tcp_fast_open", "TFO: SYN with cookie (option 34) and 100 bytes of data, clean close");
  s.decoy = true;
  Tape tape;
  const Net net{Vantage::near_client};
  const Ends e = ends(net, kV4, 40018, 19'000'000, 20'000'000, true);
  Talk t(tape, net, e, kBase, Link::ethernet);
  // The conversation sends the SYN (so its state counts the 100 bytes); the capture shows the
  // same SYN with the Fast Open cookie option, built here.
  t.missed().segment(C, flag::syn, 100);
  TcpSegmentSpec syn;
  syn.src = e.client.ip;
  syn.dst = e.server.ip;
  syn.src_port = e.client.port;
  syn.dst_port = e.server.port;
  syn.seq = e.client.isn;
  syn.flags = flag::syn;
  syn.window = e.client.window;
  syn.payload_len = 100;
  syn.ttl = e.client.ttl;
  syn.ip_id = 1;
  syn.mss = 1460;
  syn.sack_permitted = true;
  syn.wscale = 7;
  syn.ts_val = e.client.ts_start;
  syn.ts_ecr = 0;
  syn.raw_options = {34, 10, 0x5a, 0x17, 0xc3, 0x9e, 0x01, 0x42, 0x88, 0xd0};  // TFO cookie
  tape.add(SynthPacket{kBase, build_frame(syn, Link::ethernet), 0, 0});
  t.syn_ack();  // acknowledges the SYN and its data
  t.data(S, 1000);
  t.ack(C);
  t.in(ms(5)).fin(C);
  t.ack(S);
  t.in(ms(1)).fin(S);
  t.ack(C);
  s.packets = tape.take();
  s.description =
      "TCP Fast Open (RFC 7413): SYN 1 carries a TFO cookie (option kind 34, 8-byte cookie) and "
      "the 100-byte request; the SYN-ACK 2 acknowledges ISN+101, the server answers with data 3 "
      "before the handshake ACK 4; then a clean close, client first. A TFO SYN is no reuse and no "
      "stale segment.";
  s.connections = {conn("fin", "client", "client")};
  return s;
}

Scenario syn_retransmissions() {
  Scenario s = base("syn_retransmissions",
                    "SYN sent 3 times (same ISN, 1 s then 2 s backoff), then a clean connection");
  s.decoy = true;
  Tape tape;
  const Net net{Vantage::near_client};
  constexpr std::uint32_t isn = 21'000'000;
  Talk t(tape, net, ends(net, kV4, 40019, isn, 22'000'000, true), kBase, Link::ethernet);
  t.syn();
  t.in(sec(1)).syn(at_seq(isn));
  t.in(sec(2)).syn(at_seq(isn));
  t.syn_ack();
  t.ack(C);
  exchange(t, 120, 1000);
  t.in(ms(5)).fin(C);
  t.ack(S);
  t.in(ms(1)).fin(S);
  t.ack(C);
  s.packets = tape.take();
  s.description =
      "The client's SYN goes unanswered twice: frames 1, 2 (+1 s), 3 (+2 s more), same ISN, new IP "
      "id and TSval each (kernel retransmissions). The third is answered (4) and the connection "
      "runs and closes cleanly. SYN retransmissions are one incarnation, no reuse.";
  s.connections = {conn("fin", "client", "client")};
  s.connection_count = 1;
  return s;
}

Scenario syn_seq_jump() {
  Scenario s =
      base("syn_seq_jump", "SYN unanswered; the application retries after 3 s with a new ISN");
  s.decoy = true;
  Tape tape;
  const Net net{Vantage::near_client};
  constexpr std::uint32_t isn1 = 23'000'000;
  Talk first(tape, net, ends(net, kV4, 40020, isn1, 1, true), kBase, Link::ethernet);
  first.syn();
  first.in(sec(1)).syn(at_seq(isn1));
  const Timestamp start2 = kBase + sec(3);
  Talk retry(
      tape, net,
      ends(net, kV4, 40020, isn1 + 700'000, 24'000'000, true, ts_clock(100'000, kBase, start2)),
      start2, Link::ethernet);
  retry.ip_ids(C, 33'000);
  handshake(retry);
  exchange(retry, 120, 1000);
  retry.in(ms(5)).fin(C);
  retry.ack(S);
  retry.in(ms(1)).fin(S);
  retry.ack(C);
  s.packets = tape.take();
  s.description =
      "SYN 1 and its retransmission 2 (+1 s) get no answer; the application gives up after 3 s and "
      "connects again from the same port: SYN 3 with a new ISN (+700000), answered, clean close. "
      "An application retry of an incarnation that never left SYN_SENT (syn_seq_jump): one "
      "incarnation, no tuple_reuse.";
  s.connections = {conn("fin", "client", "client")};
  s.connection_count = 1;
  return s;
}

Scenario clean_close_fin_ack_piggyback() {
  Scenario s = base("clean_close_fin_ack_piggyback",
                    "client FIN; the server's ACK and FIN in one FIN+ACK segment; final ACK");
  s.decoy = true;
  Tape tape;
  const Net net{Vantage::near_client};
  Talk t(tape, net, ends(net, kV4, 40021, 25'000'000, 26'000'000, true), kBase, Link::ethernet);
  handshake(t);
  exchange(t, 120, 1000);
  t.in(ms(5)).fin(C);
  t.fin(S);  // acknowledges the client's FIN and closes at once
  t.ack(C);
  s.packets = tape.take();
  s.description =
      "Client FIN 7; the server's ACK of it and its own FIN travel in one segment (FIN+ACK 8); "
      "final ACK 9. Client active closer, client holds TIME_WAIT.";
  s.connections = {conn("fin", "client", "client")};
  return s;
}

Scenario half_close_data() {
  Scenario s = base("half_close_data",
                    "client shutdown(SHUT_WR); the server sends 10 more segments, then closes");
  s.decoy = true;
  Tape tape;
  const Net net{Vantage::near_client};
  Talk t(tape, net, ends(net, kV4, 40022, 27'000'000, 28'000'000, true), kBase, Link::ethernet);
  handshake(t);
  t.data(C, 200);
  const auto cfin = t.fin(C);
  t.ack(S);
  for (int i = 0; i < 5; ++i) {
    t.in(ms(i == 0 ? 2 : 20)).data(S, 1448);
    t.data(S, 1448);
    t.ack(C);
  }
  const auto sfin = t.in(ms(1)).fin(S);
  t.ack(C);
  s.packets = tape.take();
  s.description = fmt(
      "The client sends its request and shuts down its sending side (FIN %llu); the server ACKs it "
      "and keeps sending: 10 segments of 1448 bytes, which the client (in FIN_WAIT_2) ACKs; then "
      "the server closes (FIN %llu) and the client sends the final ACK. A half-close with data "
      "flowing the other way is no data_after_close.",
      cfin, sfin);
  s.connections = {conn("fin", "client", "client")};
  return s;
}

Scenario simultaneous_close() {
  Scenario s =
      base("simultaneous_close", "both FINs cross in the network; both sides end in TIME_WAIT");
  s.decoy = true;
  Tape tape;
  const Net net{Vantage::in_path};
  Talk t(tape, net, ends(net, kV4, 40023, 29'000'000, 30'000'000, true), kBase, Link::ethernet);
  handshake(t);
  exchange(t, 120, 1000);
  const auto cfin = t.in(ms(5)).fin(C);
  const std::uint32_t before_fin = t.conv().next_seq(C) - 1;
  const auto sfin = t.in(us(200)).fin(S, with_ack(before_fin));  // sent before 7 arrived
  t.in(ms(10)).ack(C);
  t.in(us(150)).ack(S);
  s.packets = tape.take();
  s.description = fmt(
      "Vantage in the path (both TTLs decremented). Both applications close at the same time: "
      "client FIN %llu and server FIN %llu cross (the server's ack does not cover the client's "
      "FIN). Each side ACKs the other's FIN from CLOSING and both end in TIME_WAIT: active closer "
      "both.",
      cfin, sfin);
  s.connections = {conn("fin", "both", "both")};
  return s;
}

Scenario keepalive_probes() {
  Scenario s =
      base("keepalive_probes",
           "IPv6: idle connection kept alive by 3 probes (seq = next-1, one with a garbage byte)");
  s.decoy = true;
  Tape tape;
  const Net net{Vantage::near_client};
  Talk t(tape, net, ends(net, kV6, 40024, 31'000'000, 32'000'000, true), kBase, Link::ethernet);
  handshake(t);
  exchange(t, 120, 1000);
  for (int i = 0; i < 3; ++i) {
    const std::uint32_t probe_seq = t.conv().next_seq(C) - 1;
    Emit e = at_seq(probe_seq);
    // The last one as BSD and Windows send it: one garbage byte at snd_nxt - 1.
    if (i < 2)
      t.in(sec(30)).ack(C, e);
    else
      t.in(sec(30)).segment(C, flag::ack, 1, e);
    t.ack(S);
  }
  t.in(sec(5)).fin(C);
  t.ack(S);
  t.in(ms(1)).fin(S);
  t.ack(C);
  s.packets = tape.take();
  s.description =
      "IPv6. After one exchange the connection idles; the client's keep-alive timer (30 s) sends "
      "probes 7, 9 (length 0) and 11 (one garbage byte), each at seq = SND.NXT-1 and each answered "
      "by the server's ACK; then a clean close. Probes are neither retransmissions nor stale "
      "segments.";
  s.connections = {conn("fin", "client", "client")};
  return s;
}

Scenario zero_window_probes() {
  Scenario s =
      base("zero_window_probes",
           "server window 0; client zero-window probes with backoff; window reopens; clean close");
  s.decoy = true;
  Tape tape;
  const Net net{Vantage::near_client};
  Talk t(tape, net, ends(net, kV4, 40025, 33'000'000, 34'000'000, true), kBase, Link::ethernet);
  handshake(t);
  t.data(C, 1448);
  t.data(C, 1448);
  std::vector<std::uint64_t> zero{t.ack(S)};
  for (int i = 0; i < 3; ++i) {
    t.in(ms(200LL << i)).ack(C, at_seq(t.conv().next_seq(C) - 1));
    zero.push_back(t.ack(S));
  }
  t.in(ms(300)).ack(S);  // window update
  t.data(C, 1448);
  t.data(C, 600);
  t.ack(S);
  t.in(ms(5)).fin(C);
  t.ack(S);
  t.in(ms(1)).fin(S);
  t.ack(C);
  for (const auto f : zero) tape.set_window(f, 0, Link::ethernet);
  s.packets = tape.take();
  s.description =
      "The server's application stops reading: its ACK 6 advertises window 0. The client probes at "
      "seq = SND.UNA-1 with length 0 (7, 9, 11; backoff 200/400/800 ms), each answered by a zero "
      "window ACK (8, 10, 12); the window update 13 reopens it, the rest is sent and the "
      "connection closes cleanly, client first.";
  s.connections = {conn("fin", "client", "client")};
  return s;
}

}  // namespace

const std::vector<ScenarioEntry>& scenario_registry() {
  static const std::vector<ScenarioEntry> all = [] {
    std::vector<ScenarioEntry> v;
    // Names and summaries live with the scripts: take them from one run of each.
    const auto add = [&v](Scenario (*make)()) {
      const Scenario s = make();
      v.push_back(ScenarioEntry{s.name, s.summary, make});
    };
    add(old_stack_syn_rst_in_last_ack);
    add(seq_wraparound_close);
    add(fin_with_data_resent);
    add(mid_stream_start);
    add(ends_in_time_wait);
    add(duplicate_frames);
    add(gap_before_fin);
    add(tcp_fast_open);
    add(syn_retransmissions);
    add(syn_seq_jump);
    add(clean_close_fin_ack_piggyback);
    add(half_close_data);
    add(simultaneous_close);
    add(keepalive_probes);
    add(zero_window_probes);
    add(lost_final_ack_reacked);
    add(lost_final_ack_probable);
    add(no_time_wait_rst);
    add(linger_zero_rst);
    add(unread_data_rst);
    add(time_wait_assassination);
    add(reuse_unsafe);
    add(reuse_after_reset);
    add(stale_data_in_window);
    add(stale_fin_outside_window);
    return v;
  }();
  return all;
}

std::optional<Scenario> make_scenario(std::string_view name) {
  for (const ScenarioEntry& e : scenario_registry()) {
    if (e.name == name) return e.make();
  }
  return std::nullopt;
}

std::vector<Scenario> make_all_scenarios() {
  std::vector<Scenario> out;
  for (const ScenarioEntry& e : scenario_registry()) out.push_back(e.make());
  return out;
}

std::string scenarios_readme(const std::vector<Scenario>& all) {
  std::ostringstream o;
  o << "# Synthetic teardown captures (samples/synthetic)\n\nGenerated by `lastack-synth write-all "
       "samples/synthetic` from `src/synth/scenarios.cpp`; do not edit by hand (this README "
       "included). The `[synthetic]` tests check that every file here is byte-identical to what "
       "the generator writes now and that lastack reports exactly the findings listed below (kind, "
       "cause, severity, confidence, evidence frames) and nothing else.\n\nAll scenarios are "
       "deterministic: time base 2026-01-01T00:00:00Z, client 192.0.2.10 (or 2001:db8:c::10), "
       "server 198.51.100.20 (or 2001:db8:5::20) port 8080, fixed ports, ISNs and IP ids, RTT 20 "
       "ms. The side near the capture point sends with TTL 64, the far side's packets arrive with "
       "57 (in the path: 61/59). Frame numbers are 1-based, as Wireshark shows them.\n\n| scenario "
       "| file | expected findings |\n|---|---|---|\n";
  const auto link_name = [](Link l) {
    switch (l) {
      case Link::ethernet: return "Ethernet";
      case Link::linux_sll: return "Linux SLL";
      case Link::linux_sll2: return "Linux SLL2";
      case Link::raw_ip: return "raw IP";
      case Link::null_loopback: return "BSD loopback";
    }
    return "?";
  };
  const auto frames_text = [](const std::vector<std::uint64_t>& f) {
    std::string t;
    for (std::size_t i = 0; i < f.size(); ++i) t += (i ? "," : "") + std::to_string(f[i]);
    return t;
  };
  for (const Scenario& s : all) {
    o << "| `" << s.name << "` | `" << s.file_name() << "` (" << link_name(s.link)
      << (s.format == FileFormat::pcapng_ns ? ", pcapng ns" : ", pcap us") << ", "
      << s.packets.size() << " frames) | ";
    if (s.findings.empty()) o << "none" << (s.decoy ? " (decoy)" : "");
    for (std::size_t i = 0; i < s.findings.size(); ++i) {
      const ExpectedFinding& f = s.findings[i];
      o << (i ? "<br>" : "") << "`" << f.kind << "` `" << f.cause << "` " << f.severity << " "
        << f.confidence << " @ " << frames_text(f.frames);
    }
    o << " |\n";
  }
  o << "\n## Scenarios\n";
  for (const Scenario& s : all) {
    o << "\n### `" << s.name << "`" << (s.decoy ? " (decoy, detections.md §4)" : "") << "\n\n"
      << s.summary << ".\n\n"
      << s.description << "\n";
    if (!s.connections.empty()) {
      o << "\nConnections:";
      for (const ExpectedConnection& c : s.connections) {
        o << " [incarnation " << c.incarnation << ": close " << c.close_kind << ", active closer "
          << c.active_closer << ", TIME_WAIT " << c.time_wait_holder
          << (c.mid_stream ? ", mid_stream" : "") << (c.handshake_seen ? "" : ", no handshake")
          << "]";
      }
      o << "\n";
    }
  }
  return o.str();
}

}  // namespace lastack::synth
