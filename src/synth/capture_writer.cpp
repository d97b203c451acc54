// Writes captures the way libpcap and Wireshark write them, so tests read what real tools make.
#include "lastack/synth/capture_writer.h"

#include <algorithm>
#include <cstdio>

namespace lastack::synth {
namespace {

__extension__ using Int128 = __int128;  // GCC/Clang; -Wpedantic wants the marker

constexpr std::int64_t ns_per_s = 1'000'000'000;

// Appends integers in the chosen byte order.
class Out {
 public:
  Out(std::vector<std::uint8_t>& bytes, bool big_endian) : bytes_(bytes), big_(big_endian) {}

  void u8(std::uint8_t v) { bytes_.push_back(v); }
  void u16(std::uint16_t v) { put(v, 2); }
  void u32(std::uint32_t v) { put(v, 4); }
  void u64(std::uint64_t v) { put(v, 8); }
  void raw(const std::uint8_t* p, std::size_t n) { bytes_.insert(bytes_.end(), p, p + n); }
  void pad4() {
    while (bytes_.size() % 4 != 0) bytes_.push_back(0);
  }
  [[nodiscard]] std::size_t size() const { return bytes_.size(); }
  // Overwrites a 32-bit field written earlier (block lengths known only at the end).
  void patch_u32(std::size_t at, std::uint32_t v) {
    for (int i = 0; i < 4; ++i) {
      const int shift = big_ ? 8 * (3 - i) : 8 * i;
      bytes_[at + static_cast<std::size_t>(i)] = static_cast<std::uint8_t>(v >> shift);
    }
  }

 private:
  void put(std::uint64_t v, int n) {
    for (int i = 0; i < n; ++i) {
      const int shift = big_ ? 8 * (n - 1 - i) : 8 * i;
      bytes_.push_back(static_cast<std::uint8_t>(v >> shift));
    }
  }

