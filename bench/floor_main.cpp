// lastack-bench-floor [--walk] FILE
// The floor lastack is measured against: read a pcap or pcapng file (plain read(), 4 MiB
// buffer, no mmap so RSS stays honest), walk its records and, unless --walk, parse
// Ethernet/VLAN → IPv4/IPv6 → TCP and count packets per four-tuple (direction-independent) in a
// hash map. Nothing else: no state machines, no reports.
#include <fcntl.h>
#include <unistd.h>

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <string>
#include <unordered_map>
#include <vector>

namespace {

struct Key {
  std::uint8_t a[16];
  std::uint8_t b[16];
  std::uint16_t pa, pb;
  std::uint8_t v;
  bool operator==(const Key& o) const {
    return v == o.v && pa == o.pa && pb == o.pb && std::memcmp(a, o.a, 16) == 0 &&
           std::memcmp(b, o.b, 16) == 0;
  }
};

struct KeyHash {
  std::size_t operator()(const Key& k) const noexcept {
    std::uint64_t x[4];
    std::memcpy(x, k.a, 16);
    std::memcpy(x + 2, k.b, 16);
    std::uint64_t h = (x[0] * 0x9E3779B97F4A7C15ULL) ^ (x[1] + 0xC2B2AE3D27D4EB4FULL);
    h = (h ^ (x[2] * 0x165667B19E3779F9ULL)) * 0x9E3779B97F4A7C15ULL;
    h ^= x[3] + (static_cast<std::uint64_t>(k.pa) << 16 | k.pb) + k.v;
    h ^= h >> 31;
    h *= 0xBF58476D1CE4E5B9ULL;
    return h ^ (h >> 29);
  }
};

std::uint16_t be16(const std::uint8_t* p) {
  return static_cast<std::uint16_t>(p[0] << 8 | p[1]);
}

class Reader {
 public:
  explicit Reader(int fd) : fd_(fd), buf_(4 << 20) {}
  // Makes n bytes available at ptr(); false at the end of the file.
  bool need(std::size_t n) {
    if (end_ - pos_ >= n) return true;
    std::memmove(buf_.data(), buf_.data() + pos_, end_ - pos_);
    end_ -= pos_;
    pos_ = 0;
    if (buf_.size() < n) buf_.resize(n);
    while (end_ < n) {
      const ssize_t r = ::read(fd_, buf_.data() + end_, buf_.size() - end_);
      if (r <= 0) return false;
      end_ += static_cast<std::size_t>(r);
    }
    return true;
  }
  const std::uint8_t* ptr() const { return buf_.data() + pos_; }
  void skip(std::size_t n) { pos_ += n; }

 private:
  int fd_;
  std::vector<std::uint8_t> buf_;
  std::size_t pos_ = 0, end_ = 0;
};

}  // namespace

int main(int argc, char** argv) {
  bool walk_only = false;
  const char* path = nullptr;
  for (int i = 1; i < argc; ++i) {
    if (std::strcmp(argv[i], "--walk") == 0)
      walk_only = true;
    else
      path = argv[i];
  }
  if (path == nullptr) {
    std::fprintf(stderr, "usage: lastack-bench-floor [--walk] FILE.pcap|FILE.pcapng\n");
    return 2;
  }
  const int fd = ::open(path, O_RDONLY);
  if (fd < 0) {
    std::perror(path);
    return 2;
  }
  const auto t0 = std::chrono::steady_clock::now();
  Reader r(fd);
  std::unordered_map<Key, std::uint64_t, KeyHash> tuples;
  tuples.reserve(1 << 16);
  std::uint64_t packets = 0, tcp = 0, bytes = 0;

  auto parse = [&](const std::uint8_t* p, std::uint32_t len) {
    ++packets;
    bytes += len;
    if (walk_only || len < 14) return;
    std::uint16_t type = be16(p + 12);
    std::uint32_t off = 14;
    while ((type == 0x8100 || type == 0x88a8) && off + 4 <= len) {
      type = be16(p + off + 2);
      off += 4;
    }
    Key k{};
    std::uint32_t l4 = 0;
    if (type == 0x0800 && off + 20 <= len && (p[off] >> 4) == 4) {
      if (p[off + 9] != 6) return;
      k.v = 4;
      std::memcpy(k.a, p + off + 12, 4);
      std::memcpy(k.b, p + off + 16, 4);
      l4 = off + (p[off] & 0x0f) * 4U;
    } else if (type == 0x86dd && off + 40 <= len) {
      if (p[off + 6] != 6) return;  // no extension headers in the floor
      k.v = 6;
      std::memcpy(k.a, p + off + 8, 16);
      std::memcpy(k.b, p + off + 24, 16);
      l4 = off + 40;
    } else {
      return;
    }
    if (l4 + 20 > len) return;
    k.pa = be16(p + l4);
    k.pb = be16(p + l4 + 2);
    if (std::memcmp(k.a, k.b, 16) > 0 || (std::memcmp(k.a, k.b, 16) == 0 && k.pa > k.pb)) {
      std::uint8_t t[16];
      std::memcpy(t, k.a, 16);
      std::memcpy(k.a, k.b, 16);
      std::memcpy(k.b, t, 16);
      std::swap(k.pa, k.pb);
    }
    ++tcp;
    ++tuples[k];
  };

  if (!r.need(24)) return 2;
  std::uint32_t magic;
  std::memcpy(&magic, r.ptr(), 4);
  if (magic == 0xa1b2c3d4 || magic == 0xa1b23c4d) {
    r.skip(24);
    while (r.need(16)) {
      std::uint32_t caplen;
      std::memcpy(&caplen, r.ptr() + 8, 4);
      if (!r.need(16 + caplen)) break;
      parse(r.ptr() + 16, caplen);
      r.skip(16 + caplen);
    }
  } else if (magic == 0x0A0D0D0A) {
    while (r.need(12)) {
      std::uint32_t type, total;
      std::memcpy(&type, r.ptr(), 4);
      std::memcpy(&total, r.ptr() + 4, 4);
      if (total < 12 || !r.need(total)) break;
      if (type == 6) {
        std::uint32_t caplen;
        std::memcpy(&caplen, r.ptr() + 20, 4);
        parse(r.ptr() + 28, caplen);
      }
      r.skip(total);
    }
  } else {
    std::fprintf(stderr, "%s: not a little-endian pcap or pcapng file\n", path);
    return 2;
  }
  ::close(fd);
  const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  std::printf(
      "%llu packets, %llu tcp, %zu four-tuples, %.1f MB of frames, %.3f s, %.2f Mpackets/s\n",
      static_cast<unsigned long long>(packets), static_cast<unsigned long long>(tcp), tuples.size(),
      static_cast<double>(bytes) / 1e6, secs, static_cast<double>(packets) / secs / 1e6);
  return 0;
}
