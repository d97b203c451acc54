// pcapng (draft-ietf-opsawg-pcapng): a sequence of blocks {type, total length, body, total
// length}, grouped into sections that each start with a Section Header Block (SHB) giving the
// section's byte order. Interfaces (IDBs) are numbered per section; packets (EPB, SPB and the
// obsolete PB) refer to them for link type, snaplen and timestamp resolution.
#include <algorithm>
#include <cstdio>
#include <limits>
#include <string>
#include <vector>

#include "capture/reader_base.h"
#include "capture/readers.h"

namespace lastack::capture {
namespace {

__extension__ using Uint128 = unsigned __int128;  // GCC/Clang; -Wpedantic wants the marker

constexpr std::uint32_t block_idb = 1;
constexpr std::uint32_t block_pb = 2;  // obsolete Packet Block (draft appendix)
constexpr std::uint32_t block_spb = 3;
constexpr std::uint32_t block_isb = 5;
constexpr std::uint32_t block_epb = 6;
constexpr std::uint32_t byte_order_magic = 0x1A2B3C4D;

constexpr std::size_t block_header_size = 8;  // type + leading length
constexpr std::size_t min_block_size = 12;    // type + length + trailing length, no body
// No legitimate block comes near this; larger lengths are corrupt and rejected before reading.
constexpr std::uint32_t max_block_size = std::uint32_t{256} << 20;

constexpr std::uint16_t opt_endofopt = 0;
constexpr std::uint16_t if_tsresol = 9;
constexpr std::uint16_t if_tsoffset = 14;
constexpr std::uint16_t isb_ifdrop = 5;

// Converts an interface's 64-bit tick count to nanoseconds. Chosen once per IDB so the
// per-packet work is one multiply, divide or shift (no 128-bit division).
struct TickToNs {
  enum class Kind : std::uint8_t { multiply, divide, shift };
  Kind kind = Kind::multiply;
  std::uint64_t factor = 1000;  // default if_tsresol 6: microseconds
  unsigned shift = 0;

  [[nodiscard]] std::int64_t operator()(std::uint64_t ticks) const {
    constexpr auto max = static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max());
    Uint128 ns = 0;
    switch (kind) {
      case Kind::multiply: ns = Uint128{ticks} * factor; break;
      case Kind::divide: ns = ticks / factor; break;
      case Kind::shift: ns = (Uint128{ticks} * std::uint64_t{kNsPerSec}) >> shift; break;
    }
    return static_cast<std::int64_t>(ns > max ? max : static_cast<std::uint64_t>(ns));
  }
};

struct Interface {
  std::uint32_t link_type = 0;
  std::uint32_t snaplen = 0;
  TickToNs to_ns;
  std::int64_t offset_ns = 0;  // if_tsoffset, already in ns
};

std::int64_t saturating_add(std::int64_t a, std::int64_t b) {
  std::int64_t r = 0;
  if (!__builtin_add_overflow(a, b, &r)) return r;
  return b > 0 ? std::numeric_limits<std::int64_t>::max()
               : std::numeric_limits<std::int64_t>::min();
}

const char* block_name(std::uint32_t type) {
  switch (type) {
    case pcapng_shb_type: return "section header block";
    case block_idb: return "interface description block";
    case block_pb: return "packet block";
    case block_spb: return "simple packet block";
    case block_isb: return "interface statistics block";
    case block_epb: return "enhanced packet block";
    default: return "block";
  }
}

std::uint32_t min_size_of(std::uint32_t type) {
  switch (type) {
    case pcapng_shb_type: return 28;  // BOM, version, section length
    case block_idb: return 20;        // link type, reserved, snaplen
    case block_pb: return 32;         // interface, drops, timestamp, caplen, len
    case block_spb: return 16;        // original length
    case block_isb: return 24;        // interface, timestamp
    case block_epb: return 32;        // interface, timestamp, caplen, len
    default: return min_block_size;
  }
}

class PcapngReader final : public ReaderBase {
 public:
  PcapngReader(InputBuffer buffer, InputInfo info, std::uint32_t input)
      : ReaderBase(std::move(buffer), std::move(info), input) {
    interfaces_.reserve(8);
  }

  Status read_first_section() {
    if (read_section_header()) return {};
    return error();
  }
  bool next(RawFrame& out) override;

 private:
  enum class Step : std::uint8_t { packet, skipped, failed };

  [[nodiscard]] std::string where() const {
    return "block " + std::to_string(block_no_ + 1) + " at byte " + std::to_string(buf_.offset());
  }
  bool fail(ErrorCode code, const std::string& what) {
    return stop(make_error_at(code, buf_.offset(), where() + ": " + what));
  }

