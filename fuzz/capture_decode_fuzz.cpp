// libFuzzer target: one input as a capture file in memory (pcap, pcapng, gzip or zstd), every
// frame read and decoded down to TCP. The readers and the decoder must never crash, never read
// outside their buffers and always end with a status, and an error always carries a message.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <vector>

#include "lastack/capture/packet_source.h"
#include "lastack/decode/decoded_packet.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace lastack;
  auto opened =
      capture::open_capture_memory(std::vector<std::uint8_t>(data, data + size), "fuzz.pcap", 0);
  if (!opened) {
    if (opened.error().message.empty()) std::abort();
    return 0;
  }
  capture::PacketSource& source = *opened.value();
  capture::RawFrame frame;
  decode::DecodedPacket pkt;
  std::uint64_t frames = 0;
  while (source.next(frame)) {
    ++frames;
    if (frame.frame_no != frames) std::abort();  // 1-based, no gaps
    decode::decode_frame(frame, pkt);
    if (pkt.outcome == decode::Outcome::tcp && pkt.tcp.captured_payload > pkt.tcp.payload_len) {
      std::abort();
    }
  }
  if (source.next(frame)) std::abort();  // stays at the end
  if (source.status() != capture::InputStatus::ok && source.error().message.empty()) std::abort();
  return 0;
}
