// Names of decode outcomes as they appear in reports: identical to the enumerator names.
#include "lastack/decode/decoded_packet.h"

namespace lastack::decode {

std::string_view to_string(Outcome o) {
  switch (o) {
    case Outcome::tcp: return "tcp";
    case Outcome::not_ip: return "not_ip";
    case Outcome::not_tcp: return "not_tcp";
    case Outcome::fragment: return "fragment";
    case Outcome::unsupported_link: return "unsupported_link";
    case Outcome::malformed: return "malformed";
  }
  return "unknown";
}

std::string_view to_string(Malformed m) {
  switch (m) {
    case Malformed::none: return "none";
    case Malformed::link_truncated: return "link_truncated";
    case Malformed::vlan_too_deep: return "vlan_too_deep";
    case Malformed::ipv4_truncated: return "ipv4_truncated";
    case Malformed::ipv4_bad_ihl: return "ipv4_bad_ihl";
    case Malformed::ipv4_bad_length: return "ipv4_bad_length";
    case Malformed::ipv6_truncated: return "ipv6_truncated";
    case Malformed::ipv6_bad_ext_header: return "ipv6_bad_ext_header";
    case Malformed::ip_bad_version: return "ip_bad_version";
    case Malformed::tcp_truncated: return "tcp_truncated";
    case Malformed::tcp_bad_offset: return "tcp_bad_offset";
    case Malformed::tcp_bad_options: return "tcp_bad_options";
    case Malformed::count_: break;
  }
  return "unknown";
}

}  // namespace lastack::decode
