#include "lastack/core/ip_address.h"

#include <arpa/inet.h>

#include <array>
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

// The longest run of two or more zero groups (the first of equal ones), which RFC 5952 §4.2
// writes as "::"; len 0 when there is none.
struct ZeroRun {
  int base = 0;
  int len = 0;
};

ZeroRun longest_zero_run(const std::array<unsigned, 8>& groups) {
  ZeroRun best;
  ZeroRun cur;
  for (int i = 0; i < 8; ++i) {
    if (groups[static_cast<std::size_t>(i)] != 0) {
      cur.len = 0;
      continue;
    }
    if (cur.len == 0) cur.base = i;
    if (++cur.len > best.len) best = cur;
  }
  if (best.len < 2) best.len = 0;
  return best;
}

std::size_t put_hex_group(unsigned v, char* out) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::size_t n = 0;
  for (int shift = 12; shift >= 0; shift -= 4) {
    const unsigned d = (v >> shift) & 0xF;
    if (d != 0 || n != 0 || shift == 0) out[n++] = kDigits[d];
  }
  return n;
}

// RFC 5952 text written directly, the same as glibc's inet_ntop (lowercase hex without leading
// zeros, the longest zero run as "::", and an IPv4-mapped or IPv4-compatible address ending in
// a dotted quad), which goes through sprintf once per group.
std::size_t format_ipv6(const std::uint8_t* b, IpBuffer& out) {
  std::array<unsigned, 8> groups{};
  for (std::size_t i = 0; i < 8; ++i) groups[i] = unsigned{b[2 * i]} << 8 | b[2 * i + 1];
  const ZeroRun zeros = longest_zero_run(groups);
  std::size_t n = 0;
  for (int i = 0; i < 8; ++i) {
    if (zeros.len != 0 && i >= zeros.base && i < zeros.base + zeros.len) {
      if (i == zeros.base) out[n++] = ':';
      continue;
    }
    if (i != 0) out[n++] = ':';
    if (i == 6 && zeros.base == 0 && (zeros.len == 6 || (zeros.len == 5 && groups[5] == 0xFFFF))) {
      IpBuffer quad;
      const std::size_t q = format_ipv4(b + 12, quad);
      std::memcpy(out.data() + n, quad.data(), q);
      n += q;
      break;
    }
    n += put_hex_group(groups[static_cast<std::size_t>(i)], out.data() + n);
  }
  if (zeros.len != 0 && zeros.base + zeros.len == 8) out[n++] = ':';
  out[n] = '\0';
  return n;
}

}  // namespace

std::size_t format_ip(const IpAddress& a, IpBuffer& out) {
  static_assert(sizeof(IpBuffer) >= INET6_ADDRSTRLEN);
  if (a.version == 4) return format_ipv4(a.bytes.data(), out);
  if (a.version == 6) return format_ipv6(a.bytes.data(), out);
  out[0] = '?';
  out[1] = '\0';
  return 1;
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