  bool read_section_header();
  bool load_block(std::uint32_t type, std::uint32_t length);
  Step dispatch(std::uint32_t type, const std::uint8_t* p, std::uint32_t length, RawFrame& out);
  Step read_epb(const std::uint8_t* p, std::uint32_t length, RawFrame& out);
  Step read_pb(const std::uint8_t* p, std::uint32_t length, RawFrame& out);
  Step read_spb(const std::uint8_t* p, std::uint32_t length, RawFrame& out);
  Step read_idb(const std::uint8_t* p, std::uint32_t length);
  Step read_isb(const std::uint8_t* p, std::uint32_t length);
  Step emit(RawFrame& out, const Interface& iface, std::uint32_t id, std::uint64_t ticks,
            const std::uint8_t* data, std::uint32_t caplen, std::uint32_t orig_len);
  bool parse_tsresol(std::uint8_t value, Interface& iface);
  template <class F>
  bool walk_options(const std::uint8_t* p, const std::uint8_t* end, F&& on_option) const;
  void finish_block(std::uint32_t length) {
    buf_.consume(length);
    ++block_no_;
    info_.bytes_read = buf_.offset();
  }

  FileEndian endian_;
  std::vector<Interface> interfaces_;       // of the current section
  std::vector<std::uint64_t> drops_;        // last isb_ifdrop per interface, current section
  std::uint64_t drops_before_section_ = 0;  // totals of earlier sections
  std::uint64_t block_no_ = 0;
  std::int64_t last_ts_ = 0;
};

bool PcapngReader::next(RawFrame& out) {
  while (!done_) {
    if (!buf_.ensure(min_block_size)) {
      return end_at_boundary(buf_.offset(), where(), min_block_size, "block header");
    }
    const std::uint32_t type = endian_.u32(buf_.cur());
    if (type == pcapng_shb_type) {  // the SHB type reads the same in both byte orders
      if (!read_section_header()) return false;
      continue;
    }
    const std::uint32_t length = endian_.u32(buf_.cur() + 4);
    if (!load_block(type, length)) return false;
    const Step step = dispatch(type, buf_.cur(), length, out);
    if (step == Step::failed) return false;
    finish_block(length);
    if (step == Step::packet) return true;
  }
  return false;
}

// Checks a block's framing and makes the whole block available at buf_.cur().
bool PcapngReader::load_block(std::uint32_t type, std::uint32_t length) {
  if (length % 4 != 0) {
    return fail(ErrorCode::corrupt, std::string(block_name(type)) + " length " +
                                        std::to_string(length) + " is not a multiple of 4");
  }
  if (length < min_size_of(type)) {
    return fail(ErrorCode::corrupt, std::string(block_name(type)) + " length " +
                                        std::to_string(length) + " is below the minimum of " +
                                        std::to_string(min_size_of(type)));
  }
  if (length > max_block_size) {
    return fail(ErrorCode::corrupt, std::string(block_name(type)) + " length " +
                                        std::to_string(length) + " exceeds the limit of " +
                                        std::to_string(max_block_size));
  }
  if (!buf_.ensure(length)) {
    return cut_inside(buf_.offset(), where() + ": header says " + std::to_string(length) +
                                         " bytes, only " + std::to_string(buf_.available()) +
                                         " remain");
  }
  const std::uint32_t trailer = endian_.u32(buf_.cur() + length - 4);
  if (trailer != length) {
    return fail(ErrorCode::corrupt, "trailing length " + std::to_string(trailer) +
                                        " does not match leading length " + std::to_string(length));
  }
  return true;
}

PcapngReader::Step PcapngReader::dispatch(std::uint32_t type, const std::uint8_t* p,
                                          std::uint32_t length, RawFrame& out) {
  switch (type) {
    case block_epb: return read_epb(p, length, out);
    case block_spb: return read_spb(p, length, out);
    case block_pb: return read_pb(p, length, out);
    case block_idb: return read_idb(p, length);
    case block_isb: return read_isb(p, length);
    default: return Step::skipped;  // NRB, DSB, custom and future blocks carry no packets
  }
}

// SHB: type, length, byte-order magic, major, minor, section length (may be -1), options.
// The byte-order magic decides how the length (and everything in the section) is read.
bool PcapngReader::read_section_header() {
  if (!buf_.ensure(min_block_size)) {
    return cut_inside(buf_.offset(), where() +
                                         ": section header block needs at least 28 bytes, "
                                         "only " +
                                         std::to_string(buf_.available()) + " remain");
  }
  const std::uint32_t bom = load_u32be(buf_.cur() + 8);
  if (bom != byte_order_magic && bom != __builtin_bswap32(byte_order_magic)) {
    char hex[16];
    std::snprintf(hex, sizeof hex, "%08x", bom);
    return fail(ErrorCode::corrupt,
                std::string("section header byte-order magic is ") + hex + ", expected 1a2b3c4d");
  }
  endian_ = FileEndian::of(bom == byte_order_magic);
  const std::uint32_t length = endian_.u32(buf_.cur() + 4);
  if (!load_block(pcapng_shb_type, length)) return false;
  const std::uint16_t major = endian_.u16(buf_.cur() + 12);
  const std::uint16_t minor = endian_.u16(buf_.cur() + 14);
  if (major != 1) {
    return fail(ErrorCode::unsupported, "pcapng version " + std::to_string(major) + "." +
                                            std::to_string(minor) +
                                            " is not supported (expected 1.x)");
  }
  // A new section has its own interfaces; their drop counters are final for the old section.
  for (std::uint64_t d : drops_) drops_before_section_ += d;
  drops_.clear();
  interfaces_.clear();
  finish_block(length);
  return true;
}

template <class F>
bool PcapngReader::walk_options(const std::uint8_t* p, const std::uint8_t* end,
                                F&& on_option) const {
  while (end - p >= 4) {
    const std::uint16_t code = endian_.u16(p);
    const std::uint16_t length = endian_.u16(p + 2);
    if (code == opt_endofopt) return true;
    const std::size_t padded = (std::size_t{length} + 3) & ~std::size_t{3};  // 32-bit aligned
    if (static_cast<std::size_t>(end - p) - 4 < padded) return false;
    on_option(code, p + 4, length);
    p += 4 + padded;
  }
  return true;
}

// if_tsresol: bit 7 clear = 10^-n s per tick, set = 2^-n s per tick (draft §4.2).
bool PcapngReader::parse_tsresol(std::uint8_t value, Interface& iface) {
  const unsigned n = value & 0x7Fu;
  if ((value & 0x80u) != 0) {
    iface.to_ns = n == 0 ? TickToNs{TickToNs::Kind::multiply, kNsPerSec, 0}
                         : TickToNs{TickToNs::Kind::shift, 1, n};
    return true;
  }
  if (n > 19) return false;  // 10^20 does not fit 64 bits; no clock is that fine
  std::uint64_t pow = 1;
  for (unsigned i = 0; i < (n <= 9 ? 9 - n : n - 9); ++i) pow *= 10;
  iface.to_ns = TickToNs{n <= 9 ? TickToNs::Kind::multiply : TickToNs::Kind::divide, pow, 0};
  return true;
}

// IDB: link type (16 bits), reserved, snaplen, options.
PcapngReader::Step PcapngReader::read_idb(const std::uint8_t* p, std::uint32_t length) {
  Interface iface;
  iface.link_type = endian_.u16(p + 8);
  iface.snaplen = endian_.u32(p + 12);
  bool resolution_ok = true;
  const bool options_ok = walk_options(
      p + 16, p + length - 4, [&](std::uint16_t code, const std::uint8_t* v, std::uint16_t n) {
        if (code == if_tsresol && n >= 1) resolution_ok = parse_tsresol(v[0], iface);
        if (code == if_tsoffset && n >= 8) {
          const auto seconds = static_cast<std::int64_t>(endian_.u64(v));
          std::int64_t ns = 0;
          if (__builtin_mul_overflow(seconds, kNsPerSec, &ns)) {
            ns = seconds > 0 ? std::numeric_limits<std::int64_t>::max()
                             : std::numeric_limits<std::int64_t>::min();
          }
          iface.offset_ns = ns;
        }
      });
  if (!options_ok) {
    fail(ErrorCode::corrupt, "an option of the interface description block overruns the block");
    return Step::failed;
  }
  if (!resolution_ok) {
    fail(ErrorCode::unsupported, "interface " + std::to_string(interfaces_.size()) +
                                     " has an if_tsresol finer than 10^-19 s");
    return Step::failed;
  }
  interfaces_.push_back(iface);
  drops_.push_back(0);
  note_link_type(iface.link_type);
  return Step::skipped;
}

// ISB: interface, timestamp, options. Counters are totals since capture start, so the last
// ISB of each interface wins; the sum over interfaces is the input's drop count.
PcapngReader::Step PcapngReader::read_isb(const std::uint8_t* p, std::uint32_t length) {
  const std::uint32_t id = endian_.u32(p + 8);
  if (id >= interfaces_.size()) return Step::skipped;  // statistics only: not worth failing
  std::uint64_t drops = drops_[id];
  const bool options_ok = walk_options(
      p + 20, p + length - 4, [&](std::uint16_t code, const std::uint8_t* v, std::uint16_t n) {
        if (code == isb_ifdrop && n >= 8) drops = endian_.u64(v);
      });
  if (!options_ok) return Step::skipped;
  drops_[id] = drops;
  std::uint64_t total = drops_before_section_;
  for (std::uint64_t d : drops_) total += d;
  info_.interface_drops = total;
  return Step::skipped;
}

PcapngReader::Step PcapngReader::emit(RawFrame& out, const Interface& iface, std::uint32_t id,
                                      std::uint64_t ticks, const std::uint8_t* data,
                                      std::uint32_t caplen, std::uint32_t orig_len) {
  last_ts_ = saturating_add(iface.to_ns(ticks), iface.offset_ns);
  out.input = input_;
  out.frame_no = ++frame_no_;
  out.ts = Timestamp{last_ts_};
  out.link_type = iface.link_type;
  out.interface_id = id;
  out.orig_len = std::max(orig_len, caplen);
  out.offset = buf_.offset();
  out.bytes = ByteView(data, caplen);
  return Step::packet;
}

// EPB: interface id, timestamp (high, low), captured length, original length, data, options.
PcapngReader::Step PcapngReader::read_epb(const std::uint8_t* p, std::uint32_t length,
                                          RawFrame& out) {
  const std::uint32_t id = endian_.u32(p + 8);
  const std::uint32_t caplen = endian_.u32(p + 20);
  if (id >= interfaces_.size() || caplen > length - 32) {
    fail(ErrorCode::corrupt,
         id >= interfaces_.size()
             ? "enhanced packet block refers to interface " + std::to_string(id) +
                   (interfaces_.empty() ? std::string(" before any interface description block")
                                        : " but only " + std::to_string(interfaces_.size()) +
                                              " are described in this section")
             : "enhanced packet block says " + std::to_string(caplen) +
                   " captured bytes but has room for " + std::to_string(length - 32));
    return Step::failed;
  }
  const std::uint64_t ticks = (std::uint64_t{endian_.u32(p + 12)} << 32) | endian_.u32(p + 16);
  return emit(out, interfaces_[id], id, ticks, p + 28, caplen, endian_.u32(p + 24));
}

// Obsolete PB: like an EPB but with a 16-bit interface id and a 16-bit drops counter.
PcapngReader::Step PcapngReader::read_pb(const std::uint8_t* p, std::uint32_t length,
                                         RawFrame& out) {
  const std::uint32_t id = endian_.u16(p + 8);
  const std::uint32_t caplen = endian_.u32(p + 20);
  if (id >= interfaces_.size() || caplen > length - 32) {
    fail(ErrorCode::corrupt, "packet block refers to interface " + std::to_string(id) +
                                 " or says " + std::to_string(caplen) +
                                 " captured bytes, which the section cannot hold");
    return Step::failed;
  }
  const std::uint64_t ticks = (std::uint64_t{endian_.u32(p + 12)} << 32) | endian_.u32(p + 16);
  return emit(out, interfaces_[id], id, ticks, p + 28, caplen, endian_.u32(p + 24));
}

// SPB: original length and data only. It belongs to interface 0; the captured length is the
// smallest of the original length, the interface's snaplen and the room in the block. It has
// no timestamp: the previous packet's time is used so capture-time timers never run backwards.
PcapngReader::Step PcapngReader::read_spb(const std::uint8_t* p, std::uint32_t length,
                                          RawFrame& out) {
  if (interfaces_.empty()) {
    fail(ErrorCode::corrupt, "simple packet block before any interface description block");
    return Step::failed;
  }
  const Interface& iface = interfaces_[0];
  const std::uint32_t orig_len = endian_.u32(p + 8);
  std::uint32_t caplen = std::min(orig_len, length - 16);
  if (iface.snaplen != 0) caplen = std::min(caplen, iface.snaplen);
  out.input = input_;
  out.frame_no = ++frame_no_;
  out.ts = Timestamp{last_ts_};
  out.link_type = iface.link_type;
  out.interface_id = 0;
  out.orig_len = orig_len;
  out.offset = buf_.offset();
  out.bytes = ByteView(p + 12, caplen);
  return Step::packet;
}

}  // namespace

Result<std::unique_ptr<PacketSource>> open_pcapng(InputBuffer buffer, InputInfo info,
                                                  std::uint32_t input) {
  info.format = Format::pcapng;
  auto reader = std::make_unique<PcapngReader>(std::move(buffer), std::move(info), input);
  Status st = reader->read_first_section();
  if (!st) {
    Error e = st.error();
    e.message = reader->info().path + ": " + e.message;
    return e;
  }
  return std::unique_ptr<PacketSource>(std::move(reader));
}

}  // namespace lastack::capture
