// Scripted conversations run through the analysis layers, for unit tests: synthetic frames →
// decode::decode_frame → tcp::make_segment (frame numbers 1-based, input 0) → a single
// tcp::Connection, a flow::FlowTable, or the whole per-connection analysis.
#pragma once

#include <catch2/catch.hpp>

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "lastack/detect/detector.h"
#include "lastack/findings/connection_summary.h"
#include "lastack/findings/finding.h"
#include "lastack/flow/flow_table.h"
#include "lastack/synth/capture_writer.h"
#include "lastack/synth/conversation.h"
#include "lastack/tcp/connection.h"
#include "lastack/tcp/segment.h"

namespace lastack::test {

// One decoded TCP segment with its four-tuple key, direction and sender.
struct ScriptedSegment {
  tcp::FourTuple key;
  tcp::Dir dir = tcp::Dir::a_to_b;
  IpAddress src;
  std::uint16_t src_port = 0;
  std::uint32_t interface_id = 0;  // pcapng interface of the packet
  tcp::Segment seg;
};

// Decodes packets (frame i of the list is frame number first_frame_no + i). Every packet must
// decode as TCP (REQUIREd).
std::vector<ScriptedSegment> to_segments(const std::vector<synth::SynthPacket>& packets,
                                         synth::Link link, std::uint64_t first_frame_no = 1);
std::vector<ScriptedSegment> to_segments(const synth::Conversation& conv);

// (a) One tcp::Connection (id 1, incarnation 1) with the client given as an endpoint. Feeds a
// conversation's packets as the script produces them: call sync() after script lines and look
// at the states in between.
class ScriptedConnection {
 public:
  ScriptedConnection(const synth::Conversation& conv, const synth::HostSpec& client,
                     bool mid_stream = false);

  // Feeds every packet the conversation wrote since the last call.
  ScriptedConnection& sync();
  // Feeds one segment (its sender's role follows the client endpoint given).
  void feed(const ScriptedSegment& s);

  [[nodiscard]] const tcp::Connection& conn() const { return *conn_; }
  [[nodiscard]] tcp::Connection& conn() { return *conn_; }
  [[nodiscard]] const tcp::Endpoint& client() const { return conn_->endpoint(tcp::Role::client); }
  [[nodiscard]] const tcp::Endpoint& server() const { return conn_->endpoint(tcp::Role::server); }
  [[nodiscard]] tcp::Role role_of(const ScriptedSegment& s) const;
  // The segments fed so far, in order.
  [[nodiscard]] const std::vector<ScriptedSegment>& fed() const { return fed_; }
  // Facts of the given frame number.
  [[nodiscard]] std::vector<const tcp::Fact*> facts_of_frame(std::uint64_t frame_no) const;

 private:
  const synth::Conversation& conv_;
  IpAddress client_ip_;
  std::uint16_t client_port_;
  bool mid_stream_;
  std::unique_ptr<tcp::Connection> conn_;
  std::size_t next_ = 0;
  std::vector<ScriptedSegment> fed_;
};

// (b) A flow::FlowTable fed like the pipeline does (on_segment, then expire at the frame's time),
// collecting finalised connections in finalisation order.
class ScriptedFlows {
 public:
  explicit ScriptedFlows(flow::FlowSettings settings = {});

  // Feeds packets (numbered from the next frame number on). Returns *this.
  ScriptedFlows& feed(const std::vector<synth::SynthPacket>& packets, synth::Link link);
  ScriptedFlows& feed(const synth::Conversation& conv);
  // Advances capture time without a packet.
  ScriptedFlows& expire(Timestamp now);
  ScriptedFlows& finish();

  [[nodiscard]] flow::FlowTable& table() { return table_; }
  // Finalised connections, in the order the table handed them out.
  [[nodiscard]] const std::vector<std::unique_ptr<tcp::Connection>>& finalized() const {
    return finalized_;
  }
  // The finalised connection with this id (REQUIREd to exist).
  [[nodiscard]] const tcp::Connection& by_id(std::uint64_t id) const;
  [[nodiscard]] std::uint64_t frames_fed() const { return next_frame_ - 1; }

 private:
  flow::FlowTable table_;
  std::vector<std::unique_ptr<tcp::Connection>> finalized_;
  std::uint64_t next_frame_ = 1;
};

// (c) The whole analysis of a capture: flow table, then summary and detectors per finalised
// connection (as pipeline::analyze does, without the report).
struct Analysis {
  std::vector<findings::ConnectionSummary> summaries;  // in connection-id order
  std::vector<findings::Finding> findings;             // in finalisation order

  [[nodiscard]] std::vector<const findings::Finding*> of_kind(std::string_view kind) const;
  [[nodiscard]] const findings::ConnectionSummary& summary(std::uint64_t id) const;
};

Analysis analyze(const std::vector<synth::SynthPacket>& packets, synth::Link link,
                 detect::Context ctx = {});
Analysis analyze(const synth::Conversation& conv, detect::Context ctx = {});

// "kind/cause severity confidence frames=[..]" per finding, one a line (for INFO on failure).
std::string describe(const std::vector<findings::Finding>& fs);

// Frame numbers of a finding's evidence (input ignored).
std::vector<std::uint64_t> frame_numbers(const findings::Finding& f);

// Script shorthands.
inline constexpr Timestamp kT0{1'700'000'000'000'000'000};  // Conversation's default start
IpAddress ip(const char* text);
synth::HostSpec host(const char* ip_text, std::uint16_t port, std::uint32_t isn,
                     std::uint8_t ttl = 64);
synth::Emit lost();
synth::Emit with_seq(std::uint32_t seq);
synth::Emit with_ack(std::uint32_t ack);
synth::Emit with_ip_id(std::uint16_t id);

// The one finding of `kind` (fails the test when there is not exactly one).
inline const findings::Finding& only(const Analysis& a, const char* kind) {
  INFO(describe(a.findings));
  const auto fs = a.of_kind(kind);
  REQUIRE(fs.size() == 1);
  return *fs.front();
}

// An evidence value of a finding by name (fails the test when it is missing).
template <class T>
T evidence(const findings::Finding& f, const char* name) {
  for (const auto& [key, value] : f.evidence) {
    if (key == name) return std::get<T>(value);
  }
  FAIL("no evidence " << name);
  return T{};
}

}  // namespace lastack::test
