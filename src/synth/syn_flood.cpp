#include "lastack/synth/syn_flood.h"

#include <array>

#include "lastack/decode/decoded_packet.h"
#include "lastack/synth/conversation.h"
#include "synth/capture_stream.h"

namespace lastack::synth {

namespace {

struct Target {
  const char* ip;
  std::uint16_t port;
  std::uint32_t per_mille;  // share of the flood
};
constexpr std::array<Target, 3> kTargets{
    {{"10.30.0.1", 80, 600}, {"10.30.0.2", 443, 300}, {"10.30.0.3", 22, 100}}};

IpAddress ip(const std::string& text) {
  IpAddress a;
  parse_ip(text, a);
  return a;
}

// The legitimate connections' packets, time-ordered: a few dozen, so they are held in memory.
std::vector<SynthPacket> legitimate_packets(const SynFloodConfig& cfg, SynFloodTruth& truth) {
  std::vector<Conversation> convs;
  const double span_ns = 1e9 * static_cast<double>(cfg.syns) / cfg.syns_per_s;
  for (std::uint32_t k = 0; k < cfg.legitimate; ++k) {
    const auto offset = static_cast<std::int64_t>(span_ns * (k + 1) / (cfg.legitimate + 1));
    HostSpec client{ip("192.0.2." + std::to_string(10 + k)), static_cast<std::uint16_t>(50000 + k),
                    1000 + k * 7919};
    HostSpec server{ip(kTargets[0].ip), kTargets[0].port, 5000 + k * 104729};
    Conversation& c = convs.emplace_back(client, server, cfg.start + Duration{offset});
    c.handshake();
    c.exchange(100, 1000);
    c.close(Side::client);
    truth.legitimate_clients.push_back(format_endpoint(client.ip, client.port));
  }
  std::vector<const Conversation*> parts;
  parts.reserve(convs.size());
  for (const Conversation& c : convs) parts.push_back(&c);
  return merge_by_time(parts);
}

// One flood SYN: a random source in 100.64.0.0/10 and an ephemeral port, a random ISN.
SynthPacket flood_syn(detail::Rng& rng, const Target& target, Timestamp ts) {
  const std::uint32_t src = (100U << 24) | (64U << 16) | (rng.u32() & 0x3FFFFF);
  const std::uint8_t src_bytes[4] = {
      static_cast<std::uint8_t>(src >> 24), static_cast<std::uint8_t>(src >> 16),
      static_cast<std::uint8_t>(src >> 8), static_cast<std::uint8_t>(src)};
  TcpSegmentSpec spec;
  spec.src = IpAddress::v4(src_bytes);
  spec.dst = ip(target.ip);
  spec.src_port = static_cast<std::uint16_t>(1024 + rng.below(64512));
  spec.dst_port = target.port;
  spec.seq = rng.u32();
  spec.flags = decode::tcp_flag::syn;
  spec.ip_id = static_cast<std::uint16_t>(rng.u32());
  spec.mss = 1460;
  return SynthPacket{ts, build_frame(spec)};
}

const Target& pick_target(detail::Rng& rng) {
  std::uint64_t roll = rng.below(1000);
  for (const Target& t : kTargets) {
    if (roll < t.per_mille) return t;
    roll -= t.per_mille;
  }
  return kTargets.back();
}

}  // namespace

Status generate_syn_flood(const SynFloodConfig& cfg, const std::string& path,
                          SynFloodTruth& truth) {
  truth = SynFloodTruth{};
  detail::StreamWriter out;
  if (!out.open(path, false))
    return make_error(ErrorCode::io, "cannot open " + path + " for writing");
  detail::Rng rng(cfg.seed);
  const std::vector<SynthPacket> legit = legitimate_packets(cfg, truth);
  std::size_t next_legit = 0;
  std::array<std::uint64_t, kTargets.size()> counts{};
  const double gap_ns = 1e9 / cfg.syns_per_s;
  for (std::uint64_t i = 0; i < cfg.syns; ++i) {
    const Timestamp ts =
        cfg.start + Duration{static_cast<std::int64_t>(gap_ns * static_cast<double>(i))};
    for (; next_legit < legit.size() && legit[next_legit].ts <= ts; ++next_legit) {
      out.write(legit[next_legit]);
    }
    const Target& target = pick_target(rng);
    ++counts[static_cast<std::size_t>(&target - kTargets.data())];
    out.write(flood_syn(rng, target, ts));
  }
  for (; next_legit < legit.size(); ++next_legit) out.write(legit[next_legit]);
  truth.packets = cfg.syns + legit.size();
  for (std::size_t i = 0; i < kTargets.size(); ++i) {
    truth.servers.push_back(std::string(kTargets[i].ip) + ":" + std::to_string(kTargets[i].port));
    truth.syns_per_server.push_back(counts[i]);
  }
  std::uint64_t size = 0;
  if (!out.close(size)) return make_error(ErrorCode::io, "cannot write " + path);
  return {};
}

}  // namespace lastack::synth
