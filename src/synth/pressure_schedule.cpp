// Synthetic TIME_WAIT pressure captures (see the header).
#include "lastack/synth/pressure_schedule.h"

#include <memory>

namespace lastack::synth {

PressureSchedule periodic_pressure_schedule(IpAddress client_ip, IpAddress server_ip,
                                            std::uint16_t server_port, std::uint32_t count,
                                            Duration interval, std::uint16_t port_lo,
                                            std::uint32_t ports, Side closer) {
  PressureSchedule s;
  s.client_ip = client_ip;
  s.server_ip = server_ip;
  s.server_port = server_port;
  s.connections.reserve(count);
  for (std::uint32_t k = 0; k < count; ++k) {
    PressureConnection c;
    c.start = interval * static_cast<std::int64_t>(k);
    c.client_port = static_cast<std::uint16_t>(port_lo + (ports ? k % ports : k));
    c.closer = closer;
    s.connections.push_back(c);
  }
  return s;
}

std::vector<SynthPacket> build_pressure_capture(const PressureSchedule& schedule) {
  std::vector<std::unique_ptr<Conversation>> convs;
  convs.reserve(schedule.connections.size());
  std::uint32_t k = 0;
  for (const PressureConnection& pc : schedule.connections) {
    HostSpec client;
    client.ip = schedule.client_ip;
    client.port = pc.client_port;
    // ISNs grow with every connection, so a reused four-tuple is always RFC 6191-safe.
    client.isn = 100'000u + k * 1'000'000u;
    HostSpec server;
    server.ip = schedule.server_ip;
    server.port = schedule.server_port;
    server.isn = 500'000'000u + k * 1'000'000u;
    auto c = std::make_unique<Conversation>(client, server, schedule.start + pc.start);
    c->step(schedule.step);
    const Side other = pc.closer == Side::client ? Side::server : Side::client;
    c->handshake();
    c->data(Side::client, 20);
    c->data(Side::server, 20);
    c->fin(pc.closer);
    c->ack(other);
    c->fin(other);
    c->ack(pc.closer);
    convs.push_back(std::move(c));
    ++k;
  }
  std::vector<const Conversation*> parts;
  parts.reserve(convs.size());
  for (const auto& c : convs) parts.push_back(c.get());
  return merge_by_time(parts);
}

}  // namespace lastack::synth
