// Vantage estimation. Packets sent by the capturing host (or a host on the same link) carry the
// initial TTL/hop limit (64, 128 or 255); packets that crossed a router carry less. Failing
// that, handshake timing: near the client, SYN→SYN-ACK spans the network round trip and
// SYN-ACK→ACK only the client's turnaround; near the server, the other way round.
#include "lastack/detect/detector.h"

namespace lastack::detect {

namespace {

bool initial_ttl(std::uint8_t ttl) {
  return ttl == 64 || ttl == 128 || ttl == 255;
}

findings::Vantage from_ttl(const tcp::Connection& c) {
  const std::uint8_t ct = c.endpoint(tcp::Role::client).first_ttl;
  const std::uint8_t st = c.endpoint(tcp::Role::server).first_ttl;
  if (ct == 0 || st == 0) return findings::Vantage::unknown;
  const bool c_local = initial_ttl(ct);
  const bool s_local = initial_ttl(st);
  if (c_local && !s_local) return findings::Vantage::near_client;
  if (s_local && !c_local) return findings::Vantage::near_server;
  if (!c_local && !s_local) return findings::Vantage::in_path;
  return findings::Vantage::unknown;
}

findings::Vantage from_timing(const tcp::Connection& c) {
  const tcp::Endpoint& cl = c.endpoint(tcp::Role::client);
  const tcp::Endpoint& sv = c.endpoint(tcp::Role::server);
  if (!c.handshake_seen() || !cl.first_syn.seen || !sv.first_syn.seen) {
    return findings::Vantage::unknown;
  }
  // The handshake ACK is not kept as a moment; the server's ESTABLISHED came with the first
  // client segment after the SYN-ACK, which is the client's turnaround.
  const Duration syn_to_synack = sv.first_syn.ts - cl.first_syn.ts;
  const Duration synack_to_ack = c.handshake_ack_ts() - sv.first_syn.ts;
  if (syn_to_synack.ns <= 0 || synack_to_ack.ns < 0) return findings::Vantage::unknown;
  // Compared by division: a hostile capture's handshake can span decades, and ×5 would overflow.
  if (synack_to_ack.ns < syn_to_synack.ns / 5) return findings::Vantage::near_client;
  if (syn_to_synack.ns < synack_to_ack.ns / 5) return findings::Vantage::near_server;
  return findings::Vantage::in_path;
}

}  // namespace

findings::Vantage estimate_vantage(const tcp::Connection& c, std::string& basis) {
  const findings::Vantage by_ttl = from_ttl(c);
  if (by_ttl != findings::Vantage::unknown && by_ttl != findings::Vantage::in_path) {
    basis = "ttl";
    return by_ttl;
  }
  const findings::Vantage by_timing = from_timing(c);
  if (by_timing != findings::Vantage::unknown) {
    basis = "timing";
    return by_timing;
  }
  basis = by_ttl == findings::Vantage::in_path ? "ttl" : "none";
  return by_ttl;
}

}  // namespace lastack::detect
