// The per-incarnation summary (detections.md §5): how one connection went and how it ended.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "lastack/core/ip_address.h"
#include "lastack/core/timestamp.h"

namespace lastack::findings {

enum class CloseKind : std::uint8_t { fin, half_closed, rst, abortive, open_at_end };
enum class Side : std::uint8_t { none, client, server, both };
enum class Vantage : std::uint8_t { unknown, near_client, near_server, in_path };

std::string_view to_string(CloseKind k);
std::string_view to_string(Side s);
std::string_view to_string(Vantage v);
bool parse_close_kind(std::string_view text, CloseKind& out);
bool parse_side(std::string_view text, Side& out);
bool parse_vantage(std::string_view text, Vantage& out);

// Counters for what one side sent.
struct SideCounts {
  std::uint64_t packets = 0;
  std::uint64_t bytes = 0;  // TCP payload bytes (from IP lengths)
  std::uint32_t syns = 0;
  std::uint32_t fins = 0;
  std::uint32_t rsts = 0;
};

struct ConnectionSummary {
  std::uint64_t id = 0;  // 1-based, in order of first packet
  IpAddress client_ip;
  IpAddress server_ip;
  std::uint16_t client_port = 0;
  std::uint16_t server_port = 0;
  std::uint32_t interface_id = 0;  // pcapng interface the traffic was seen on (first packet)
  std::uint16_t vlan = 0;          // innermost 802.1Q/802.1ad VLAN id; 0 = untagged
  std::uint32_t incarnation = 1;   // 1-based within the four-tuple
  std::uint32_t input = 0;         // where the first packet is
  std::uint64_t first_frame = 0;
  Timestamp first_ts;
  Timestamp last_ts;
  bool handshake_seen = false;  // SYN, SYN-ACK and the ACK of the SYN-ACK
  bool mid_stream = false;      // no SYN seen: the client is a guess
  CloseKind close_kind = CloseKind::open_at_end;
  Side active_closer = Side::none;
  Side time_wait_holder = Side::none;
  std::optional<Timestamp> time_wait_start;
  bool final_ack_seen = false;
  std::string client_final_state;  // RFC 9293 state names at the end of the capture
  std::string server_final_state;
  SideCounts client;
  SideCounts server;
  std::string history;  // Zeek-style: upper case client, lower case server
  Vantage vantage = Vantage::unknown;
  std::vector<std::uint64_t> finding_ids;
};

// A judged connection as the report sinks take it, in batches: its summary, and whether it has
// findings of its own (their database rows will point at its row).
struct JudgedConnection {
  const ConnectionSummary* summary = nullptr;
  bool has_findings = false;
};

}  // namespace lastack::findings
