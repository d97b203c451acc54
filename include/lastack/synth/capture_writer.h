// Writes synthetic packets as classic pcap (µs or ns, either byte order) or pcapng.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "lastack/core/timestamp.h"

namespace lastack::synth {

struct SynthPacket {
  Timestamp ts;
  std::vector<std::uint8_t> bytes;  // the full frame
  std::uint32_t orig_len = 0;       // 0 = bytes.size(); larger = snaplen-truncated
  std::uint32_t interface_id = 0;   // pcapng only
};

struct PcapOptions {
  bool nanosecond = false;
  bool big_endian = false;
  std::uint32_t link_type = 1;
  std::uint32_t snaplen = 262144;  // bytes beyond snaplen are cut and orig_len kept
};

struct PcapngInterface {
  std::uint32_t link_type = 1;
  std::uint8_t tsresol = 6;     // if_tsresol option value (6 = µs, 9 = ns, 0x80|n = 2^-n)
  std::int64_t tsoffset_s = 0;  // if_tsoffset option, seconds (0 = option omitted)
  std::uint32_t snaplen = 0;
  std::string name;
};

struct PcapngOptions {
  bool big_endian = false;
  std::vector<PcapngInterface> interfaces{PcapngInterface{}};
};

std::vector<std::uint8_t> write_pcap(const std::vector<SynthPacket>& packets,
                                     const PcapOptions& options = {});
std::vector<std::uint8_t> write_pcapng(const std::vector<SynthPacket>& packets,
                                       const PcapngOptions& options = {});
bool write_file(const std::string& path, const std::vector<std::uint8_t>& bytes);

}  // namespace lastack::synth
