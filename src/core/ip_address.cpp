#include "lastack/core/ip_address.h"

#include <arpa/inet.h>

#include <cstring>

namespace lastack {

namespace {

// Dotted quad written directly: glibc's inet_ntop formats IPv4 through sprintf, and two
// addresses are formatted for every connection row of the database.
std::size_t format_ipv4(const std::uint8_t* b, IpBuffer& out) {
  std::size_t n = 0;
  for (int i = 0; i < 4; ++i) {
    if (i > 0) out[n++] = '.';
    const unsigned v = b[i];
    if (v >= 100) out[n++] = static_cast<char>('0' + v / 100);
    if (v >= 10) out[n++] = static_cast<char>('0' + (v / 10) % 10);
    out[n++] = static_cast<char>('0' + v % 10);
  }
  out[n] = '\0';
  return n;
}

}  // namespace

std::size_t format_ip(const IpAddress& a, IpBuffer& out) {
  static_assert(sizeof(IpBuffer) >= INET6_ADDRSTRLEN);
  out[0] = '\0';
  if (a.version == 4) {
    return format_ipv4(a.bytes.data(), out);
  }
  if (a.version == 6) {
    inet_ntop(AF_INET6, a.bytes.data(), out.data(),
              static_cast<socklen_t>(out.size()));  // glibc follows RFC 5952
  } else {
    out[0] = '?';
    out[1] = '\0';
  }
  return std::strlen(out.data());
}

std::string to_string(const IpAddress& a) {
  IpBuffer buf;
  return std::string(buf.data(), format_ip(a, buf));
}

std::string format_endpoint(const IpAddress& a, std::uint16_t port) {
  IpBuffer buf;
  const std::size_t n = format_ip(a, buf);
  std::string out;
  out.reserve(n + 8);
  if (a.version == 6) out.push_back('[');
  out.append(buf.data(), n);
  if (a.version == 6) out.push_back(']');
  out.push_back(':');
  out.append(std::to_string(port));
  return out;
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
