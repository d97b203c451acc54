// RFC 9293 §3.3.2 connection states, one per endpoint.
#pragma once

#include <cstdint>
#include <string_view>

namespace lastack::tcp {

enum class TcpState : std::uint8_t {
  closed,
  listen,
  syn_sent,
  syn_received,
  established,
  fin_wait_1,
  fin_wait_2,
  closing,
  time_wait,
  close_wait,
  last_ack,
};

// The RFC's names: "CLOSED", "SYN_SENT", "FIN_WAIT_1", …
std::string_view to_string(TcpState s);

// The two roles of an incarnation: the client sent the first SYN (or, with no SYN seen, the
// first packet).
enum class Role : std::uint8_t { client = 0, server = 1 };
constexpr Role other(Role r) {
  return r == Role::client ? Role::server : Role::client;
}

}  // namespace lastack::tcp
