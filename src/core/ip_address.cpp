#include "lastack/core/ip_address.h"

#include <arpa/inet.h>

namespace lastack {

std::string to_string(const IpAddress& a) {
  char buf[INET6_ADDRSTRLEN] = {};
  if (a.version == 4) {
    inet_ntop(AF_INET, a.bytes.data(), buf, sizeof buf);
  } else if (a.version == 6) {
    inet_ntop(AF_INET6, a.bytes.data(), buf, sizeof buf);  // glibc output follows RFC 5952
  } else {
    return "?";
  }
  return buf;
}

std::string format_endpoint(const IpAddress& a, std::uint16_t port) {
  if (a.version == 6) return "[" + to_string(a) + "]:" + std::to_string(port);
  return to_string(a) + ":" + std::to_string(port);
}

bool parse_ip(std::string_view text, IpAddress& out) {
  const std::string s(text);
  IpAddress a;
  if (inet_pton(AF_INET, s.c_str(), a.bytes.data()) == 1) {
    a.version = 4;
  } else if (inet_pton(AF_INET6, s.c_str(), a.bytes.data()) == 1) {
    a.version = 6;
  } else {
    return false;
  }
  out = a;
  return true;
}

}  // namespace lastack