  std::vector<std::uint8_t>& bytes_;
  bool big_;
};

std::int64_t floor_div(std::int64_t a, std::int64_t b) {
  const std::int64_t q = a / b;
  return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q;
}

std::uint32_t wire_length(const SynthPacket& p) {
  return p.orig_len != 0 ? p.orig_len : static_cast<std::uint32_t>(p.bytes.size());
}

std::uint32_t captured_length(const SynthPacket& p, std::uint32_t snaplen) {
  const auto size = static_cast<std::uint32_t>(p.bytes.size());
  return snaplen != 0 ? std::min(size, snaplen) : size;
}

// Nanoseconds → ticks of if_tsresol (10^-n or, with bit 7, 2^-n seconds).
std::uint64_t to_ticks(std::int64_t ns, std::uint8_t tsresol) {
  const unsigned n = tsresol & 0x7Fu;
  Int128 ticks = 0;
  if ((tsresol & 0x80u) != 0) {
    ticks = (Int128{ns} << n) / ns_per_s;
  } else {
    Int128 scale = 1;
    for (unsigned i = 0; i < n; ++i) scale *= 10;
    ticks = Int128{ns} * scale / ns_per_s;
  }
  return static_cast<std::uint64_t>(ticks);
}

// Options are {code, length, value padded to 32 bits} (draft-ietf-opsawg-pcapng §3.5).
void option(Out& out, std::uint16_t code, const std::uint8_t* value, std::uint16_t length) {
  out.u16(code);
  out.u16(length);
  out.raw(value, length);
  out.pad4();
}

void write_shb(Out& out) {
  out.u32(0x0A0D0D0A);
  out.u32(28);
  out.u32(0x1A2B3C4D);  // byte-order magic, in the writer's order
  out.u16(1);
  out.u16(0);
  out.u64(~std::uint64_t{0});  // section length unknown (-1)
  out.u32(28);
}

void write_idb(Out& out, const PcapngInterface& iface, bool big_endian) {
  const std::size_t start = out.size();
  out.u32(1);
  out.u32(0);  // patched below
  out.u16(static_cast<std::uint16_t>(iface.link_type));
  out.u16(0);
  out.u32(iface.snaplen);
  const bool any = !iface.name.empty() || iface.tsresol != 6 || iface.tsoffset_s != 0;
  if (!iface.name.empty()) {
    option(out, 2, reinterpret_cast<const std::uint8_t*>(iface.name.data()),
           static_cast<std::uint16_t>(iface.name.size()));  // if_name
  }
  if (iface.tsresol != 6) option(out, 9, &iface.tsresol, 1);  // if_tsresol
  if (iface.tsoffset_s != 0) {                                // if_tsoffset (int64 seconds)
    std::vector<std::uint8_t> value;
    Out(value, big_endian).u64(static_cast<std::uint64_t>(iface.tsoffset_s));
    option(out, 14, value.data(), 8);
  }
  if (any) out.u32(0);  // opt_endofopt
  const auto length = static_cast<std::uint32_t>(out.size() - start + 4);
  out.u32(length);
  out.patch_u32(start + 4, length);
}

void write_epb(Out& out, const SynthPacket& p, const PcapngInterface* iface) {
  const std::uint8_t tsresol = iface != nullptr ? iface->tsresol : 6;
  const std::int64_t offset_ns = iface != nullptr ? iface->tsoffset_s * ns_per_s : 0;
  const std::uint32_t caplen = captured_length(p, iface != nullptr ? iface->snaplen : 0);
  const std::uint64_t ticks = to_ticks(p.ts.ns - offset_ns, tsresol);
  const std::size_t start = out.size();
  out.u32(6);
  out.u32(0);
  out.u32(p.interface_id);
  out.u32(static_cast<std::uint32_t>(ticks >> 32));
  out.u32(static_cast<std::uint32_t>(ticks));
  out.u32(caplen);
  out.u32(wire_length(p));
  out.raw(p.bytes.data(), caplen);
  out.pad4();
  const auto length = static_cast<std::uint32_t>(out.size() - start + 4);
  out.u32(length);
  out.patch_u32(start + 4, length);
}

}  // namespace

std::vector<std::uint8_t> write_pcap(const std::vector<SynthPacket>& packets,
                                     const PcapOptions& options) {
  std::vector<std::uint8_t> bytes;
  Out out(bytes, options.big_endian);
  out.u32(options.nanosecond ? 0xa1b23c4d : 0xa1b2c3d4);
  out.u16(2);
  out.u16(4);
  out.u32(0);  // thiszone
  out.u32(0);  // sigfigs
  out.u32(options.snaplen);
  out.u32(options.link_type);
  const std::int64_t unit = options.nanosecond ? 1 : 1000;
  for (const SynthPacket& p : packets) {
    const std::int64_t seconds = floor_div(p.ts.ns, ns_per_s);
    const std::uint32_t caplen = captured_length(p, options.snaplen);
    out.u32(static_cast<std::uint32_t>(seconds));
    out.u32(static_cast<std::uint32_t>((p.ts.ns - seconds * ns_per_s) / unit));
    out.u32(caplen);
    out.u32(wire_length(p));
    out.raw(p.bytes.data(), caplen);
  }
  return bytes;
}

std::vector<std::uint8_t> write_pcapng(const std::vector<SynthPacket>& packets,
                                       const PcapngOptions& options) {
  std::vector<std::uint8_t> bytes;
  Out out(bytes, options.big_endian);
  write_shb(out);
  for (const PcapngInterface& iface : options.interfaces) write_idb(out, iface, options.big_endian);
  for (const SynthPacket& p : packets) {
    // An id with no interface is written as given: tests use it to make hostile files.
    const PcapngInterface* iface =
        p.interface_id < options.interfaces.size() ? &options.interfaces[p.interface_id] : nullptr;
    write_epb(out, p, iface);
  }
  return bytes;
}

bool write_file(const std::string& path, const std::vector<std::uint8_t>& bytes) {
  std::FILE* f = std::fopen(path.c_str(), "wb");
  if (f == nullptr) return false;
  const bool wrote = bytes.empty() || std::fwrite(bytes.data(), 1, bytes.size(), f) == bytes.size();
  return std::fclose(f) == 0 && wrote;
}

}  // namespace lastack::synth
