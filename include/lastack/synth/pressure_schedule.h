// Synthetic captures with a known schedule of short connections between one client address and
// one server ip:port, for TIME_WAIT pressure (peak ports in use, TIME_WAIT count, rate): every
// connection is a full handshake, a little data each way and a clean close by the chosen side.
//
// Per connection, with the default 1 ms step, frames are (offsets from its start):
//   +0 SYN, +1 SYN-ACK, +2 ACK, +3 client data, +4 server data, +5 FIN (closer),
//   +6 ACK, +7 FIN (other side), +8 final ACK (the closer enters TIME_WAIT here).
#pragma once

#include <cstdint>
#include <vector>

#include "lastack/core/ip_address.h"
#include "lastack/core/timestamp.h"
#include "lastack/synth/capture_writer.h"
#include "lastack/synth/conversation.h"

namespace lastack::synth {

struct PressureConnection {
  Duration start;  // SYN time, from the schedule's start
  std::uint16_t client_port = 0;
  Side closer = Side::client;  // who sends the first FIN (and then holds TIME_WAIT)
};

struct PressureSchedule {
  IpAddress client_ip;
  IpAddress server_ip;
  std::uint16_t server_port = 80;
  Timestamp start{1'700'000'000'000'000'000};
  Duration step = Duration::from_ms(1);  // between the packets of one connection
  std::vector<PressureConnection> connections;
};

// Packets of one connection (9 frames, see above).
inline constexpr std::uint64_t kPressureFramesPerConnection = 9;

// `count` connections, one every `interval`, client ports lo, lo+1, ... wrapping after `ports`
// ports (a wrapped port reuses its four-tuple), all closed first by `closer`.
PressureSchedule periodic_pressure_schedule(IpAddress client_ip, IpAddress server_ip,
                                            std::uint16_t server_port, std::uint32_t count,
                                            Duration interval, std::uint16_t port_lo,
                                            std::uint32_t ports, Side closer);

// The capture of a schedule, packets in time order (stable for equal times: schedule order).
std::vector<SynthPacket> build_pressure_capture(const PressureSchedule& schedule);

}  // namespace lastack::synth
