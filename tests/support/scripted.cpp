#include "support/scripted.h"

#include <catch2/catch.hpp>

#include <algorithm>
#include <stdexcept>

#include "lastack/capture/raw_frame.h"
#include "lastack/decode/decoded_packet.h"

namespace lastack::test {

std::vector<ScriptedSegment> to_segments(const std::vector<synth::SynthPacket>& packets,
                                         synth::Link link, std::uint64_t first_frame_no) {
  std::vector<ScriptedSegment> out;
  out.reserve(packets.size());
  for (std::size_t i = 0; i < packets.size(); ++i) {
    const synth::SynthPacket& p = packets[i];
    capture::RawFrame frame;
    frame.input = 0;
    frame.frame_no = first_frame_no + i;
    frame.ts = p.ts;
    frame.link_type = synth::link_type_of(link);
    frame.interface_id = p.interface_id;
    frame.orig_len = p.orig_len != 0 ? p.orig_len : static_cast<std::uint32_t>(p.bytes.size());
    frame.bytes = ByteView(p.bytes.data(), p.bytes.size());
    decode::DecodedPacket pkt;
    decode::decode_frame(frame, pkt);
    REQUIRE(pkt.outcome == decode::Outcome::tcp);
    ScriptedSegment s;
    s.key = tcp::FourTuple::from_packet(pkt.src, pkt.tcp.src_port, pkt.dst, pkt.tcp.dst_port, s.dir,
                                        pkt.vlan_id);
    s.interface_id = p.interface_id;
    s.src = pkt.src;
    s.src_port = pkt.tcp.src_port;
    s.seg = tcp::make_segment(frame, pkt);
    out.push_back(s);
  }
  return out;
}

std::vector<ScriptedSegment> to_segments(const synth::Conversation& conv) {
  return to_segments(conv.packets(), conv.link());
}

// --- ScriptedConnection ---

ScriptedConnection::ScriptedConnection(const synth::Conversation& conv,
                                       const synth::HostSpec& client, bool mid_stream)
    : conv_(conv), client_ip_(client.ip), client_port_(client.port), mid_stream_(mid_stream) {}

tcp::Role ScriptedConnection::role_of(const ScriptedSegment& s) const {
  return s.src == client_ip_ && s.src_port == client_port_ ? tcp::Role::client : tcp::Role::server;
}

void ScriptedConnection::feed(const ScriptedSegment& s) {
  if (!conn_) {
    const tcp::Dir client_dir =
        role_of(s) == tcp::Role::client
            ? s.dir
            : (s.dir == tcp::Dir::a_to_b ? tcp::Dir::b_to_a : tcp::Dir::a_to_b);
    conn_ = std::make_unique<tcp::Connection>(1, 1, s.key, client_dir, mid_stream_);
  }
  conn_->on_segment(s.seg, conn_->role_of(s.dir));
  fed_.push_back(s);
}

ScriptedConnection& ScriptedConnection::sync() {
  const auto& packets = conv_.packets();
  if (next_ < packets.size()) {
    const std::vector<synth::SynthPacket> fresh(
        packets.begin() + static_cast<std::ptrdiff_t>(next_), packets.end());
    for (const ScriptedSegment& s : to_segments(fresh, conv_.link(), next_ + 1)) feed(s);
    next_ = packets.size();
  }
  REQUIRE(conn_ != nullptr);
  return *this;
}

std::vector<const tcp::Fact*> ScriptedConnection::facts_of_frame(std::uint64_t frame_no) const {
  std::vector<const tcp::Fact*> out;
  for (const tcp::Fact& f : conn_->facts()) {
    if (f.frame.frame_no == frame_no) out.push_back(&f);
  }
  return out;
}

// --- ScriptedFlows ---

ScriptedFlows::ScriptedFlows(flow::FlowSettings settings)
    : table_(settings, [this](std::unique_ptr<tcp::Connection>& c) {
        finalized_.push_back(std::move(c));  // kept: the table makes a new one
      }) {}

ScriptedFlows& ScriptedFlows::feed(const std::vector<synth::SynthPacket>& packets,
                                   synth::Link link) {
  for (const ScriptedSegment& s : to_segments(packets, link, next_frame_)) {
    table_.on_segment(s.key, s.dir, s.seg, s.interface_id);
    table_.expire(s.seg.ts);
  }
  next_frame_ += packets.size();
  return *this;
}

ScriptedFlows& ScriptedFlows::feed(const synth::Conversation& conv) {
  return feed(conv.packets(), conv.link());
}

ScriptedFlows& ScriptedFlows::expire(Timestamp now) {
  table_.expire(now);
  return *this;
}

ScriptedFlows& ScriptedFlows::finish() {
  table_.finish();
  return *this;
}

const tcp::Connection& ScriptedFlows::by_id(std::uint64_t id) const {
  for (const auto& c : finalized_) {
    if (c->id() == id) return *c;
  }
  FAIL("no finalised connection with id " << id);
  throw;  // unreachable
}

// --- Analysis ---

std::vector<const findings::Finding*> Analysis::of_kind(std::string_view kind) const {
  std::vector<const findings::Finding*> out;
  for (const findings::Finding& f : findings) {
    if (f.kind == kind) out.push_back(&f);
  }
  return out;
}

const findings::ConnectionSummary& Analysis::summary(std::uint64_t id) const {
  for (const findings::ConnectionSummary& s : summaries) {
    if (s.id == id) return s;
  }
  FAIL("no summary for connection " << id);
  throw;  // unreachable
}

Analysis analyze(const std::vector<synth::SynthPacket>& packets, synth::Link link,
                 detect::Context ctx) {
  ScriptedFlows flows(flow::FlowSettings{ctx.msl, flow::FlowSettings{}.idle_timeout});
  flows.feed(packets, link).finish();
  Analysis a;
  for (const auto& c : flows.finalized()) {
    findings::ConnectionSummary summary;
    detect::analyze_connection(*c, ctx, summary, a.findings);
    a.summaries.push_back(std::move(summary));
  }
  std::sort(a.summaries.begin(), a.summaries.end(),
            [](const auto& x, const auto& y) { return x.id < y.id; });
  return a;
}

Analysis analyze(const synth::Conversation& conv, detect::Context ctx) {
  return analyze(conv.packets(), conv.link(), ctx);
}

std::vector<std::uint64_t> frame_numbers(const findings::Finding& f) {
  std::vector<std::uint64_t> out;
  for (const FrameRef& r : f.frames) out.push_back(r.frame_no);
  return out;
}

std::string describe(const std::vector<findings::Finding>& fs) {
  std::string out;
  for (const findings::Finding& f : fs) {
    out += "conn " + std::to_string(f.connection_id) + " " + f.kind + "/" + f.cause + " " +
           std::string(findings::to_string(f.severity)) + " " +
           std::string(findings::to_string(f.confidence)) + " frames=[";
    for (std::size_t i = 0; i < f.frames.size(); ++i) {
      out += (i ? "," : "") + std::to_string(f.frames[i].frame_no);
    }
    out += "]\n";
  }
  return out;
}

// No REQUIRE: tests build hosts in static initialisers, outside any test case.
IpAddress ip(const char* text) {
  IpAddress a;
  if (!parse_ip(text, a)) throw std::invalid_argument(std::string("bad IP address: ") + text);
  return a;
}

synth::HostSpec host(const char* ip_text, std::uint16_t port, std::uint32_t isn, std::uint8_t ttl) {
  synth::HostSpec h;
  h.ip = ip(ip_text);
  h.port = port;
  h.isn = isn;
  h.ttl = ttl;
  return h;
}

// Field by field: GCC's -Wmissing-field-initializers fires on partial designated initializers.
synth::Emit lost() {
  synth::Emit e;
  e.lost = true;
  return e;
}
synth::Emit with_seq(std::uint32_t seq) {
  synth::Emit e;
  e.seq = seq;
  return e;
}
synth::Emit with_ack(std::uint32_t ack) {
  synth::Emit e;
  e.ack = ack;
  return e;
}
synth::Emit with_ip_id(std::uint16_t id) {
  synth::Emit e;
  e.ip_id = id;
  return e;
}

}  // namespace lastack::test
