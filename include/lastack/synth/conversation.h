// Scripted TCP conversations with automatic sequence/ack tracking, for exact synthetic
// captures. Each call emits one packet (unless dropped) and returns its 1-based frame number.
//
//   Conversation c(client, server);
//   c.syn(Side::client); c.syn_ack(); c.ack(Side::client);
//   c.data(Side::client, 100); c.ack(Side::server);
//   c.fin(Side::server); c.ack(Side::client); c.fin(Side::client); c.ack(Side::server);
//
// Time advances by `step` per packet unless set with at()/after(). A segment sent with
// `.lost()` advances the sender's state but is not written to the capture (loss before the
// capture point).
#pragma once

#include <cstdint>
#include <optional>
#include <vector>

#include "lastack/core/ip_address.h"
#include "lastack/core/timestamp.h"
#include "lastack/synth/capture_writer.h"
#include "lastack/synth/frame_builder.h"

namespace lastack::synth {

enum class Side : std::uint8_t { client, server };

struct HostSpec {
  IpAddress ip;
  std::uint16_t port = 0;
  std::uint32_t isn = 0;
  std::uint8_t ttl = 64;
  bool timestamps = false;        // add RFC 7323 timestamps to every segment
  std::uint32_t ts_start = 1000;  // first TSval; advances 1 per ms of capture time
  std::uint16_t window = 64240;
  std::uint16_t ip_id_start = 1;  // IPv4 id of its first packet (a socket's random start)
};

struct Emit {
  bool lost = false;                  // do not write it (advance state only)
  std::optional<std::uint32_t> seq;   // override the sequence number
  std::optional<std::uint32_t> ack;   // override the ack number
  std::optional<std::uint8_t> flags;  // override flags entirely
  std::optional<std::uint16_t> ip_id;
};

class Conversation {
 public:
  Conversation(HostSpec client, HostSpec server,
               Timestamp start = Timestamp{1'700'000'000'000'000'000}, Link link = Link::ethernet);

  // Time control: absolute, relative, and the default step between packets.
  Conversation& at(Timestamp t);
  Conversation& after(Duration d);
  Conversation& step(Duration d);

  // Where later packets are seen: their 802.1Q tags (Ethernet only, outermost first; empty =
  // untagged) and the pcapng interface they are written on.
  Conversation& vlans(std::vector<std::uint16_t> ids);
  Conversation& interface(std::uint32_t id);

  std::uint64_t syn(Side from = Side::client, Emit e = {});  // SYN from client (or SYN-ACK-less)
  std::uint64_t syn_ack(Emit e = {});                        // server's SYN-ACK
  std::uint64_t ack(Side from, Emit e = {});                 // pure ACK of all received
  std::uint64_t data(Side from, std::uint32_t len, Emit e = {});      // PSH|ACK with payload
  std::uint64_t fin(Side from, Emit e = {});                          // FIN|ACK (no payload)
  std::uint64_t fin_data(Side from, std::uint32_t len, Emit e = {});  // FIN|PSH|ACK with payload
  std::uint64_t rst(Side from, Emit e = {});                          // RST|ACK at the next seq
  std::uint64_t rst_no_ack(Side from, Emit e = {});                   // bare RST (seq = next)
  // Re-sends the last FIN of `from` (same seq, same fin_seq).
  std::uint64_t retransmit_fin(Side from, Emit e = {});
  // Re-sends the last segment of `from` verbatim (retransmission or duplicate capture).
  std::uint64_t retransmit_last(Side from, Emit e = {});
  // Any segment: flags and lengths as given, seq/ack from state unless overridden.
  std::uint64_t segment(Side from, std::uint8_t flags, std::uint32_t len, Emit e = {});

  // The common exchanges, each returning the frame of its last packet:
  // SYN, SYN-ACK, ACK (RFC 9293 §3.5);
  std::uint64_t handshake();
  // a request of `request` bytes, a response of `response` bytes, the client's ACK of it;
  std::uint64_t exchange(std::uint32_t request, std::uint32_t response);
  // an orderly close begun by `first`: FIN, ACK, FIN, ACK (RFC 9293 §3.6, case 1).
  std::uint64_t close(Side first);

  // Next sequence number `from` will send, and the highest it has received from the peer.
  [[nodiscard]] std::uint32_t next_seq(Side from) const;
  [[nodiscard]] std::uint32_t rcv_next(Side of) const;
  [[nodiscard]] Timestamp now() const { return now_; }

  [[nodiscard]] const std::vector<SynthPacket>& packets() const { return packets_; }
  [[nodiscard]] Link link() const { return link_; }

 private:
  struct HostState {
    HostSpec spec;
    std::uint32_t snd_nxt = 0;
    std::uint32_t rcv_nxt = 0;
    std::uint32_t last_fin_seq = 0;  // seq of the last FIN segment sent
    std::uint32_t last_fin_len = 0;  // its payload length
    std::uint16_t ip_id = 1;
    TcpSegmentSpec last;  // last segment sent (for retransmit_last)
    bool has_last = false;
    bool fin_sent = false;
    bool rcv_init = false;        // has received a segment (rcv_nxt is meaningful)
    std::uint32_t ts_recent = 0;  // last TSval received from the peer (TSecr to send)
  };
  std::uint64_t emit(Side from, TcpSegmentSpec spec, const Emit& e, bool verbatim = false);
  HostState& host(Side s) { return s == Side::client ? client_ : server_; }
  HostState& peer(Side s) { return s == Side::client ? server_ : client_; }
  TcpSegmentSpec base_spec(Side from);

  HostState client_;
  HostState server_;
  Timestamp start_;
  Timestamp now_;
  Duration step_ = Duration::from_ms(1);
  bool first_ = true;
  Link link_;
  std::vector<std::uint16_t> vlans_;
  std::uint32_t interface_id_ = 0;
  std::vector<SynthPacket> packets_;
};

// Merges several conversations' packets into one time-ordered list (stable for equal times).
std::vector<SynthPacket> merge_by_time(const std::vector<const Conversation*>& parts);

}  // namespace lastack::synth
