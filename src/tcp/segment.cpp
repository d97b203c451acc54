#include "lastack/tcp/segment.h"

namespace lastack::tcp {

Segment make_segment(const capture::RawFrame& frame, const decode::DecodedPacket& pkt) {
  const decode::TcpHeader& h = pkt.tcp;
  Segment s;
  s.frame = FrameRef{frame.input, frame.frame_no};
  s.ts = frame.ts;
  s.seq = h.seq;
  s.ack = h.ack;
  s.len = h.payload_len;
  s.flags = h.flags;
  s.window = h.window;
  s.wscale = h.options.has_wscale
                 ? static_cast<std::int8_t>(h.options.wscale > 14 ? 14 : h.options.wscale)
                 : std::int8_t{-1};  // RFC 7323 §2.3: use 14 for larger values
  s.has_ts = h.options.has_timestamps;
  s.ts_val = h.options.ts_val;
  s.ts_ecr = h.options.ts_ecr;
  s.fast_open = h.options.has_fast_open;
  s.options_cut = !h.options_complete;
  s.ttl = pkt.ttl;
  s.ip_id = pkt.ip_id;
  s.checksum = h.checksum;
  return s;
}

}  // namespace lastack::tcp
