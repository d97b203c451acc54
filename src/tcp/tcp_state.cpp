#include "lastack/tcp/tcp_state.h"

namespace lastack::tcp {

std::string_view to_string(TcpState s) {
  switch (s) {
    case TcpState::closed: return "CLOSED";
    case TcpState::listen: return "LISTEN";
    case TcpState::syn_sent: return "SYN_SENT";
    case TcpState::syn_received: return "SYN_RECEIVED";
    case TcpState::established: return "ESTABLISHED";
    case TcpState::fin_wait_1: return "FIN_WAIT_1";
    case TcpState::fin_wait_2: return "FIN_WAIT_2";
    case TcpState::closing: return "CLOSING";
    case TcpState::time_wait: return "TIME_WAIT";
    case TcpState::close_wait: return "CLOSE_WAIT";
    case TcpState::last_ack: return "LAST_ACK";
  }
  return "CLOSED";
}

}  // namespace lastack::tcp
