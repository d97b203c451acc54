// Shared by the synthetic capture generators (bench traffic, SYN flood): a fast portable
// random generator and a writer that streams records to disk, so that a capture of any size is
// written without holding its packets in memory.
#pragma once

#include <array>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <string>

#include "lastack/synth/capture_writer.h"

namespace lastack::synth::detail {

// xoshiro256** seeded by splitmix64: fast, and identical on every platform.
class Rng {
 public:
  explicit Rng(std::uint64_t seed) {
    for (auto& w : s_) {
      seed += 0x9E3779B97F4A7C15ULL;
      std::uint64_t z = seed;
      z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
      z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
      w = z ^ (z >> 31);
    }
  }
  std::uint64_t next() {
    const std::uint64_t result = rotl(s_[1] * 5, 7) * 9;
    const std::uint64_t t = s_[1] << 17;
    s_[2] ^= s_[0];
    s_[3] ^= s_[1];
    s_[1] ^= s_[2];
    s_[0] ^= s_[3];
    s_[2] ^= t;
    s_[3] = rotl(s_[3], 45);
    return result;
  }
  double uniform() { return static_cast<double>(next() >> 11) * 0x1.0p-53; }
  bool chance(double p) { return uniform() < p; }
  std::uint64_t below(std::uint64_t n) { return n == 0 ? 0 : next() % n; }
  std::int64_t range(std::int64_t lo, std::int64_t hi) {  // inclusive
    return lo + static_cast<std::int64_t>(below(static_cast<std::uint64_t>(hi - lo + 1)));
  }
  double exponential(double mean) { return -mean * std::log(1.0 - uniform()); }
  // Log-uniform in [lo, hi]: many small values, a long tail of large ones.
  std::uint32_t log_uniform(double lo, double hi) {
    return static_cast<std::uint32_t>(
        std::exp(std::log(lo) + uniform() * (std::log(hi) - std::log(lo))));
  }
  std::uint32_t u32() { return static_cast<std::uint32_t>(next() >> 32); }

 private:
  static std::uint64_t rotl(std::uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }
  std::array<std::uint64_t, 4> s_{};
};

// Streams records to a file (pcap µs, or pcapng with one Ethernet interface in µs).
class StreamWriter {
 public:
  StreamWriter() = default;
  StreamWriter(const StreamWriter&) = delete;
  StreamWriter& operator=(const StreamWriter&) = delete;
  ~StreamWriter() {
    if (f_ != nullptr) std::fclose(f_);
  }

  bool open(const std::string& path, bool pcapng) {
    pcapng_ = pcapng;
    f_ = std::fopen(path.c_str(), "wb");
    if (f_ == nullptr) return false;
    std::setvbuf(f_, nullptr, _IOFBF, 1 << 20);
    if (!pcapng_) {
      u32(0xa1b2c3d4);
      u16(2);
      u16(4);
      u32(0);
      u32(0);
      u32(262144);
      u32(1);
    } else {
      u32(0x0A0D0D0A);  // section header block
      u32(28);
      u32(0x1A2B3C4D);
      u16(1);
      u16(0);
      u64(0xFFFFFFFFFFFFFFFFULL);
      u32(28);
      u32(1);  // interface description block: Ethernet, snaplen 262144, µs
      u32(20);
      u16(1);
      u16(0);
      u32(262144);
      u32(20);
    }
    return true;
  }

  void write(const SynthPacket& p) {
    const auto len = static_cast<std::uint32_t>(p.bytes.size());
    const std::int64_t t_us = p.ts.ns / 1000;
    if (!pcapng_) {
      u32(static_cast<std::uint32_t>(t_us / 1'000'000));
      u32(static_cast<std::uint32_t>(t_us % 1'000'000));
      u32(len);
      u32(len);
      std::fwrite(p.bytes.data(), 1, len, f_);
    } else {
      const std::uint32_t padded = (len + 3U) & ~3U;
      const std::uint32_t total = 32 + padded;
      u32(6);
      u32(total);
      u32(0);
      u32(static_cast<std::uint32_t>(static_cast<std::uint64_t>(t_us) >> 32));
      u32(static_cast<std::uint32_t>(static_cast<std::uint64_t>(t_us)));
      u32(len);
      u32(len);
      std::fwrite(p.bytes.data(), 1, len, f_);
      static const std::uint8_t zeros[4] = {0, 0, 0, 0};
      std::fwrite(zeros, 1, padded - len, f_);
      u32(total);
    }
  }

  bool close(std::uint64_t& size) {
    if (f_ == nullptr) return false;
    const long pos = std::ftell(f_);
    size = pos < 0 ? 0 : static_cast<std::uint64_t>(pos);
    const bool ok = std::ferror(f_) == 0;
    const bool closed = std::fclose(f_) == 0;
    f_ = nullptr;
    return ok && closed;
  }

 private:
  void u16(std::uint16_t v) { std::fwrite(&v, 2, 1, f_); }  // host order (little-endian x86)
  void u32(std::uint32_t v) { std::fwrite(&v, 4, 1, f_); }
  void u64(std::uint64_t v) { std::fwrite(&v, 8, 1, f_); }

  std::FILE* f_ = nullptr;
  bool pcapng_ = false;
};

}  // namespace lastack::synth::detail
