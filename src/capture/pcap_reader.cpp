// Classic pcap ("libpcap format", draft-ietf-opsawg-pcap): a 24-byte file header, then records
// of a 16-byte header and caplen bytes of packet data, all in the byte order of the magic.
#include <algorithm>
#include <string>

#include "capture/reader_base.h"
#include "capture/readers.h"

namespace lastack::capture {
namespace {

constexpr std::size_t file_header_size = 24;
constexpr std::size_t record_header_size = 16;
// libpcap's sanity bound: a record longer than the larger of the file's snaplen and the
// largest snaplen libpcap ever uses (262144, MAXIMUM_SNAPLEN) can only be a corrupt length.
// 256 MiB is an absolute cap whatever snaplen the header claims.
constexpr std::uint32_t maximum_snaplen = 262144;
constexpr std::uint32_t absolute_record_cap = std::uint32_t{256} << 20;

class PcapReader final : public ReaderBase {
 public:
  PcapReader(InputBuffer buffer, InputInfo info, std::uint32_t input)
      : ReaderBase(std::move(buffer), std::move(info), input) {}

  Status read_file_header();
  bool next(RawFrame& out) override;

 private:
  [[nodiscard]] std::string where() const {
    return "record " + std::to_string(frame_no_ + 1) + " at byte " + std::to_string(buf_.offset());
  }
  bool oversized(std::uint32_t caplen);
  bool data_cut(std::uint32_t caplen);

  FileEndian endian_;
  std::int64_t frac_to_ns_ = 1000;  // µs file; 1 for the nanosecond magic
  std::uint32_t link_type_ = 0;
  std::uint32_t snaplen_ = 0;
  std::uint32_t caplen_limit_ = maximum_snaplen;
};

Status PcapReader::read_file_header() {
  if (!buf_.ensure(file_header_size)) {
    if (const Error* e = buf_.stream_error(); e != nullptr && e->code != ErrorCode::truncated) {
      return *e;
    }
    return make_error_at(ErrorCode::truncated, 0,
                         info_.path + ": pcap file header needs 24 bytes, only " +
                             std::to_string(buf_.available()) + " present");
  }
  const std::uint8_t* p = buf_.cur();
  const std::uint32_t magic_be = load_u32be(p);
  const bool big_endian = magic_be == pcap_magic_us || magic_be == pcap_magic_ns;
  endian_ = FileEndian::of(big_endian);
  const std::uint32_t magic = endian_.u32(p);
  frac_to_ns_ = magic == pcap_magic_ns ? 1 : 1000;

  const std::uint16_t major = endian_.u16(p + 4);
  const std::uint16_t minor = endian_.u16(p + 6);
  if (major != 2 || minor != 4) {
    return make_error_at(ErrorCode::unsupported, 4,
                         info_.path + ": pcap version " + std::to_string(major) + "." +
                             std::to_string(minor) + " is not supported (expected 2.4)");
  }
  snaplen_ = endian_.u32(p + 16);
  // The link-type field carries FCS information in its upper bits (libpcap pcap-common.h:
  // LT_FCS_LENGTH_PRESENT 0x04000000, LT_FCS_LENGTH 0xF0000000); the type is the low 16 bits.
  link_type_ = endian_.u32(p + 20) & 0xFFFFu;
  caplen_limit_ = std::min(std::max(snaplen_, maximum_snaplen), absolute_record_cap);
  note_link_type(link_type_);
  buf_.consume(file_header_size);
  info_.bytes_read = buf_.offset();
  return {};
}

bool PcapReader::next(RawFrame& out) {
  if (done_) return false;
  if (!buf_.ensure(record_header_size)) {
    return end_at_boundary(buf_.offset(), where(), record_header_size, "record header");
  }
  const std::uint32_t caplen = endian_.u32(buf_.cur() + 8);
  if (caplen > caplen_limit_) return oversized(caplen);
  if (!buf_.ensure(record_header_size + caplen)) return data_cut(caplen);

  const std::uint8_t* p = buf_.cur();
  const std::uint32_t seconds = endian_.u32(p);
  const std::uint32_t fraction = endian_.u32(p + 4);
  const std::uint32_t len = endian_.u32(p + 12);
  out.input = input_;
  out.frame_no = ++frame_no_;
  // Unsigned 32-bit seconds (good until 2106) times 1e9 stays below 2^63.
  out.ts = Timestamp{static_cast<std::int64_t>(seconds) * kNsPerSec +
                     static_cast<std::int64_t>(fraction) * frac_to_ns_};
  out.link_type = link_type_;
  out.interface_id = 0;
  // caplen > len happens in files from buggy writers; the wire length cannot be shorter than
  // what was captured, so take the larger.
  out.orig_len = std::max(len, caplen);
  out.offset = buf_.offset();
  out.bytes = ByteView(p + record_header_size, caplen);
  buf_.consume(record_header_size + caplen);
  info_.bytes_read = buf_.offset();
  return true;
}

bool PcapReader::oversized(std::uint32_t caplen) {
  return stop(make_error_at(ErrorCode::corrupt, buf_.offset(),
                            where() + ": captured length " + std::to_string(caplen) +
                                " exceeds the limit of " + std::to_string(caplen_limit_) +
                                " bytes (file snaplen " + std::to_string(snaplen_) +
                                "); the file is corrupt here"));
}

bool PcapReader::data_cut(std::uint32_t caplen) {
  const std::size_t have = buf_.available() - record_header_size;
  return cut_inside(buf_.offset(), where() + ": header says " + std::to_string(caplen) +
                                       " bytes, only " + std::to_string(have) + " remain");
}

}  // namespace

Result<std::unique_ptr<PacketSource>> open_pcap(InputBuffer buffer, InputInfo info,
                                                std::uint32_t input) {
  info.format = Format::pcap;
  auto reader = std::make_unique<PcapReader>(std::move(buffer), std::move(info), input);
  Status st = reader->read_file_header();
  if (!st) return st.error();
  return std::unique_ptr<PacketSource>(std::move(reader));
}

}  // namespace lastack::capture
